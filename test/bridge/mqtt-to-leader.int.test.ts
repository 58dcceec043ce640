/**
 * MQTT into a cluster: a device publishes to one node's embedded listener, and each record lands
 * on the node that leads its mapped partition (sent there over the peer link as a Produce with
 * acks=all); the device's PUBACK comes only once the leader has the record. While that leader is
 * down the device gets no PUBACK for its partition's records (the connection closes; it sends
 * them again after reconnecting), and records for partitions of live nodes keep being stored.
 */
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { startMqtt } from '../../app/start-mqtt.js';
import type { MappingRule } from '../../firmware-bridge/mapping.js';
import type { RunningNode, StartNodeOptions } from '../../app/start-node.js';
import { Admin } from '../../gateway/client/index.js';
import { partitionForKey } from '../../protocol/partitioner.js';
import { decodeRecords } from '../../protocol/record-batch.js';
import { silentLogger } from '../../node/logger.js';
import { peerNodes, until } from '../helpers/peers.js';

const OPTIONS: Partial<StartNodeOptions> = { peerHandlers: undefined, brokerHeartbeatIntervalMs: 100, brokerSessionTimeoutMs: 1_500 };
const RULES: MappingRule[] = [{ filter: 'plant/+/temp', topic: 'temps', key: { from: 'level', index: 2 }, partitions: 3 }];
const utf8 = new TextEncoder();

/** The values stored in `topic`-`partition` on `node` (its leader), in offset order. */
function stored(node: RunningNode, topic: string, partition: number): string[] {
  if (!node.topics.leads(topic, partition)) return [];
  return node.topics
    .partition(topic, partition)
    .read(0, 1 << 24, { upTo: 'log-end' })
    .batches.flatMap((b) => decodeRecords(b).map((r) => new TextDecoder().decode(r.value!)));
}

describe('MQTT into a cluster', () => {
  it('stores each record on its partition leader, acknowledging the device only then', async () => {
    const { nodes } = await peerNodes(3, { options: () => OPTIONS });
    const mqttNode = nodes[0]!;
    const listener = await startMqtt(mqttNode, { port: 0, rules: RULES, logger: silentLogger });
    let device: mqtt.MqttClient | undefined;
    try {
      await until('every node registered and unfenced', () => nodes.every((n) => [1, 2, 3].every((id) => n.quorum.image.brokers.get(id)?.fenced === false)), 20_000);
      const admin = new Admin({ server: mqttNode.url, requestTimeoutMs: 10_000 });
      await admin.createTopics([{ name: 'temps', partitions: 3 }]);
      await admin.close();
      await until('temps in every image', () => nodes.every((n) => n.topics.get('temps')?.partitions === 3));
      const leaderOf = (p: number): number => mqttNode.quorum.image.topicsById.get(mqttNode.quorum.image.topicIdsByName.get('temps')!)!.partitions.get(p)!.leader;
      // Keys whose partitions are led by each node, so that records cross the peer links.
      const keyFor = new Map<number, string>();
      for (let i = 0; keyFor.size < 3 && i < 1000; i++) {
        const key = `press${i}`;
        const leader = leaderOf(partitionForKey(utf8.encode(key), 3));
        if (!keyFor.has(leader)) keyFor.set(leader, key);
      }
      expect([...keyFor.keys()].sort()).toEqual([1, 2, 3]);

      device = await mqtt.connectAsync(`mqtt://127.0.0.1:${listener.port}`, { clientId: 'plc-1', protocolVersion: 4, reconnectPeriod: 0 });
      for (const [leader, key] of keyFor) {
        // publishAsync at QoS 1 resolves on the PUBACK: the record is on its leader by then.
        await device.publishAsync(`plant/${key}/temp`, `21.5 from ${key}`, { qos: 1 });
        const p = partitionForKey(utf8.encode(key), 3);
        expect(stored(nodes[leader - 1]!, 'temps', p)).toEqual([`21.5 from ${key}`]);
        for (const other of nodes.filter((n) => n.cluster.nodeId !== leader)) expect(stored(other, 'temps', p)).toEqual([]);
      }

      // The leader of one partition goes away: no PUBACK for its records (the listener closes the
      // connection, as for any refused append, and the device sends again after reconnecting);
      // the records of the other partitions still land.
      const downId = [...keyFor.keys()].find((id) => id !== 1)!;
      await nodes[downId - 1]!.close();
      let acked = false;
      const closed = new Promise<void>((r) => device!.once('close', () => r()));
      void device.publishAsync(`plant/${keyFor.get(downId)}/temp`, 'while its leader is down', { qos: 1 }).then(() => (acked = true), () => {});
      await closed;
      expect(acked).toBe(false);
      device.end(true);
      device = await mqtt.connectAsync(`mqtt://127.0.0.1:${listener.port}`, { clientId: 'plc-1', protocolVersion: 4, reconnectPeriod: 0 });
      const liveKey = keyFor.get(1)!;
      await device.publishAsync(`plant/${liveKey}/temp`, 'still flowing', { qos: 1 });
      expect(stored(mqttNode, 'temps', partitionForKey(utf8.encode(liveKey), 3))).toEqual([`21.5 from ${liveKey}`, 'still flowing']);
    } finally {
      device?.end(true);
      await listener.close();
      for (const n of nodes) await n.close().catch(() => {});
    }
  }, 60_000);
});
