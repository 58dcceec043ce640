import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, connect as tcpConnect } from 'node:net';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { BrokerBridge } from '../../firmware-bridge/broker-bridge.js';
import { createTopicThroughController } from '../../node/broker/node-topics.js';
import { MqttIngest } from '../../firmware-bridge/ingest.js';
import { TopicMapper } from '../../firmware-bridge/mapping.js';
import { startNode, type RunningNode } from '../../app/start-node.js';
import { decodeRecords } from '../../protocol/record-batch.js';
import { waitFor, waitForAsync } from '../helpers/client.js';
import { eddy, eddyStart } from '../helpers/eddy-process.js';
import { captureLogger, tempDir } from '../helpers/tmp.js';

const mosquittoBin =
  spawnSync('sh', ['-c', 'command -v mosquitto || ls /usr/sbin/mosquitto 2>/dev/null'], { encoding: 'utf8' }).stdout.trim().split('\n')[0] ?? '';
if (!mosquittoBin) {
  console.warn('\n*** SKIPPING mosquitto bridge interop tests: mosquitto is not installed (apt-get install mosquitto; .ci/run does) ***\n');
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A real mosquitto on a free loopback port, stopped when the test ends. */
async function startMosquitto(): Promise<{ url: string; proc: ChildProcess; stop(): void }> {
  const port = await freePort();
  const proc = spawn(mosquittoBin, ['-p', String(port)], { stdio: 'ignore' });
  const listening = () =>
    new Promise<boolean>((resolve) => {
      const s = tcpConnect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
  await waitForAsync(listening, `mosquitto to listen on ${port}`, 5000);
  return { url: `mqtt://127.0.0.1:${port}`, proc, stop: () => proc.kill('SIGTERM') };
}

const RULES = [
  { filter: 'sensors/+/temp', topic: 'sensors', key: { from: 'level' as const, index: 2 } },
  { filter: 'sensors/probe/+', topic: 'probes', key: { from: 'topic' as const } },
];

async function startEddyWithBridge(dataDir: string, brokerUrl: string) {
  const { logger } = captureLogger();
  const node = await startNode({ dataDir, logger });
  const ingest = new MqttIngest(node.topics, node.replicas, new TopicMapper(RULES), logger, { createTopic: (spec) => createTopicThroughController(node.broker.ctx, spec) });
  const bridge = BrokerBridge.start({ url: brokerUrl, topics: ['sensors/#'], clientId: 'eddy-bridge-test', ingest, logger, reconnectInitialMs: 100 });
  return { node, bridge };
}

function storedValues(node: RunningNode, topic = 'sensors'): string[] {
  const out: string[] = [];
  const info = node.topics.get(topic);
  if (!info) return out;
  for (let p = 0; p < info.partitions; p++) {
    for (const b of node.topics.partition(topic, p).read(0, 1 << 24).batches) {
      for (const r of decodeRecords(b)) out.push(new TextDecoder().decode(r.value!));
    }
  }
  return out;
}

let probes = 0;
/**
 * Publishes a probe under the bridge's subscription (its own rule and Eddy topic, so the sensor
 * records stay as they are) until the bridge has stored it: then the subscription is in place.
 * At QoS 1 mosquitto delivers it behind whatever it still holds for the bridge's session, so once
 * it is stored, so is everything published before it.
 */
async function probeThrough(device: mqtt.MqttClient, node: RunningNode, what: string): Promise<void> {
  const payload = `probe-${probes++}`;
  let sentAt = -Infinity;
  await waitForAsync(
    async () => {
      if (storedValues(node, 'probes').includes(payload)) return true;
      // Again every 50 ms: a probe published before the subscription existed is lost.
      if (Date.now() - sentAt >= 50) {
        sentAt = Date.now();
        await device.publishAsync('sensors/probe/ping', payload, { qos: 1 });
      }
      return false;
    },
    what,
    10_000,
  );
}

describe.skipIf(!mosquittoBin)('interop: bridge from a real mosquitto broker', () => {
  it('delivers every QoS 1 message exactly as published, including those published while Eddy was down', async () => {
    const broker = await startMosquitto();
    const dataDir = tempDir();
    try {
      const device = await mqtt.connectAsync(broker.url, { clientId: 'sensor-gw', protocolVersion: 4 });
      let eddy = await startEddyWithBridge(dataDir, broker.url);
      await waitFor(() => eddy.bridge.connected, 'the bridge to connect', 10_000);
      await probeThrough(device, eddy.node, 'the bridge’s subscription to be in place');
      const sent: string[] = [];
      const publish = async (i: number) => {
        const payload = `{"seq":${i},"celsius":${(20 + i / 10).toFixed(1)}}`;
        sent.push(payload);
        await device.publishAsync('sensors/dev1/temp', payload, { qos: 1 });
      };
      for (let i = 0; i < 10; i++) await publish(i);
      await waitFor(() => storedValues(eddy.node).length === 10, '10 records while Eddy is up', 10_000);

      // Eddy goes away; the device keeps publishing; mosquitto queues for the bridge's session.
      await eddy.bridge.close();
      await eddy.node.close();
      for (let i = 10; i < 30; i++) await publish(i);

      eddy = await startEddyWithBridge(dataDir, broker.url);
      await waitFor(() => storedValues(eddy.node).length >= 30, 'the queued messages after the restart', 10_000);
      // Anything mosquitto still had for the bridge (a redelivered duplicate) is stored by now.
      await probeThrough(device, eddy.node, 'a probe behind the queued messages');
      expect(storedValues(eddy.node)).toEqual(sent); // all of them, once each, in order, byte for byte
      await device.endAsync();
      await eddy.bridge.close();
      await eddy.node.close();
    } finally {
      broker.stop();
    }
  }, 60_000);

  it('runs from the CLI: eddy start --mqtt-bridge … --mqtt-bridge-topic …', async () => {
    const broker = await startMosquitto();
    try {
      const node = await eddyStart(['--data-dir', tempDir(), '--port', '0', '--mqtt-bridge', broker.url, '--mqtt-bridge-topic', 'plant/#']);
      expect(node.output()).toMatch(new RegExp(`bridge: +${broker.url.replace(/[/.]/g, '\\$&')} topics plant/# as client eddy-.+-bridge-0`));
      const device = await mqtt.connectAsync(broker.url, { clientId: 'plc', protocolVersion: 4 });
      // The bridge subscribes right after connecting; publish until the first message lands.
      let got = '';
      for (let i = 0; i < 50 && !got.includes('ready'); i++) {
        await device.publishAsync('plant/press/state', 'ready', { qos: 1 });
        got = (await eddy(['consume', 'mqtt', '--from-beginning', '--timeout-ms', '300'], { env: { EDDY_SERVER: node.url } })).out;
      }
      expect(got).toContain('ready');
      await device.endAsync();
      expect(await node.stop('SIGTERM')).toBe(0);
    } finally {
      broker.stop();
    }
  }, 60_000);
});
