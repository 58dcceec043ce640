import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { connect as tcpConnect } from 'node:net';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { startMqtt, type RunningMqtt } from '../../app/start-mqtt.js';
import type { MappingRule } from '../../firmware-bridge/mapping.js';
import { startNode, type RunningNode } from '../../app/start-node.js';
import { decodeRecords } from '../../protocol/record-batch.js';
import { waitFor } from '../helpers/client.js';
import { captureLogger, tempDir } from '../helpers/tmp.js';

const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

async function setup(rules?: MappingRule[], ingest: Parameters<typeof startMqtt>[1]['ingest'] = {}) {
  const { logger, lines } = captureLogger();
  const node = await startNode({ dataDir: tempDir(), logger });
  const bridge = await startMqtt(node, { port: 0, logger, ...(rules ? { rules } : {}), ingest });
  return { node, bridge, lines, url: `mqtt://127.0.0.1:${bridge.port}` };
}

async function teardown(node: RunningNode, bridge: RunningMqtt) {
  await bridge.close();
  await node.close();
}

/** Every record of a topic, all partitions, with the partition it is in. */
function records(node: RunningNode, topic: string) {
  const info = node.topics.get(topic);
  if (!info) return [];
  const out: { partition: number; key: string | null; value: string | null; headers: Record<string, string | null> }[] = [];
  for (let p = 0; p < info.partitions; p++) {
    for (const b of node.topics.partition(topic, p).read(0, 1 << 24).batches) {
      for (const r of decodeRecords(b)) {
        out.push({ partition: p, key: dec(r.key), value: dec(r.value), headers: Object.fromEntries(r.headers.map((h) => [h.key, dec(h.value)])) });
      }
    }
  }
  return out;
}

async function client(url: string, clientId: string) {
  const c = await mqtt.connectAsync(url, { clientId, reconnectPeriod: 0, protocolVersion: 4 });
  return c;
}

describe('embedded MQTT listener', () => {
  it('does not append a QoS 2 PUBLISH twice when its DUP arrives while the first copy is still being appended', async () => {
    const { node, bridge } = await setup();
    const sock = tcpConnect(bridge.port, '127.0.0.1');
    const received: Buffer[] = [];
    sock.on('data', (d: Buffer) => received.push(d));
    await new Promise((r) => sock.once('connect', r));
    sock.write(mqttConnect('race-tester'));
    await waitFor(() => Buffer.concat(received).includes(Buffer.from([0x20, 0x02]))); // CONNACK
    // One write: aedes handles both packets of the chunk concurrently.
    sock.write(Buffer.concat([mqttPublishQos2('race/topic', 'once', 9, false), mqttPublishQos2('race/topic', 'once', 9, true)]));
    await waitFor(() => countPubrec(received) >= 2);
    sock.write(Buffer.from([0x62, 0x02, 0x00, 0x09])); // PUBREL
    await waitFor(() => Buffer.concat(received).includes(Buffer.from([0x70, 0x02, 0x00, 0x09]))); // PUBCOMP
    expect(records(node, 'mqtt').map((r) => r.value)).toEqual(['once']);
    sock.destroy();
    await teardown(node, bridge);
  });

  it('stores QoS 0, 1 and 2 publishes as records with MQTT headers, keyed by topic by default', async () => {
    const { node, bridge, url } = await setup();
    const c = await client(url, 'device-1');
    await c.publishAsync('plant/line1/temp', '21.5', { qos: 1 });
    await c.publishAsync('plant/line1/temp', '21.6', { qos: 2 });
    await c.publishAsync('plant/line2/temp', '19.0', { qos: 0 });
    // QoS 0 has no ack: wait until it is there.
    await waitFor(() => records(node, 'mqtt').length >= 3, 'the QoS 0 record', 3000);
    const got = records(node, 'mqtt');
    expect(got.map((r) => [r.key, r.value]).sort()).toEqual([
      ['plant/line1/temp', '21.5'],
      ['plant/line1/temp', '21.6'],
      ['plant/line2/temp', '19.0'],
    ]);
    expect(got.find((r) => r.value === '21.6')!.headers).toEqual({
      'mqtt.topic': 'plant/line1/temp',
      'mqtt.qos': '2',
      'mqtt.retain': 'false',
      'mqtt.clientId': 'device-1',
    });
    await c.endAsync();
    await teardown(node, bridge);
  });

  it('acknowledges QoS 1 only when the record is already in the log', async () => {
    const { node, bridge, url } = await setup();
    const c = await client(url, 'device-2');
    for (let i = 0; i < 20; i++) {
      await c.publishAsync('acks/check', `n${i}`, { qos: 1 });
      // The PUBACK has arrived: the record must be readable right now, without waiting.
      expect(records(node, 'mqtt').map((r) => r.value)).toContain(`n${i}`);
    }
    await c.endAsync();
    await teardown(node, bridge);
  });

  it('maps by rules: key from a topic level or a JSON field, same device to the same partition, unmapped dropped and counted', async () => {
    const rules: MappingRule[] = [
      { filter: 'sensors/+/temp', topic: 'temps', key: { from: 'level', index: 2 }, partitions: 4 },
      { filter: 'events/#', topic: 'events', key: { from: 'json', field: 'device' }, partitions: 4 },
    ];
    const { node, bridge, url, lines } = await setup(rules);
    const c = await client(url, 'gw');
    for (const dev of ['a', 'b', 'c', 'a', 'b', 'a']) await c.publishAsync(`sensors/${dev}/temp`, `t-${dev}`, { qos: 1 });
    await c.publishAsync('events/door', JSON.stringify({ device: 'a', open: true }), { qos: 1 });
    await c.publishAsync('events/door', 'not json', { qos: 1 });
    await c.publishAsync('other/thing', 'x', { qos: 1 });
    const temps = records(node, 'temps');
    expect(temps).toHaveLength(6);
    const partitionOf = new Map<string, number>();
    for (const r of temps) {
      expect(r.key).toBe(r.value!.slice(2));
      if (partitionOf.has(r.key!)) expect(r.partition).toBe(partitionOf.get(r.key!));
      partitionOf.set(r.key!, r.partition);
    }
    expect(records(node, 'events').map((r) => r.key)).toEqual(['a']);
    expect(bridge.ingest.stats.dropped).toMatchObject({ 'bad-json': 1, unmapped: 1 });
    expect(lines.some((l) => l.level === 'warn' && /MQTT message dropped: no mapping rule matches MQTT topic "other\/thing"/.test(l.msg))).toBe(true);
    await c.endAsync();
    await teardown(node, bridge);
  });

  it('refuses messages for topics that do not exist when auto-create is off', async () => {
    const { node, bridge, url } = await setup([{ filter: 'a/#', topic: 'not-created', key: { from: 'none' } }], { autoCreateTopics: false });
    const c = await client(url, 'dev');
    await c.publishAsync('a/b', 'x', { qos: 1 });
    expect(node.topics.get('not-created')).toBeUndefined();
    expect(bridge.ingest.stats.dropped['topic-not-allowed']).toBe(1);
    await c.endAsync();
    await teardown(node, bridge);
  });

  it('sends unstorable messages to the dead-letter topic, with the reason, and still acknowledges them', async () => {
    const { node, bridge, url } = await setup([{ filter: 'j/#', topic: 'jsons', key: { from: 'json', field: 'id' } }], { deadLetterTopic: 'mqtt-dlq' });
    const c = await client(url, 'dev');
    await c.publishAsync('j/x', '{"id":', { qos: 1 });
    await c.publishAsync('nowhere', 'y', { qos: 1 });
    const dlq = records(node, 'mqtt-dlq');
    expect(dlq.map((r) => [r.key, r.value])).toEqual([
      ['j/x', '{"id":'],
      ['nowhere', 'y'],
    ]);
    expect(dlq[0]!.headers['eddy.refused']).toMatch(/^bad-json: /);
    expect(bridge.ingest.stats.deadLettered).toBe(2);
    await c.endAsync();
    await teardown(node, bridge);
  });

  it('does not append a QoS 2 PUBLISH twice when the device retransmits it (DUP) before PUBREL', async () => {
    const { node, bridge } = await setup();
    const sock = tcpConnect(bridge.port, '127.0.0.1');
    const received: Buffer[] = [];
    sock.on('data', (d: Buffer) => received.push(d));
    await new Promise((r) => sock.once('connect', r));
    sock.write(mqttConnect('dup-tester'));
    const publish = (dup: boolean) => sock.write(mqttPublishQos2('dup/topic', 'once', 7, dup));
    publish(false);
    await waitFor(() => countPubrec(received) >= 1);
    publish(true); // as if our PUBREC was lost
    await waitFor(() => countPubrec(received) >= 2);
    sock.write(Buffer.from([0x62, 0x02, 0x00, 0x07])); // PUBREL, packet id 7
    await waitFor(() => Buffer.concat(received).includes(Buffer.from([0x70, 0x02, 0x00, 0x07]))); // PUBCOMP
    expect(records(node, 'mqtt').map((r) => r.value)).toEqual(['once']);
    sock.destroy();
    await teardown(node, bridge);
  });
});

const mosquittoPub = spawnSync('sh', ['-c', 'command -v mosquitto_pub'], { encoding: 'utf8' }).stdout.trim();
if (!mosquittoPub) {
  // Loud on purpose: a silent skip would hide that the interop was not checked.
  console.warn('\n*** SKIPPING mosquitto_pub interop tests: mosquitto_pub is not installed (apt-get install mosquitto-clients; .ci/run does) ***\n');
}

describe.skipIf(!mosquittoPub)('interop: Debian mosquitto_pub → embedded listener', () => {
  it('stores what mosquitto_pub publishes at QoS 0, 1 and 2', async () => {
    const { node, bridge } = await setup();
    // Asynchronous: the listener runs in this process, so a synchronous spawn would deadlock.
    const run = promisify(execFile);
    for (const qos of [0, 1, 2]) {
      await run(mosquittoPub, ['-h', '127.0.0.1', '-p', String(bridge.port), '-V', 'mqttv311', '-i', `mosq-${qos}`, '-q', String(qos), '-t', `interop/q${qos}`, '-m', `hello ${qos}`], { timeout: 10_000 });
    }
    await waitFor(() => records(node, 'mqtt').length >= 3, 'three records (QoS 0 has no ack)', 3000);
    expect(records(node, 'mqtt').map((r) => [r.key, r.value, r.headers['mqtt.clientId']]).sort()).toEqual([
      ['interop/q0', 'hello 0', 'mosq-0'],
      ['interop/q1', 'hello 1', 'mosq-1'],
      ['interop/q2', 'hello 2', 'mosq-2'],
    ]);
    await teardown(node, bridge);
  });
});

// --- minimal MQTT 3.1.1 packets for the DUP test (spec §3.1, §3.3) -------------------------------

function mqttString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

function withFixedHeader(first: number, body: Buffer): Buffer {
  if (body.length > 127) throw new Error('test packets stay under 128 bytes');
  return Buffer.concat([Buffer.from([first, body.length]), body]);
}

function mqttConnect(clientId: string): Buffer {
  // protocol "MQTT", level 4, clean session, keep-alive 60 s
  const body = Buffer.concat([mqttString('MQTT'), Buffer.from([4, 0x02, 0, 60]), mqttString(clientId)]);
  return withFixedHeader(0x10, body);
}

function mqttPublishQos2(topic: string, payload: string, id: number, dup: boolean): Buffer {
  const body = Buffer.concat([mqttString(topic), Buffer.from([id >> 8, id & 0xff]), Buffer.from(payload)]);
  return withFixedHeader(0x34 | (dup ? 0x08 : 0), body);
}

function countPubrec(chunks: Buffer[]): number {
  const all = Buffer.concat(chunks);
  let n = 0;
  for (let i = all.indexOf(0x50); i >= 0; i = all.indexOf(0x50, i + 1)) if (all[i + 1] === 0x02) n++;
  return n;
}

