import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EddyError } from '../../protocol/errors.js';
import { LogStore } from '../../node/storage/log-store.js';
import { applyTopicConfigChanges, describeTopicConfig } from '../../node/topics/topic-config.js';
import { TopicManager } from '../../node/topics/topic-manager.js';
import { batchOf, sizedBatch } from '../helpers/batches.js';
import { failure, failureOf } from '../helpers/failure.js';
import { captureLogger, tempDir } from '../helpers/tmp.js';

async function open(path: string) {
  const store = await LogStore.open({ path });
  const tm = await TopicManager.open(store, captureLogger().logger);
  return { store, tm };
}

describe('applyTopicConfigChanges', () => {
  it('sets, normalises and deletes, leaving the others as they were', () => {
    const next = applyTopicConfigChanges(
      { 'retention.ms': '1000', 'retention.bytes': '5000' },
      { set: { 'cleanup.policy': 'delete,compact', 'retention.ms': '2000' }, delete: ['retention.bytes', 'min.insync.replicas'] },
    );
    expect(next).toEqual({ 'retention.ms': '2000', 'cleanup.policy': 'compact,delete' });
    expect(describeTopicConfig(next)).toContainEqual({ name: 'retention.bytes', value: '-1', source: 'default' });
  });

  it('names every bad entry at once, set or deleted, and refuses a config both set and deleted', () => {
    const msg = failureOf(() => applyTopicConfigChanges({}, { set: { 'retention.ms': 'soon', 'segment.ms': '1' }, delete: ['bogus'] }));
    expect(msg).toMatch(/^INVALID_CONFIG: /);
    expect(msg).toMatch(/retention\.ms=soon must be an integer/);
    expect(msg).toMatch(/unknown config "segment\.ms"/);
    expect(msg).toMatch(/unknown config "bogus"/);
    expect(failureOf(() => applyTopicConfigChanges({}, { set: { 'retention.ms': '1' }, delete: ['retention.ms'] }))).toMatch(
      /^INVALID_REQUEST: config retention\.ms is both set and deleted/,
    );
  });
});

describe('TopicManager.alterConfigs', () => {
  it('persists (across a restart), reverts deleted configs to the default, and emits change', async () => {
    const path = join(tempDir(), 'log.db');
    let { store, tm } = await open(path);
    await tm.create({ name: 't', partitions: 2, replicationFactor: 1, configs: { 'retention.bytes': '4096' } });
    let changes = 0;
    tm.events.on('change', () => changes++);
    const info = await tm.alterConfigs('t', { set: { 'retention.ms': '60000' }, delete: ['retention.bytes'] });
    expect(info.configs).toEqual({ 'retention.ms': '60000' });
    expect(tm.get('t')!.configs).toEqual({ 'retention.ms': '60000' });
    expect(changes).toBe(1);
    await store.close();

    ({ store, tm } = await open(path));
    expect(tm.get('t')!.configs).toEqual({ 'retention.ms': '60000' });
    await store.close();
  });

  it('applies a new max.message.bytes to the next append, on every partition', async () => {
    const { store, tm } = await open(join(tempDir(), 'log.db'));
    await tm.create({ name: 't', partitions: 2, replicationFactor: 1 });
    const big = sizedBatch(1, 3000);
    await tm.partition('t', 0).append([sizedBatch(1, 3000)]);
    await tm.alterConfigs('t', { set: { 'max.message.bytes': '2048' } });
    for (const p of [0, 1]) expect(await failure(tm.partition('t', p).append([big]))).toMatch(/^MESSAGE_TOO_LARGE: /);
    await tm.alterConfigs('t', { delete: ['max.message.bytes'] });
    expect(await failure(tm.partition('t', 1).append([sizedBatch(1, 3000)]))).toBe('ok');
    await store.close();
  });

  it('validateOnly changes nothing; bad changes change nothing; internal and unknown topics are refused', async () => {
    const { store, tm } = await open(join(tempDir(), 'log.db'));
    await tm.create({ name: 't', partitions: 1, replicationFactor: 1 });
    await tm.create({ name: '__consumer_offsets', partitions: 1, replicationFactor: 1 }, { internal: true });
    let changes = 0;
    tm.events.on('change', () => changes++);
    expect((await tm.alterConfigs('t', { set: { 'retention.ms': '1' } }, { validateOnly: true })).configs).toEqual({ 'retention.ms': '1' });
    expect(await failure(tm.alterConfigs('t', { set: { 'retention.ms': '1', 'max.message.bytes': '1' } }))).toMatch(
      /^INVALID_CONFIG: max\.message\.bytes=1 must be an integer ≥ 64$/,
    );
    expect(tm.get('t')!.configs).toEqual({});
    expect(await failure(tm.alterConfigs('__consumer_offsets', { set: { 'retention.ms': '1' } }))).toMatch(
      /^INVALID_TOPIC_EXCEPTION: "__consumer_offsets" is an internal topic: the node manages its configs/,
    );
    expect(await failure(tm.alterConfigs('nope', { set: { 'retention.ms': '1' } }))).toBe('UNKNOWN_TOPIC_OR_PARTITION: topic "nope" does not exist');
    expect(changes).toBe(0);
    await store.close();
  });
});

describe('TopicManager.addPartitions', () => {
  it('adds partitions (persisted, with the topic max.message.bytes), keeps the old records, emits change', async () => {
    const path = join(tempDir(), 'log.db');
    let { store, tm } = await open(path);
    await tm.create({ name: 't', partitions: 2, replicationFactor: 1, configs: { 'max.message.bytes': '2048' } });
    await tm.partition('t', 1).append([batchOf(3)]);
    let changes = 0;
    tm.events.on('change', () => changes++);
    expect((await tm.addPartitions('t', 5)).partitions).toBe(5);
    expect(changes).toBe(1);
    expect(tm.get('t')!.partitions).toBe(5);
    expect(tm.partition('t', 4).config.maxBatchBytes).toBe(2048);
    expect(tm.partition('t', 1).logEndOffset).toBe(3);
    await tm.partition('t', 4).append([batchOf(2)]);
    expect(failureOf(() => tm.partition('t', 5))).toMatch(/has partitions 0-4, not 5/);
    await store.close();

    ({ store, tm } = await open(path));
    expect(tm.get('t')!.partitions).toBe(5);
    expect(tm.partition('t', 4).logEndOffset).toBe(2);
    expect(store.listPartitions().filter((p) => p.topic === 't')).toHaveLength(5);
    await store.close();
  });

  it('never removes partitions, keeps to the limit, and refuses internal and unknown topics, changing nothing', async () => {
    const { store, tm } = await open(join(tempDir(), 'log.db'));
    await tm.create({ name: 't', partitions: 6, replicationFactor: 1 });
    await tm.create({ name: '__consumer_offsets', partitions: 1, replicationFactor: 1 }, { internal: true });
    expect(await failure(tm.addPartitions('t', 4))).toBe('INVALID_PARTITIONS: topic t has 6 partitions; partitions can only be added, never removed');
    expect(await failure(tm.addPartitions('t', 6))).toMatch(/^INVALID_PARTITIONS: topic t already has 6 partitions/);
    expect(await failure(tm.addPartitions('t', 1001))).toMatch(/^INVALID_PARTITIONS: 1001 partitions requested for topic t; use 7 to 1000/);
    expect(await failure(tm.addPartitions('t', 7.5))).toMatch(/^INVALID_PARTITIONS: /);
    expect(await failure(tm.addPartitions('__consumer_offsets', 3))).toMatch(/^INVALID_TOPIC_EXCEPTION: .*internal topic/);
    expect(await failure(tm.addPartitions('nope', 3))).toMatch(/^UNKNOWN_TOPIC_OR_PARTITION/);
    expect((await tm.addPartitions('t', 8, { validateOnly: true })).partitions).toBe(8);
    expect(tm.get('t')!.partitions).toBe(6);
    expect(store.listPartitions().filter((p) => p.topic === 't')).toHaveLength(6);
    await store.close();
  });

  it('after a crash between the topic row and the new logs, open() creates the missing partitions', async () => {
    const path = join(tempDir(), 'log.db');
    let { store, tm } = await open(path);
    await tm.create({ name: 't', partitions: 2, replicationFactor: 1 });
    // What addPartitions writes first (synced), and nothing after it: the crash window.
    await store.submit([{ sql: 'UPDATE eddy_topics SET partitions = 4 WHERE name = ?', args: ['t'] }], { sync: true });
    await store.close();

    ({ store, tm } = await open(path));
    expect(tm.get('t')!.partitions).toBe(4);
    expect(store.listPartitions().filter((p) => p.topic === 't')).toHaveLength(4);
    await tm.partition('t', 3).append([batchOf(1)]);
    await store.close();
  });

  it('runs concurrent increases and deletes one at a time: the topic is never brought back', async () => {
    const { store, tm } = await open(join(tempDir(), 'log.db'));
    await tm.create({ name: 't', partitions: 1, replicationFactor: 1 });
    const results = await Promise.allSettled([tm.addPartitions('t', 3), tm.addPartitions('t', 5), tm.delete('t'), tm.addPartitions('t', 9)]);
    expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as EddyError).errorName))).toEqual([
      'ok',
      'ok',
      'ok',
      'UNKNOWN_TOPIC_OR_PARTITION',
    ]);
    expect(tm.get('t')).toBeUndefined();
    expect(store.listPartitions()).toEqual([]);
    await store.close();
  });
});
