/** Committed offsets in __consumer_offsets: durable, rebuilt on open, tolerant of bad records. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OFFSETS_TOPIC, OFFSETS_TOPIC_PARTITIONS, OFFSETS_TOPIC_SPEC, OffsetStore } from '../../node/groups/offset-store.js';
import { encodeRecordBatch, readBatchHeader } from '../../protocol/record-batch.js';
import { LogCleaner } from '../../node/storage/log-cleaner.js';
import { LogStore } from '../../node/storage/log-store.js';
import { compactedPartitions } from '../../node/topics/compacted-partitions.js';
import { TopicManager } from '../../node/topics/topic-manager.js';
import { replicasFor } from '../helpers/replicas.js';
import { captureLogger, tempDir } from '../helpers/tmp.js';

async function open(dir: string, logger = captureLogger().logger) {
  const store = await LogStore.open({ path: join(dir, 'log.db'), logger });
  const topics = await TopicManager.open(store, logger);
  // The controller creates it in a running node; here, as a one-node topic created locally.
  if (!topics.get(OFFSETS_TOPIC)) await topics.create({ ...OFFSETS_TOPIC_SPEC, configs: { ...OFFSETS_TOPIC_SPEC.configs } }, { internal: true });
  const offsets = await OffsetStore.open(topics, replicasFor(store, topics).replicas, logger, () => 1234);
  return { store, topics, offsets };
}

describe('OffsetStore', () => {
  it('loads from the compacted internal topic, and rebuilds commits, deletions and tombstones after a reopen', async () => {
    const dir = tempDir();
    let s = await open(dir);
    const info = s.topics.get(OFFSETS_TOPIC)!;
    expect(info).toMatchObject({ partitions: OFFSETS_TOPIC_PARTITIONS, internal: true, configs: { 'cleanup.policy': 'compact' } });
    await s.offsets.commit('g1', [
      { topic: 't', partition: 0, offset: 5, metadata: 'm' },
      { topic: 't', partition: 1, offset: 7, metadata: null },
    ]);
    await s.offsets.commit('g1', [{ topic: 't', partition: 0, offset: 9, metadata: null }]);
    await s.offsets.commit('g2', [{ topic: 'u', partition: 0, offset: 1, metadata: null }]);
    await s.offsets.commit('g3', [{ topic: 't', partition: 0, offset: 2, metadata: null }]);
    await s.offsets.deleteGroup('g2');
    await s.offsets.deleteTopic('t'); // removes g3 entirely and g1's t commits
    await s.offsets.commit('g1', [{ topic: 'v', partition: 3, offset: 11, metadata: 'x' }]);
    const before = { groups: s.offsets.groupIds().sort(), g1: s.offsets.list('g1') };
    await s.store.close();

    s = await open(dir);
    expect(s.offsets.groupIds().sort()).toEqual(before.groups);
    expect(s.offsets.groupIds()).toEqual(['g1']);
    expect(s.offsets.list('g1')).toEqual(before.g1);
    expect(s.offsets.get('g1', 'v', 3)).toMatchObject({ offset: 11, metadata: 'x', commitTimestamp: 1234 });
    await s.store.close();
  });

  it('skips records it cannot read, says how many and what that means, and keeps the rest', async () => {
    const dir = tempDir();
    let s = await open(dir);
    await s.offsets.commit('g', [{ topic: 't', partition: 0, offset: 3, metadata: null }]);
    const garbage = encodeRecordBatch([{ key: Uint8Array.of(0, 1, 2), value: Uint8Array.of(9) }, { key: null, value: Uint8Array.of(1) }]);
    await s.topics.partition(OFFSETS_TOPIC, 0).append([garbage]);
    await s.store.close();
    const { lines, logger } = captureLogger();
    s = await open(dir, logger);
    expect(s.offsets.get('g', 't', 0)?.offset).toBe(3);
    const warning = lines.find((l) => l.level === 'warn');
    expect(warning?.msg).toMatch(/skipped 2 unreadable record\(s\) in __consumer_offsets; the commits they held are lost/);
    await s.store.close();
  });

  it('loads the same offsets from a compacted __consumer_offsets: many commits, a cleaner pass, a reopen', async () => {
    const dir = tempDir();
    let s = await open(dir);
    for (let round = 0; round < 50; round++) {
      for (const group of ['g1', 'g2', 'g3']) {
        await s.offsets.commit(group, [0, 1, 2].map((partition) => ({ topic: 't', partition, offset: round * 10 + partition, metadata: `r${round}` })));
      }
    }
    await s.offsets.commit('gone', [{ topic: 't', partition: 0, offset: 1, metadata: null }]);
    await s.offsets.deleteGroup('gone');
    const expected = ['g1', 'g2', 'g3'].map((g) => s.offsets.list(g));
    const records = () =>
      Array.from({ length: OFFSETS_TOPIC_PARTITIONS }, (_, p) => s.topics.partition(OFFSETS_TOPIC, p)).reduce((n, log) => {
        let from = log.logStartOffset;
        for (;;) {
          const r = log.read(from, 1 << 20, { upTo: 'log-end' });
          if (r.batches.length === 0) return n;
          for (const b of r.batches) n += readBatchHeader(b).recordCount;
          from = r.nextOffset;
        }
      }, 0);
    expect(records()).toBe(50 * 9 + 2);
    // The clock is far past the tombstones' delete.retention.ms (the store's clock says 1234).
    const cleaner = new LogCleaner({ store: s.store, targets: () => compactedPartitions(s.topics), clock: () => 1234 + 86_400_000, minDirtyBatches: 1 });
    const results = await cleaner.runOnce();
    expect(results.every((r) => r.topic === OFFSETS_TOPIC)).toBe(true);
    // What stays per partition: the latest commit of each key, plus the last batch (the active tail).
    expect(records()).toBeLessThan(30);
    await s.store.close();

    s = await open(dir);
    expect(s.offsets.groupIds().sort()).toEqual(['g1', 'g2', 'g3']);
    expect(['g1', 'g2', 'g3'].map((g) => s.offsets.list(g))).toEqual(expected);
    expect(s.offsets.get('g2', 't', 1)).toMatchObject({ offset: 491, metadata: 'r49' });
    await s.store.close();
  });
});
