/**
 * What replication needs of the storage layer: a high watermark that survives a restart, a
 * leader epoch cache that is persisted with the batches and rebuilt when missing, and a log start
 * a follower can move to its leader's, past its own high watermark and log end.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBatchHeader, stampBatch } from '../../protocol/record-batch.js';
import { LogStore } from '../../node/storage/log-store.js';
import type { PartitionLog } from '../../node/storage/partition-log.js';
import { batchOf } from '../helpers/batches.js';
import { captureLogger, tempDir } from '../helpers/tmp.js';

/** A batch as a leader of `epoch` stored it at `base` (what a follower copies). */
function copied(base: number, n: number, epoch: number): Uint8Array {
  const b = batchOf(n, `e${epoch}`);
  stampBatch(b, base, epoch);
  return b;
}

function epochColumn(p: PartitionLog): number[] {
  return p.read(p.logStartOffset, 1 << 30, { upTo: 'log-end' }).batches.map((b) => readBatchHeader(b).partitionLeaderEpoch);
}

/** Opens the store at `path` and its replicated partition t-0. */
async function openReplicated(path: string, opts: { logger?: ReturnType<typeof captureLogger>['logger'] } = {}): Promise<{ store: LogStore; p: PartitionLog }> {
  const store = await LogStore.open({ path, ...opts });
  return { store, p: await store.partition('t', 0, { replicated: true }) };
}

/** The high watermark checkpointed in the file, read through a connection of its own. */
function storedHighWatermark(path: string): unknown {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT high_watermark FROM eddy_partitions').pluck().get();
  } finally {
    db.close();
  }
}

/** Marks the store as not closed cleanly, as a kill -9 would leave it, and rewinds its recovery point. */
function markUnclean(path: string): void {
  const db = new Database(path);
  db.prepare("UPDATE eddy_meta SET value = '0' WHERE key = 'clean_shutdown'").run();
  db.prepare('UPDATE eddy_partitions SET recovery_point = 0').run();
  db.close();
}

describe('high watermark checkpoint', () => {
  it('a replicated partition reopens at its checkpointed high watermark, not at its log end', async () => {
    const path = join(tempDir(), 'log.db');
    let { store, p } = await openReplicated(path);
    await p.append([batchOf(4), batchOf(6)]);
    p.updateHighWatermark(4); // followers hold 0-3 only
    await store.close();

    ({ store, p } = await openReplicated(path));
    expect([p.highWatermark, p.logEndOffset]).toEqual([4, 10]);
    expect(p.read(0, 1 << 20).batches.map((b) => readBatchHeader(b).baseOffset)).toEqual([0]); // consumers see 0-3, not 4-9
    p.updateHighWatermark(10);
    await store.close();

    // After a crash too: the checkpoint written with the recovery point is what counts.
    ({ store, p } = await openReplicated(path));
    await p.append([batchOf(5)]);
    p.updateHighWatermark(12);
    store.persistRecoveryPointsEvery(20);
    await expect.poll(() => storedHighWatermark(path), { timeout: 3000 }).toBe(12);
    await store.close();
    markUnclean(path);
    ({ store, p } = await openReplicated(path));
    expect([p.highWatermark, p.logEndOffset]).toEqual([12, 15]);
    await store.close();
  });

  it('a single replica, and a store written before the checkpoint existed, open with everything committed', async () => {
    const path = join(tempDir(), 'log.db');
    let { store, p } = await openReplicated(path);
    await p.append([batchOf(6)]);
    p.updateHighWatermark(2);
    await store.close();
    store = await LogStore.open({ path });
    p = await store.partition('t', 0); // one replica: the high watermark follows the log end
    expect(p.highWatermark).toBe(6);
    await store.close();

    // The layout of the version before: no high_watermark column at all.
    const db = new Database(path);
    db.exec('ALTER TABLE eddy_partitions DROP COLUMN high_watermark');
    db.close();
    ({ store, p } = await openReplicated(path));
    expect([p.highWatermark, p.logEndOffset]).toEqual([6, 6]);
    await store.close();
  });

  it('truncation lowers the checkpoint with the cut, so a reopen never serves the discarded tail', async () => {
    const path = join(tempDir(), 'log.db');
    let { store, p } = await openReplicated(path);
    await p.appendAsFollower([copied(0, 4, 1), copied(4, 4, 1)]);
    p.updateHighWatermark(8);
    await store.close();
    ({ store, p } = await openReplicated(path));
    await p.truncateTo(4);
    // Written with the cut itself, not left for the next checkpoint or the close.
    expect(storedHighWatermark(path)).toBe(4);
    await store.close();
    markUnclean(path);
    ({ store, p } = await openReplicated(path));
    expect([p.highWatermark, p.logEndOffset]).toEqual([4, 4]);
    await store.close();
  });
});

describe('leader epoch cache', () => {
  it('is written with the batches that change it, survives reopening, and follows truncation and retention', async () => {
    const path = join(tempDir(), 'log.db');
    let { store, p } = await openReplicated(path);
    await p.append([batchOf(3)], { leaderEpoch: 0 }); // 0-2
    await p.append([batchOf(2)], { leaderEpoch: 0 }); // 3-4
    await p.append([batchOf(2)], { leaderEpoch: 2 }); // 5-6
    await p.appendAsFollower([copied(7, 3, 5), copied(10, 1, 5)]); // 7-10
    const expected = [{ epoch: 0, startOffset: 0 }, { epoch: 2, startOffset: 5 }, { epoch: 5, startOffset: 7 }];
    expect(p.leaderEpochs).toEqual(expected);
    expect(p.endOffsetForEpoch(2)).toEqual({ epoch: 2, endOffset: 7 });
    expect(p.endOffsetForEpoch(4)).toEqual({ epoch: 2, endOffset: 7 });
    expect(p.endOffsetForEpoch(5)).toEqual({ epoch: 5, endOffset: 11 });
    await store.close();

    ({ store, p } = await openReplicated(path));
    expect(p.leaderEpochs).toEqual(expected);
    await p.truncateTo(7); // a follower discarding a divergent tail of epoch 5
    expect(p.leaderEpochs).toEqual(expected.slice(0, 2));
    p.updateHighWatermark(7);
    await p.deleteBefore(4); // retention: epoch 0 now starts at the log start
    expect(p.leaderEpochs).toEqual([{ epoch: 0, startOffset: 4 }, { epoch: 2, startOffset: 5 }]);
    await store.close();
    markUnclean(path);

    ({ store, p } = await openReplicated(path));
    expect(p.leaderEpochs).toEqual([{ epoch: 0, startOffset: 4 }, { epoch: 2, startOffset: 5 }]);
    await p.append([batchOf(1)], { leaderEpoch: 7 });
    expect(p.leaderEpochs.at(-1)).toEqual({ epoch: 7, startOffset: 7 });
    await store.close();
  });

  it('is rebuilt from the stored batches when missing (a store from before the cache), and cut with a torn tail', async () => {
    const path = join(tempDir(), 'log.db');
    let { store, p } = await openReplicated(path);
    await p.appendAsFollower([copied(0, 2, 1), copied(2, 2, 1), copied(4, 2, 3), copied(6, 2, 4)]);
    await store.close();
    let db = new Database(path);
    db.exec('DROP TABLE eddy_leader_epochs');
    db.close();

    ({ store, p } = await openReplicated(path));
    const rebuilt = [{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 4 }, { epoch: 4, startOffset: 6 }];
    expect(p.leaderEpochs).toEqual(rebuilt);
    expect(epochColumn(p)).toEqual([1, 1, 3, 4]);
    await store.close();
    db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT epoch, start_offset AS startOffset FROM eddy_leader_epochs ORDER BY epoch').all()).toEqual(rebuilt); // persisted, not recomputed each open
    db.close();

    // A damaged batch at 6 (epoch 4) is dropped on recovery, and epoch 4 with it.
    db = new Database(path);
    const row = db.prepare('SELECT batch FROM log_1 WHERE base_offset = 6').get() as { batch: Buffer };
    const damaged = Buffer.from(row.batch);
    damaged[damaged.length - 3]! ^= 0x01;
    db.prepare('UPDATE log_1 SET batch = ? WHERE base_offset = 6').run(damaged);
    db.close();
    markUnclean(path);
    ({ store, p } = await openReplicated(path, { logger: captureLogger().logger }));
    expect(p.logEndOffset).toBe(6);
    expect(p.leaderEpochs).toEqual(rebuilt.slice(0, 2));
    expect(p.endOffsetForEpoch(4)).toEqual({ epoch: 3, endOffset: 6 });
    await store.close();
  });

  it('a torn tail after verified batches: the log ends after the last good batch, so the next recovery finds no overlap', async () => {
    const path = join(tempDir(), 'log.db');
    let store = await LogStore.open({ path });
    let p = await store.partition('t', 0);
    for (let i = 0; i < 4; i++) await p.append([batchOf(3, `b${i}`)]); // 0-2 … 9-11
    await store.close();
    const db = new Database(path);
    const row = db.prepare('SELECT batch FROM log_1 WHERE base_offset = 9').get() as { batch: Buffer };
    db.prepare('UPDATE log_1 SET batch = ? WHERE base_offset = 9').run(row.batch.subarray(0, row.batch.length - 5));
    db.close();
    markUnclean(path); // the check starts at offset 0, three good batches before the bad one
    store = await LogStore.open({ path, logger: captureLogger().logger });
    p = await store.partition('t', 0);
    expect(p.logEndOffset).toBe(9);
    await p.append([batchOf(3, 'after')]);
    await store.close();
    markUnclean(path);
    const { logger, lines } = captureLogger();
    store = await LogStore.open({ path, logger });
    p = await store.partition('t', 0);
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(p.logEndOffset).toBe(12);
    await store.close();
  });
});

describe('deleteBefore for a follower', () => {
  it('follows the leader log start past its own high watermark, and past its log end starts afresh there', async () => {
    const path = join(tempDir(), 'log.db');
    let { store, p } = await openReplicated(path);
    await p.appendAsFollower([copied(0, 4, 1), copied(4, 4, 1)]);
    expect(p.highWatermark).toBe(0);
    await expect(p.deleteBefore(4)).rejects.toMatchObject({ errorName: 'OFFSET_OUT_OF_RANGE' }); // retention stays below the HW
    await p.deleteBefore(4, { asFollower: true });
    expect([p.logStartOffset, p.highWatermark, p.logEndOffset]).toEqual([4, 4, 8]);

    await p.deleteBefore(20, { asFollower: true }); // the leader's log starts beyond everything this follower has
    expect([p.logStartOffset, p.highWatermark, p.logEndOffset, p.sizeBytes]).toEqual([20, 20, 20, 0]);
    expect(p.leaderEpochs).toEqual([]);
    await p.appendAsFollower([copied(20, 2, 3)]);
    expect(p.leaderEpochs).toEqual([{ epoch: 3, startOffset: 20 }]);
    await store.close();

    markUnclean(path);
    ({ store, p } = await openReplicated(path));
    expect([p.logStartOffset, p.highWatermark, p.logEndOffset]).toEqual([20, 20, 22]);
    expect(epochColumn(p)).toEqual([3]);
    await store.close();
  });
});
