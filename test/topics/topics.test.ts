import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isEddyError } from '../../protocol/errors.js';
import { LogStore } from '../../node/storage/log-store.js';
import { describeTopicConfig, resolveTopicConfig, validateTopicConfigs } from '../../node/topics/topic-config.js';
import { TopicManager } from '../../node/topics/topic-manager.js';
import { validateTopicName } from '../../node/topics/topic-name.js';
import { batchOf } from '../helpers/batches.js';
import { failureOf } from '../helpers/failure.js';
import { captureLogger, tempDir } from '../helpers/tmp.js';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return isEddyError(err) ? err.errorName : String(err);
  }
  return 'ok';
}

describe('topic names (Kafka rules)', () => {
  it('accepts legal names and refuses the rest with the reason', () => {
    for (const ok of ['orders', 'a', 'sensor.temp_v2-eu', 'x'.repeat(249)]) expect(failureOf(() => validateTopicName(ok))).toBe('ok');
    expect(failureOf(() => validateTopicName(''))).toMatch(/INVALID_TOPIC_EXCEPTION: .* is empty/);
    expect(failureOf(() => validateTopicName('x'.repeat(250)))).toMatch(/250 characters; the limit is 249/);
    expect(failureOf(() => validateTopicName('.'))).toMatch(/reserved/);
    expect(failureOf(() => validateTopicName('..'))).toMatch(/reserved/);
    expect(failureOf(() => validateTopicName('a/b'))).toMatch(/may only contain/);
    expect(failureOf(() => validateTopicName('temp °C'))).toMatch(/may only contain/);
    expect(failureOf(() => validateTopicName('__consumer_offsets'))).toMatch(/reserved for internal topics/);
    expect(failureOf(() => validateTopicName('__consumer_offsets', { internal: true }))).toBe('ok');
  });
});

describe('topic configs', () => {
  it('validates names and values, reporting every problem at once', () => {
    expect(validateTopicConfigs({ 'retention.ms': '1000', 'cleanup.policy': 'delete,compact' })).toEqual({
      'retention.ms': '1000',
      'cleanup.policy': 'compact,delete',
    });
    const msg = failureOf(() =>
      validateTopicConfigs({ 'retention.ms': 'soon', 'max.message.bytes': '10', 'segment.ms': '1', 'cleanup.policy': 'shred', 'delete.retention.ms': '-1' }),
    );
    expect(msg).toMatch(/^INVALID_CONFIG: /);
    expect(msg).toMatch(/retention.ms=soon must be an integer ≥ -1/);
    expect(msg).toMatch(/max.message.bytes=10 must be an integer ≥ 64/);
    expect(msg).toMatch(/unknown config "segment.ms"/);
    expect(msg).toMatch(/cleanup.policy=shred must be delete, compact, or compact,delete/);
    expect(msg).toMatch(/delete.retention.ms=-1 must be an integer ≥ 0/);
  });

  it('resolves defaults and reports each value with its source', () => {
    expect(resolveTopicConfig({ 'retention.bytes': '1024' })).toEqual({
      retentionMs: 604800000,
      retentionBytes: 1024,
      maxMessageBytes: 1048588,
      cleanupPolicy: 'delete',
      minInsyncReplicas: 1,
      deleteRetentionMs: 86400000,
    });
    expect(resolveTopicConfig({ 'delete.retention.ms': '0' }).deleteRetentionMs).toBe(0);
    expect(describeTopicConfig({ 'retention.bytes': '1024' })).toContainEqual({ name: 'retention.bytes', value: '1024', source: 'topic' });
    expect(describeTopicConfig({})).toContainEqual({ name: 'cleanup.policy', value: 'delete', source: 'default' });
  });
});

describe('TopicManager', () => {
  it('creates, lists, persists across restart, and deletes topics with their logs', async () => {
    const path = join(tempDir(), 'log.db');
    let store = await LogStore.open({ path });
    let tm = await TopicManager.open(store, captureLogger().logger);
    await tm.create({ name: 'orders', partitions: 3, replicationFactor: -1, configs: { 'max.message.bytes': '2048' } });
    await tm.create({ name: 'alerts', partitions: 1, replicationFactor: 1 });
    await tm.partition('orders', 2).append([batchOf(3)]);
    expect(tm.list().map((t) => [t.name, t.partitions])).toEqual([
      ['alerts', 1],
      ['orders', 3],
    ]);
    // The topic's max.message.bytes reaches its partitions.
    expect(tm.partition('orders', 0).config.maxBatchBytes).toBe(2048);
    await store.close();

    store = await LogStore.open({ path });
    tm = await TopicManager.open(store, captureLogger().logger);
    expect(tm.get('orders')).toMatchObject({ partitions: 3, replicationFactor: 1, configs: { 'max.message.bytes': '2048' } });
    expect(tm.partition('orders', 2).logEndOffset).toBe(3);
    await tm.delete('orders');
    expect(failureOf(() => tm.partition('orders', 0))).toMatch(/UNKNOWN_TOPIC_OR_PARTITION: topic "orders" does not exist/);
    expect(store.listPartitions()).toEqual([{ topic: 'alerts', partition: 0 }]);
    await store.close();
  });

  it('refuses duplicates, bad partition counts, replication factors > 1 and bad configs, creating nothing', async () => {
    const store = await LogStore.open({ path: join(tempDir(), 'log.db') });
    const tm = await TopicManager.open(store, captureLogger().logger);
    await tm.create({ name: 't', partitions: 1, replicationFactor: 1 });
    expect(await codeOf(tm.create({ name: 't', partitions: 1, replicationFactor: 1 }))).toBe('TOPIC_ALREADY_EXISTS');
    expect(await codeOf(tm.create({ name: 'u', partitions: 0, replicationFactor: 1 }))).toBe('INVALID_PARTITIONS');
    expect(await codeOf(tm.create({ name: 'u', partitions: 1001, replicationFactor: 1 }))).toBe('INVALID_PARTITIONS');
    expect(await codeOf(tm.create({ name: 'u', partitions: 1, replicationFactor: 3 }))).toBe('INVALID_REPLICATION_FACTOR');
    expect(await codeOf(tm.create({ name: 'u', partitions: 1, replicationFactor: 1, configs: { bogus: '1' } }))).toBe('INVALID_CONFIG');
    expect(await codeOf(tm.create({ name: 'u', partitions: 2, replicationFactor: 1 }, { validateOnly: true }))).toBe('ok');
    expect(await codeOf(tm.delete('nope'))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(tm.list().map((t) => t.name)).toEqual(['t']);
    expect(store.listPartitions()).toHaveLength(1);
    await store.close();
  });

  it('repairs what an interrupted delete left: partitions of no topic are dropped on open, with a warning', async () => {
    const path = join(tempDir(), 'log.db');
    let store = await LogStore.open({ path });
    await (await store.partition('ghost', 0)).append([batchOf(1)]); // as if the topic row was deleted, then a crash
    await store.close();
    store = await LogStore.open({ path });
    const { logger, lines } = captureLogger();
    await TopicManager.open(store, logger);
    expect(store.listPartitions()).toEqual([]);
    expect(lines.find((l) => l.level === 'warn')?.msg).toMatch(/dropping partition ghost-0: it belongs to no topic/);
    await store.close();
  });

  it('creates 200 partitions in a few group commits, not 200 syncs', async () => {
    const store = await LogStore.open({ path: join(tempDir(), 'log.db') });
    const tm = await TopicManager.open(store, captureLogger().logger);
    const before = store.stats.syncedGroups;
    await tm.create({ name: 'wide', partitions: 200, replicationFactor: 1 });
    expect(store.stats.syncedGroups - before).toBeLessThan(50);
    await store.close();
  });
});
