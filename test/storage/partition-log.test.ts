import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isEddyError } from '../../protocol/errors.js';
import Database from 'better-sqlite3';
import { decodeRecords, encodeRecordBatch, readBatchHeader } from '../../protocol/record-batch.js';
import { LogStore } from '../../node/storage/log-store.js';
import type { PartitionLog, ReadLimit } from '../../node/storage/partition-log.js';
import { batchOf } from '../helpers/batches.js';
import { tempDir } from '../helpers/tmp.js';

async function openStore(dir: string, extra: Partial<Parameters<typeof LogStore.open>[0]> = {}) {
  return LogStore.open({ path: join(dir, 'log.db'), ...extra });
}

/** All record values of a partition, read through `read()` from the log start. */
function values(p: PartitionLog, upTo: ReadLimit = 'high-watermark'): string[] {
  const out: string[] = [];
  let offset = p.logStartOffset;
  for (;;) {
    const r = p.read(offset, 64 * 1024, { upTo });
    if (r.batches.length === 0) return out;
    for (const b of r.batches) {
      for (const rec of decodeRecords(b)) if (rec.offset >= offset) out.push(new TextDecoder().decode(rec.value!));
    }
    offset = r.nextOffset;
  }
}

async function expectCode(p: Promise<unknown> | (() => unknown), name: string) {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(isEddyError(err) ? err.errorName : String(err)).toBe(name);
    return;
  }
  throw new Error(`expected ${name}, nothing thrown`);
}

describe('PartitionLog: append and read', () => {
  it('assigns dense offsets, stamps them into the stored bytes, and reads them back untouched', async () => {
    const store = await openStore(tempDir());
    const p = await store.partition('orders', 0);
    const a = batchOf(3, 'a');
    const r1 = await p.append([a]);
    const r2 = await p.append([batchOf(2, 'b'), batchOf(4, 'c')]);
    expect([r1.baseOffset, r1.lastOffset, r1.synced]).toEqual([0, 2, true]);
    expect(r2.batches).toEqual([
      { baseOffset: 3, lastOffset: 4 },
      { baseOffset: 5, lastOffset: 8 },
    ]);
    expect([p.logEndOffset, p.highWatermark]).toEqual([9, 9]);
    const read = p.read(0, 1 << 20);
    expect(read.batches).toHaveLength(3);
    expect(Buffer.from(read.batches[0]!).equals(Buffer.from(a))).toBe(true); // a was stamped in place
    expect(readBatchHeader(read.batches[2]!).baseOffset).toBe(5);
    expect(values(p)).toEqual(['a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'c-0', 'c-1', 'c-2', 'c-3']);
    await store.close();
  });

  it('shares one group commit between appends that arrive together, keeping their order', async () => {
    const store = await openStore(tempDir());
    const p = await store.partition('t', 0);
    const q = await store.partition('t', 1);
    const before = store.stats.groupCommits;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? q : p).append([batchOf(2, `x${i}`)])),
    );
    const groups = store.stats.groupCommits - before;
    expect(groups).toBeGreaterThanOrEqual(1);
    expect(groups).toBeLessThan(50); // group commit happened: fewer commits than appends
    expect(results.filter((_, i) => i % 2 === 0).map((r) => r.baseOffset)).toEqual(Array.from({ length: 25 }, (_, i) => i * 2));
    expect(values(q)[0]).toBe('x1-0');
    await store.close();
  });

  it('returns at least one batch beyond maxBytes, then stops before exceeding it', async () => {
    const store = await openStore(tempDir());
    const p = await store.partition('t', 0);
    for (let i = 0; i < 5; i++) await p.append([batchOf(10, `b${i}`)]);
    const size = p.read(0, 1).bytes;
    expect(p.read(0, 1).batches).toHaveLength(1);
    expect(p.read(0, size * 2 + 1).batches).toHaveLength(2);
    expect(p.read(0, size * 2).batches).toHaveLength(2);
    // From the middle of a batch, the whole batch comes back (the consumer skips below its offset).
    const mid = p.read(15, 1);
    expect(readBatchHeader(mid.batches[0]!).baseOffset).toBe(10);
    expect(mid.nextOffset).toBe(20);
    expect(p.read(50, 100).batches).toEqual([]);
    await store.close();
  });

  it('refuses offsets outside [logStart, logEnd] with OFFSET_OUT_OF_RANGE', async () => {
    const store = await openStore(tempDir());
    const p = await store.partition('t', 0);
    await p.append([batchOf(3)]);
    await expectCode(() => p.read(4, 100), 'OFFSET_OUT_OF_RANGE');
    await expectCode(() => p.read(-1, 100), 'OFFSET_OUT_OF_RANGE');
    await expectCode(() => p.read(1.5, 100), 'OFFSET_OUT_OF_RANGE');
    await store.close();
  });

  it('serves consumers only below the high watermark once replication owns it', async () => {
    const store = await openStore(tempDir());
    const p = await store.partition('t', 0);
    p.setReplicated(true);
    await p.append([batchOf(3, 'a')]);
    expect([p.logEndOffset, p.highWatermark]).toEqual([3, 0]);
    expect(p.read(0, 1 << 20).batches).toEqual([]);
    expect(p.read(0, 1 << 20, { upTo: 'log-end' }).batches).toHaveLength(1);
    let woke = 0;
    p.onHighWatermark(() => woke++);
    p.updateHighWatermark(3);
    p.updateHighWatermark(1); // never backwards
    p.updateHighWatermark(99); // never past the log end
    expect([p.highWatermark, woke]).toEqual([3, 1]);
    expect(values(p)).toEqual(['a-0', 'a-1', 'a-2']);
    await store.close();
  });

  it('tells log end listeners of every committed append, also while the high watermark stands still', async () => {
    const store = await openStore(tempDir());
    const p = await store.partition('t', 0);
    p.setReplicated(true);
    const ends: number[] = [];
    let hwMoves = 0;
    const off = p.onLogEndOffset(() => ends.push(p.logEndOffset));
    p.onHighWatermark(() => hwMoves++);
    await p.append([batchOf(2, 'a')]);
    await p.appendAsFollower([encodeRecordBatch([{ key: null, value: new Uint8Array(1) }], { baseOffset: 5 })]);
    expect(ends).toEqual([2, 6]);
    expect(hwMoves).toBe(0);
    off();
    await p.append([batchOf(1, 'b')]);
    expect(ends).toEqual([2, 6]);
    await store.close();
  });

  it('keeps partitions and their offsets across a restart', async () => {
    const dir = tempDir();
    let store = await openStore(dir);
    const p = await store.partition('a', 0);
    await p.append([batchOf(3, 'x')]);
    await (await store.partition('b', 2)).append([batchOf(1, 'y')]);
    await store.close();
    store = await openStore(dir);
    expect(store.cleanStart).toBe(true);
    expect(store.listPartitions()).toEqual([
      { topic: 'a', partition: 0 },
      { topic: 'b', partition: 2 },
    ]);
    const p2 = await store.partition('a', 0);
    expect([p2.logEndOffset, p2.highWatermark]).toEqual([3, 3]);
    const r = await p2.append([batchOf(2, 'z')]);
    expect(r.baseOffset).toBe(3);
    expect(values(p2)).toEqual(['x-0', 'x-1', 'x-2', 'z-0', 'z-1']);
    await store.close();
  });
});

describe('PartitionLog: truncation, retention, time lookups, earlier layouts', () => {
  it('truncateTo drops whole batches from the one holding the offset, and appends continue there', async () => {
    const dir = tempDir();
    const store = await openStore(dir);
    const p = await store.partition('t', 0);
    await p.append([batchOf(3, 'a')]); // 0-2
    await p.append([batchOf(3, 'b')]); // 3-5
    await p.append([batchOf(3, 'c')]); // 6-8
    const sizeBefore = p.sizeBytes;
    await p.truncateTo(4); // 3-5 straddles 4: it goes whole
    expect([p.logEndOffset, p.highWatermark]).toEqual([3, 3]);
    expect(p.sizeBytes).toBeLessThan(sizeBefore);
    expect((await p.append([batchOf(1, 'd')])).baseOffset).toBe(3);
    await p.truncateTo(3);
    await p.truncateTo(100); // beyond the end: nothing to do
    expect(values(p)).toEqual(['a-0', 'a-1', 'a-2']);
    await expectCode(p.truncateTo(-1), 'OFFSET_OUT_OF_RANGE');
    await store.close();
  });

  it('appends issued during a truncation wait for it and land after the new end', async () => {
    const store = await openStore(tempDir());
    const p = await store.partition('t', 0);
    await p.append([batchOf(5, 'a')]);
    const truncation = p.truncateTo(0);
    const appended = p.append([batchOf(2, 'b')]);
    await truncation;
    expect((await appended).baseOffset).toBe(0);
    expect(values(p)).toEqual(['b-0', 'b-1']);
    await store.close();
  });

  it('deleteBefore advances the log start, refuses reads below it, frees bytes, and persists', async () => {
    const dir = tempDir();
    let store = await openStore(dir);
    let p = await store.partition('t', 0);
    for (let i = 0; i < 4; i++) await p.append([batchOf(5, `b${i}`)]); // 0-4, 5-9, 10-14, 15-19
    const size = p.sizeBytes;
    await p.deleteBefore(12); // removes 0-4 and 5-9; 10-14 straddles and stays
    expect(p.logStartOffset).toBe(12);
    expect(p.sizeBytes).toBe(size / 2);
    await expectCode(() => p.read(11, 100), 'OFFSET_OUT_OF_RANGE');
    expect(values(p)).toEqual(['b2-2', 'b2-3', 'b2-4', 'b3-0', 'b3-1', 'b3-2', 'b3-3', 'b3-4']);
    await expectCode(p.deleteBefore(21), 'OFFSET_OUT_OF_RANGE'); // beyond the high watermark
    await store.close();
    store = await openStore(dir);
    p = await store.partition('t', 0);
    expect([p.logStartOffset, p.logEndOffset, p.sizeBytes]).toEqual([12, 20, size / 2]);
    await p.deleteBefore(20); // everything
    expect([p.logStartOffset, p.sizeBytes, p.read(20, 10).batches.length]).toEqual([20, 0, 0]);
    expect((await p.append([batchOf(1)])).baseOffset).toBe(20);
    await store.close();
  });

  it('finds the first record at or after a timestamp, with timestamps out of order across batches', async () => {
    const store = await openStore(tempDir());
    const p = await store.partition('t', 0);
    await p.append([batchOf(3, 'a', 1000)]); // 0-2: 1000..1002
    await p.append([batchOf(3, 'b', 500)]); // 3-5: 500..502 (a producer with a late clock)
    await p.append([batchOf(3, 'c', 2000)]); // 6-8: 2000..2002
    expect(p.offsetForTimestamp(0)).toEqual({ offset: 0, timestamp: 1000 });
    expect(p.offsetForTimestamp(1001)).toEqual({ offset: 1, timestamp: 1001 });
    expect(p.offsetForTimestamp(1003)).toEqual({ offset: 6, timestamp: 2000 });
    expect(p.offsetForTimestamp(2002)).toEqual({ offset: 8, timestamp: 2002 });
    expect(p.offsetForTimestamp(2003)).toBeNull();
    await p.deleteBefore(4); // 3-5 straddles the new log start
    expect(p.offsetForTimestamp(0)).toEqual({ offset: 4, timestamp: 501 });
    expect(p.offsetForTimestamp(502)).toEqual({ offset: 5, timestamp: 502 });
    await p.deleteBefore(6);
    expect(p.offsetForTimestamp(502)).toEqual({ offset: 6, timestamp: 2000 });
    await store.close();
  });

  it('appends touch one B-tree per partition: the table has no secondary index', async () => {
    const store = await openStore(tempDir());
    const p = await store.partition('t', 0);
    await p.append([batchOf(3)]);
    const indexes = store.reader.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`).pluck().all(`log_${p.id}`);
    expect(indexes).toEqual([]);
    await store.close();
  });

  it('opens a table of the earlier layout (time index, no producer columns) and brings it up to date', async () => {
    const dir = tempDir();
    let store = await openStore(dir);
    let p = await store.partition('t', 0);
    const now = Date.now();
    await p.append([batchOf(3, 'a', now - 3000)]); // 0-2
    await p.append([batchOf(3, 'b', now - 5000)]); // 3-5: a producer with a late clock
    await p.append([batchOf(3, 'c', now - 1000)]); // 6-8
    const id = p.id;
    await store.close();
    // As earlier versions made it: the time index, and the producer columns missing.
    const db = new Database(join(dir, 'log.db'));
    db.exec(`CREATE INDEX log_${id}_time ON log_${id} (running_max_timestamp)`);
    for (const c of ['producer_id', 'producer_epoch', 'base_sequence']) db.exec(`ALTER TABLE log_${id} DROP COLUMN ${c}`);
    db.close();

    store = await openStore(dir);
    p = await store.partition('t', 0);
    const columns = store.reader.prepare(`PRAGMA table_info(log_${id})`).all() as { name: string }[];
    expect(columns.map((c) => c.name)).toEqual(expect.arrayContaining(['producer_id', 'producer_epoch', 'base_sequence']));
    expect(store.reader.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`).pluck().all(`log_${id}`)).toEqual([]);
    expect(p.offsetForTimestamp(now - 4000)).toEqual({ offset: 0, timestamp: now - 3000 });
    expect(p.offsetForTimestamp(now - 2000)).toEqual({ offset: 6, timestamp: now - 1000 });
    expect(values(p)).toEqual(['a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'b-2', 'c-0', 'c-1', 'c-2']);
    expect((await p.append([batchOf(1, 'd')])).baseOffset).toBe(9);
    await store.close();
  });

  it('rebuilds idempotent producer state from the batches within the expiration time after a restart', async () => {
    const dir = tempDir();
    const expiry = { partitionDefaults: { producerIdExpirationMs: 60_000 } };
    let store = await openStore(dir, expiry);
    let p = await store.partition('t', 0);
    const now = Date.now();
    const enc = new TextEncoder();
    const idem = (producerId: number, baseSequence: number, ts: number) =>
      encodeRecordBatch([{ value: enc.encode(`${producerId}/${baseSequence}`), timestamp: ts }], { producerId, producerEpoch: 0, baseSequence });
    await p.append([idem(7, 0, now - 120_000)]); // 0: producer 7, long idle
    for (let i = 0; i < 20; i++) await p.append([batchOf(2, 'x', now - 100_000 + i)]); // 1-40: no producer
    await p.append([idem(8, 0, now - 1000)]); // 41: producer 8, recent
    await p.append([idem(8, 1, now - 500)]); // 42
    await store.close();

    store = await openStore(dir, expiry);
    p = await store.partition('t', 0);
    // Producer 8's batches are remembered: a resend is answered with its original offset.
    expect(p.producerBatches(8).map((b) => b.firstOffset)).toEqual([41, 42]);
    expect((await p.append([idem(8, 1, now - 500)])).baseOffset).toBe(42);
    expect(p.logEndOffset).toBe(43);
    // Producer 7 wrote before the horizon: forgotten, as if it had expired while running.
    expect(p.producerBatches(7)).toEqual([]);
    await store.close();
  });

  it('drops a partition: its handle refuses use, and a new one starts empty', async () => {
    const store = await openStore(tempDir());
    const p = await store.partition('t', 0);
    await p.append([batchOf(3)]);
    await store.dropPartition('t', 0);
    await expectCode(() => p.read(0, 10), 'UNKNOWN_TOPIC_OR_PARTITION');
    await expectCode(p.append([batchOf(1)]), 'UNKNOWN_TOPIC_OR_PARTITION');
    expect(store.listPartitions()).toEqual([]);
    const again = await store.partition('t', 0);
    expect(again.logEndOffset).toBe(0);
    await store.close();
  });
});
