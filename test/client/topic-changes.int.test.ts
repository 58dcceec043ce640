/** Altering topic configs and adding partitions, through the client SDK and the raw protocol, against a real node. */
import { afterEach, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer, isEddyError, partitionForKey, type ConsumedRecord, type EddyError } from '../../gateway/client/index.js';
import { Apis } from '../../protocol/apis/index.js';
import { ConfigOperation } from '../../protocol/apis/incremental-alter-configs.js';
import { ERRORS } from '../../protocol/errors.js';
import { testNode } from '../helpers/node.js';
import { RawClient } from '../helpers/raw-client.js';
import { rejection } from '../helpers/client.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const node = await testNode();
  const admin = new Admin({ server: node.url });
  cleanups.push(() => admin.close());
  return { node, admin };
}

const configsOf = async (admin: Admin, topic: string) =>
  Object.fromEntries((await admin.describeTopics([topic]))[0]!.configs.map((c) => [c.name, `${c.value} (${c.source})`]));

describe('alter topic configs (IncrementalAlterConfigs)', () => {
  it('sets and deletes configs; describe shows the source; max.message.bytes applies to the next produce', async () => {
    const { node, admin } = await setup();
    await admin.createTopics([{ name: 't', partitions: 1, configs: { 'retention.bytes': '100000' } }]);
    await admin.alterTopicConfigs('t', { set: { 'retention.ms': '60000', 'max.message.bytes': '1024' }, delete: ['retention.bytes'] });
    expect(await configsOf(admin, 't')).toMatchObject({
      'retention.ms': '60000 (topic)',
      'max.message.bytes': '1024 (topic)',
      'retention.bytes': '-1 (default)',
      'cleanup.policy': 'delete (default)',
    });

    const p = new Producer({ server: node.url, lingerMs: 0 });
    cleanups.push(() => p.close());
    const tooBig = (await rejection(p.send({ topic: 't', value: 'x'.repeat(2000) }))) as EddyError;
    expect(tooBig.errorName).toBe('MESSAGE_TOO_LARGE');
    await admin.alterTopicConfigs('t', { delete: ['max.message.bytes'] });
    expect(await configsOf(admin, 't')).toMatchObject({ 'max.message.bytes': '1048588 (default)' });
    await expect(p.send({ topic: 't', value: 'x'.repeat(2000) })).resolves.toMatchObject({ partition: 0 });
  });

  it('refuses bad entries (naming each), internal topics and unknown topics; validateOnly changes nothing', async () => {
    const { admin } = await setup();
    await admin.createTopics([{ name: 't', partitions: 1 }]);
    const bad = (await rejection(admin.alterTopicConfigs('t', { set: { 'retention.ms': 'soon', 'segment.ms': '1' } }))) as EddyError;
    expect(bad.errorName).toBe('INVALID_CONFIG');
    expect(bad.message).toMatch(/alter configs of topic t: retention\.ms=soon must be an integer ≥ -1; unknown config "segment\.ms"/);
    const internal = (await rejection(admin.alterTopicConfigs('__consumer_offsets', { set: { 'retention.ms': '1' } }))) as EddyError;
    expect(internal.errorName).toBe('INVALID_TOPIC_EXCEPTION');
    expect(internal.message).toMatch(/"__consumer_offsets" is an internal topic/);
    expect(isEddyError(await rejection(admin.alterTopicConfigs('nope', { set: { 'retention.ms': '1' } })), 'UNKNOWN_TOPIC_OR_PARTITION')).toBe(true);
    await admin.alterTopicConfigs('t', { set: { 'retention.ms': '1' } }, { validateOnly: true });
    expect(await configsOf(admin, 't')).toMatchObject({ 'retention.ms': '604800000 (default)' });
  });

  it('on the wire: APPEND/SUBTRACT and a SET without value are INVALID_CONFIG, unknown operations and repeated names INVALID_REQUEST', async () => {
    const { node, admin } = await setup();
    await admin.createTopics([{ name: 't', partitions: 1 }]);
    const raw = await RawClient.connect(node.url);
    cleanups.push(() => raw.close());
    const alter = async (configs: { name: string; operation: number; value: string | null }[]) => {
      const res = await raw.call(Apis.IncrementalAlterConfigs.key, { topics: [{ name: 't', configs }], validateOnly: false });
      return res.topics[0] as { errorCode: number; errorMessage: string | null };
    };
    expect(await alter([{ name: 'cleanup.policy', operation: ConfigOperation.APPEND, value: 'compact' }])).toMatchObject({
      errorCode: ERRORS.INVALID_CONFIG.code,
      errorMessage: expect.stringMatching(/use SET \(0\) or DELETE \(1\)/),
    });
    expect(await alter([{ name: 'retention.ms', operation: ConfigOperation.SET, value: null }])).toMatchObject({ errorCode: ERRORS.INVALID_CONFIG.code });
    expect(await alter([{ name: 'retention.ms', operation: 9, value: '1' }])).toMatchObject({ errorCode: ERRORS.INVALID_REQUEST.code });
    expect(
      await alter([
        { name: 'retention.ms', operation: ConfigOperation.SET, value: '1' },
        { name: 'retention.ms', operation: ConfigOperation.DELETE, value: null },
      ]),
    ).toMatchObject({ errorCode: ERRORS.INVALID_REQUEST.code, errorMessage: expect.stringMatching(/appears more than once/) });
    expect(await alter([{ name: 'retention.ms', operation: ConfigOperation.SET, value: '5' }])).toMatchObject({ errorCode: 0, errorMessage: null });
    expect(await configsOf(admin, 't')).toMatchObject({ 'retention.ms': '5 (topic)' });
  });
});

describe('add partitions (CreatePartitions)', () => {
  it('adds partitions, never removes them, and refuses internal topics', async () => {
    const { admin } = await setup();
    await admin.createTopics([{ name: 't', partitions: 2 }]);
    await admin.createPartitions('t', 6);
    expect((await admin.describeTopics(['t']))[0]!.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3, 4, 5]);
    const fewer = (await rejection(admin.createPartitions('t', 3))) as EddyError;
    expect(fewer.errorName).toBe('INVALID_PARTITIONS');
    expect(fewer.message).toMatch(/topic t has 6 partitions; partitions can only be added, never removed/);
    expect(isEddyError(await rejection(admin.createPartitions('t', 1001)), 'INVALID_PARTITIONS')).toBe(true);
    expect(isEddyError(await rejection(admin.createPartitions('__consumer_offsets', 60)), 'INVALID_TOPIC_EXCEPTION')).toBe(true);
    await admin.createPartitions('t', 9, { validateOnly: true });
    expect((await admin.describeTopics(['t']))[0]!.partitions).toHaveLength(6);
  });

  it('a producer uses the new partitions once its cached count is older than metadataMaxAgeMs', async () => {
    const { node, admin } = await setup();
    await admin.createTopics([{ name: 't', partitions: 1 }]);
    const p = new Producer({ server: node.url, lingerMs: 0, metadataMaxAgeMs: 200 });
    cleanups.push(() => p.close());
    const keys = Array.from({ length: 12 }, (_, i) => `device-${i}`);
    expect((await p.send({ topic: 't', key: keys[0]!, value: 'before' })).partition).toBe(0);
    await admin.createPartitions('t', 4);
    // Within the cache age the producer still hashes over one partition.
    expect((await p.send({ topic: 't', key: keys[1]!, value: 'cached' })).partition).toBe(0);
    // A sleep: the cache age is the thing under test, and the producer's cache reads the wall clock.
    await new Promise((r) => setTimeout(r, 250));
    const sent = await Promise.all(keys.map((key) => p.send({ topic: 't', key, value: 'after' })));
    expect(sent.map((s) => s.partition)).toEqual(keys.map((k) => partitionForKey(new TextEncoder().encode(k), 4)));
    expect(new Set(sent.map((s) => s.partition)).size).toBeGreaterThan(1);
  });

  it('a group member subscribed to the topic is given the new partitions and reads from them', async () => {
    const { node, admin } = await setup();
    await admin.createTopics([{ name: 't', partitions: 1 }]);
    const c = new Consumer({ server: node.url, groupId: 'g', autoOffsetReset: 'earliest', maxWaitMs: 100, sessionTimeoutMs: 2000 });
    cleanups.push(() => c.close());
    await c.subscribe(['t']);
    const seen: ConsumedRecord[] = [];
    const pollUntil = async (cond: () => boolean, what: string) => {
      const end = Date.now() + 5000;
      while (!cond()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        seen.push(...(await c.poll({ timeoutMs: 50 })));
      }
    };
    await pollUntil(() => c.assignment().length === 1, 'partition 0');
    await admin.createPartitions('t', 3);
    await pollUntil(() => c.assignment().length === 3, 'partitions 0-2');
    expect(c.assignment().map((tp) => tp.partition).sort()).toEqual([0, 1, 2]);
    const p = new Producer({ server: node.url, lingerMs: 0 });
    cleanups.push(() => p.close());
    await p.send({ topic: 't', partition: 2, value: 'on-new-partition' });
    await pollUntil(() => seen.some((r) => r.partition === 2), 'the record on partition 2');
    expect(seen.find((r) => r.partition === 2)).toMatchObject({ topic: 't', offset: 0 });
  });
});
