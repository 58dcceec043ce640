/**
 * A compacted topic keeps the latest record per key, so a record without a key has no place in
 * it (Kafka refuses it with INVALID_RECORD, KIP-467). MQTT ingest must not PUBACK such a message
 * as stored: the cleaner would delete it later. It can never be stored, so it is a refusal
 * (counted, logged, dead-lettered if configured), not a retriable error the device retransmits.
 */
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { startMqtt } from '../../app/start-mqtt.js';
import { startNode, type RunningNode } from '../../app/start-node.js';
import type { MappingRule } from '../../firmware-bridge/mapping.js';
import { decodeRecords } from '../../protocol/record-batch.js';
import { parseMetrics } from '../helpers/metrics.js';
import { captureLogger, tempDir } from '../helpers/tmp.js';

const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
const RULES: MappingRule[] = [{ filter: 'state/#', topic: 'device-state', key: { from: 'none' } }];

function records(node: RunningNode, topic: string) {
  const log = node.topics.partition(topic, 0);
  return log.read(0, 1 << 24, { upTo: 'log-end' }).batches.flatMap((b) =>
    decodeRecords(b).map((r) => ({ key: dec(r.key), value: dec(r.value), headers: Object.fromEntries(r.headers.map((h) => [h.key, dec(h.value)])) })),
  );
}

async function setup(deadLetterTopic: string | null) {
  const { logger, lines } = captureLogger();
  const node = await startNode({ dataDir: tempDir(), logger });
  await node.topics.create({ name: 'device-state', partitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } });
  const bridge = await startMqtt(node, { port: 0, logger, rules: RULES, ingest: { deadLetterTopic } });
  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${bridge.port}`, { clientId: 'dev-1', reconnectPeriod: 0, protocolVersion: 4 });
  return {
    node,
    bridge,
    device,
    lines,
    metric: async (name: string, labels?: Record<string, string>) => parseMetrics(await node.metrics.registry.metrics()).value(name, labels),
    async close() {
      await device.endAsync();
      await bridge.close();
      await node.close();
    },
  };
}

describe('MQTT into a compacted topic without a key', () => {
  it('is acknowledged but not stored: dropped and counted as keyless-compacted, with a log line saying what to do', async () => {
    const t = await setup(null);
    await t.device.publishAsync('state/dev-1', 'on', { qos: 1 }); // resolves on PUBACK: no retransmission loop
    expect(records(t.node, 'device-state')).toEqual([]);
    expect(t.node.topics.partition('device-state', 0).logEndOffset).toBe(0);
    expect(t.bridge.ingest.stats.stored).toBe(0);
    expect(t.bridge.ingest.stats.dropped['keyless-compacted']).toBe(1);
    expect(await t.metric('eddy_mqtt_messages_dropped_total', { reason: 'keyless_compacted' })).toBe(1);
    const warn = t.lines.find((l) => l.level === 'warn' && /device-state/.test(l.msg));
    expect(warn?.msg).toMatch(/cleanup\.policy=compact/);
    expect(warn?.msg).toMatch(/give the mapping rule .*a key.*or set cleanup\.policy=delete/);
    await t.close();
  });

  it('goes to the dead-letter topic with the eddy.refused header when one is configured', async () => {
    const t = await setup('mqtt-refused');
    await t.device.publishAsync('state/dev-1', 'on', { qos: 1 });
    expect(records(t.node, 'device-state')).toEqual([]);
    const dlq = records(t.node, 'mqtt-refused');
    expect(dlq.map((r) => [r.key, r.value])).toEqual([['state/dev-1', 'on']]);
    expect(dlq[0]!.headers['eddy.refused']).toMatch(/^keyless-compacted: /);
    expect(t.bridge.ingest.stats.deadLettered).toBe(1);
    expect(t.bridge.ingest.stats.dropped['keyless-compacted']).toBe(0);
    expect(await t.metric('eddy_mqtt_messages_dead_lettered_total', { reason: 'keyless_compacted' })).toBe(1);
    await t.close();
  });

  it('is stored as before when the rule gives a key', async () => {
    const { logger } = captureLogger();
    const node = await startNode({ dataDir: tempDir(), logger });
    await node.topics.create({ name: 'device-state', partitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } });
    const bridge = await startMqtt(node, { port: 0, logger, rules: [{ filter: 'state/#', topic: 'device-state', key: { from: 'level', index: 2 } }] });
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${bridge.port}`, { clientId: 'dev-1', reconnectPeriod: 0, protocolVersion: 4 });
    await device.publishAsync('state/dev-1', 'on', { qos: 1 });
    expect(records(node, 'device-state').map((r) => [r.key, r.value])).toEqual([['dev-1', 'on']]);
    await device.endAsync();
    await bridge.close();
    await node.close();
  });
});
