import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isEddyError } from '../../protocol/errors.js';
import { crc32c } from '../../protocol/crc32c.js';
import { decodeRecords, encodeRecordBatch, Field, stampBatch } from '../../protocol/record-batch.js';
import { LogStore } from '../../node/storage/log-store.js';
import { parseSyncPolicy } from '../../node/storage/sync-policy.js';
import type { PartitionLog } from '../../node/storage/partition-log.js';
import { batchOf, sizedBatch } from '../helpers/batches.js';
import { waitFor } from '../helpers/client.js';
import { captureLogger, tempDir } from '../helpers/tmp.js';

async function errorName(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return isEddyError(err) ? err.errorName : `not an EddyError: ${String(err)}`;
  }
  return 'nothing thrown';
}

/** Offsets of every stored record, read from the log start: the no-gap, no-duplicate check. */
function storedOffsets(p: PartitionLog): number[] {
  const out: number[] = [];
  let at = p.logStartOffset;
  for (;;) {
    const r = p.read(at, 1 << 20);
    if (r.batches.length === 0) return out;
    for (const b of r.batches) for (const rec of decodeRecords(b)) out.push(rec.offset);
    at = r.nextOffset;
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('bad input leaves the log unchanged', () => {
  it('rejects each hostile batch with its stable code, writes none of a mixed request, and keeps offsets dense', async () => {
    const store = await LogStore.open({ path: join(tempDir(), 'log.db'), partitionDefaults: { maxBatchBytes: 4096 } });
    const p = await store.partition('t', 0);
    await p.append([batchOf(2, 'ok')]);
    const before = p.read(0, 1 << 20);

    const badCrc = batchOf(2);
    badCrc[Field.recordCount + 5]! ^= 0xff;
    const truncated = batchOf(2).subarray(0, 70);
    const countMismatch = batchOf(2);
    const dv = new DataView(countMismatch.buffer, countMismatch.byteOffset);
    dv.setInt32(Field.recordCount, 3);
    dv.setInt32(Field.lastOffsetDelta, 2);
    dv.setUint32(Field.crc, crc32c(countMismatch, Field.attributes));
    const tooLarge = sizedBatch(1, 5000);

    expect(await errorName(p.append([badCrc]))).toBe('CORRUPT_MESSAGE');
    expect(await errorName(p.append([truncated]))).toBe('CORRUPT_MESSAGE');
    expect(await errorName(p.append([countMismatch]))).toBe('INVALID_RECORD');
    expect(await errorName(p.append([tooLarge]))).toBe('MESSAGE_TOO_LARGE');
    expect(await errorName(p.append([new Uint8Array(0)]))).toBe('CORRUPT_MESSAGE');
    // All-or-nothing: a good batch next to a bad one is not written either.
    expect(await errorName(p.append([batchOf(1, 'good'), badCrc]))).toBe('CORRUPT_MESSAGE');
    expect(await errorName(p.append([]))).toBe('INVALID_REQUEST');

    expect(p.logEndOffset).toBe(2);
    expect(p.read(0, 1 << 20).batches.map((b) => Buffer.from(b).toString('hex'))).toEqual(
      before.batches.map((b) => Buffer.from(b).toString('hex')),
    );
    expect((await p.append([batchOf(1)])).baseOffset).toBe(2);
    expect(storedOffsets(p)).toEqual(range(3));
    await store.close();
  });

  it('follower appends keep the leader offsets and refuse going backwards with INVALID_RECORD', async () => {
    const store = await LogStore.open({ path: join(tempDir(), 'log.db') });
    const p = await store.partition('t', 0);
    const leaderBatch = (base: number, n: number) => {
      const b = batchOf(n);
      stampBatch(b, base, 3);
      return b;
    };
    await p.appendAsFollower([leaderBatch(0, 3), leaderBatch(3, 2)]);
    await p.appendAsFollower([leaderBatch(10, 1)]); // a gap, as after compaction on the leader
    expect(p.logEndOffset).toBe(11);
    expect(await errorName(p.appendAsFollower([leaderBatch(5, 1)]))).toBe('INVALID_RECORD');
    expect(await errorName(p.appendAsFollower([leaderBatch(11, 2), leaderBatch(12, 1)]))).toBe('INVALID_RECORD');
    expect(p.logEndOffset).toBe(11);
    expect(storedOffsets(p)).toEqual([0, 1, 2, 3, 4, 10]);
    await store.close();
  });

  it('parses sync policies and refuses bad ones with a clear message', () => {
    expect(parseSyncPolicy('always')).toEqual({ kind: 'always' });
    expect(parseSyncPolicy('interval:250')).toEqual({ kind: 'interval', ms: 250 });
    for (const bad of ['sometimes', 'interval:', 'interval:0', 'interval:-5', 'interval:1e3', '']) {
      expect(() => parseSyncPolicy(bad)).toThrow(/use "always" or "interval:<ms>"/);
    }
  });
});

describe('disk full', () => {
  it('refuses appends with retriable KAFKA_STORAGE_ERROR, loses nothing acknowledged, and recovers once space is freed', async () => {
    const dir = tempDir();
    const { logger, lines } = captureLogger();
    const store = await LogStore.open({ path: join(dir, 'log.db'), maxDatabaseBytes: 400 * 1024, logger });
    const p = await store.partition('t', 0);
    // Waves of concurrent appends, so that some fail while others queued behind them were
    // already sequenced, until the cap is hit.
    const outcomes: PromiseSettledResult<{ lastOffset: number }>[] = [];
    for (let wave = 0; wave < 100 && !outcomes.some((o) => o.status === 'rejected'); wave++) {
      outcomes.push(...(await Promise.allSettled(range(8).map((i) => p.append([sizedBatch(10, 300, wave * 8 + i)])))));
    }
    const acked = outcomes.filter((o) => o.status === 'fulfilled').map((o) => (o as PromiseFulfilledResult<{ lastOffset: number }>).value);
    const failed = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason);
    expect(acked.length).toBeGreaterThan(5);
    expect(failed.length).toBeGreaterThan(0);
    for (const err of failed) {
      expect(isEddyError(err, 'KAFKA_STORAGE_ERROR')).toBe(true);
      expect(err.retriable).toBe(true);
    }
    expect(failed.some((e) => /disk is full/.test(e.message))).toBe(true);
    expect(lines.some((l) => l.level === 'error' && /write to the log store failed.*refused/.test(l.msg))).toBe(true);

    // Nothing acknowledged was lost, and there is no hole: offsets are 0..LEO-1.
    const leo = p.logEndOffset;
    expect(leo).toBe(Math.max(...acked.map((a) => a.lastOffset)) + 1);
    expect(storedOffsets(p)).toEqual(range(leo));
    // Reads keep working while full.
    expect(p.read(0, 1 << 20).batches.length).toBeGreaterThan(0);

    // Retention frees pages; SQLite reuses them and appends succeed again, continuing the offsets.
    await p.deleteBefore(leo);
    const after = await p.append([sizedBatch(10, 100, 999)]);
    expect(after.baseOffset).toBe(leo);
    await store.close();
  });
});

describe('recovery', () => {
  /** Damages the stored blob of the batch at `baseOffset`, as a bad sector would, and marks the store unclean. */
  function corrupt(path: string, baseOffset: number, how: 'flip' | 'cut') {
    const db = new Database(path);
    const row = db.prepare('SELECT batch FROM log_1 WHERE base_offset = ?').get(baseOffset) as { batch: Buffer };
    const damaged = how === 'flip' ? Buffer.from(row.batch) : row.batch.subarray(0, row.batch.length - 7);
    if (how === 'flip') damaged[damaged.length - 3]! ^= 0x01;
    db.prepare('UPDATE log_1 SET batch = ? WHERE base_offset = ?').run(damaged, baseOffset);
    db.prepare("UPDATE eddy_meta SET value = '0' WHERE key = 'clean_shutdown'").run();
    db.prepare('UPDATE eddy_partitions SET recovery_point = 0').run();
    db.close();
  }

  for (const how of ['flip', 'cut'] as const) {
    it(`drops a ${how === 'flip' ? 'bit-flipped' : 'torn'} tail batch and everything after it, with a warning that says what to do`, async () => {
      const path = join(tempDir(), 'log.db');
      let store = await LogStore.open({ path });
      let p = await store.partition('sensors', 0);
      for (let i = 0; i < 5; i++) await p.append([batchOf(4, `b${i}`)]); // 0-3 … 16-19
      await store.close();
      corrupt(path, 12, how);

      const { logger, lines } = captureLogger();
      store = await LogStore.open({ path, logger });
      expect(store.cleanStart).toBe(false);
      p = await store.partition('sensors', 0);
      expect(p.logEndOffset).toBe(12);
      expect(storedOffsets(p)).toEqual(range(12));
      const warning = lines.find((l) => l.level === 'warn');
      expect(warning?.msg).toMatch(/sensors-0: the batch at offset 12 failed its check on recovery .*dropping offsets 12\.\.19.*check the disk/);
      expect((await p.append([batchOf(1)])).baseOffset).toBe(12);
      await store.close();
    });
  }

  it('after a clean shutdown checks only the last batch, and after an unclean one everything past the recovery point', async () => {
    const path = join(tempDir(), 'log.db');
    let store = await LogStore.open({ path });
    let p = await store.partition('t', 0);
    for (let i = 0; i < 3; i++) await p.append([batchOf(2)]);
    await store.close();
    // Damage in the middle is not re-verified after a clean shutdown (it was verified before)…
    const db = new Database(path);
    const row = db.prepare('SELECT batch FROM log_1 WHERE base_offset = 2').get() as { batch: Buffer };
    row.batch[row.batch.length - 1]! ^= 1;
    db.prepare('UPDATE log_1 SET batch = ? WHERE base_offset = 2').run(row.batch);
    db.close();
    store = await LogStore.open({ path });
    p = await store.partition('t', 0);
    expect(p.logEndOffset).toBe(6);
    await store.close();
    // …but is found when the previous run died before persisting a recovery point past it.
    const db2 = new Database(path);
    db2.prepare("UPDATE eddy_meta SET value = '0' WHERE key = 'clean_shutdown'").run();
    db2.prepare('UPDATE eddy_partitions SET recovery_point = 1').run();
    db2.close();
    store = await LogStore.open({ path });
    p = await store.partition('t', 0);
    expect(p.logEndOffset).toBe(2);
    await store.close();
  });
  it('persists recovery points periodically once asked to, so an unclean start verifies only the newest tail', async () => {
    const path = join(tempDir(), 'log.db');
    const store = await LogStore.open({ path });
    const p = await store.partition('t', 0);
    store.persistRecoveryPointsEvery(10);
    await p.append([batchOf(3)]);
    await p.append([batchOf(2)]);
    const peek = new Database(path, { readonly: true });
    const point = () => (peek.prepare('SELECT recovery_point AS r FROM eddy_partitions').get() as { r: number }).r;
    try {
      await waitFor(() => point() === 5, 'the recovery point 5 in the file', 2000);
    } finally {
      peek.close();
    }
    await store.close();
  });
});

describe('sync policy interval', () => {
  it('acknowledges appends as written-not-synced, then syncs within the interval', async () => {
    const store = await LogStore.open({ path: join(tempDir(), 'log.db'), sync: { kind: 'interval', ms: 20 } });
    const p = await store.partition('t', 0);
    const synced0 = store.stats.syncedGroups;
    const r = await p.append([batchOf(2)]);
    expect(r.synced).toBe(false);
    const forced = await p.append([batchOf(1)], { sync: true });
    expect(forced.synced).toBe(true);
    await p.append([batchOf(1)]);
    await waitFor(() => store.stats.syncedGroups >= synced0 + 2, 'the interval sync of the last append', 2000);
    await store.close();
  });
});

describe('freeing space', () => {
  it('returns the pages of deleted batches to the file system (auto_vacuum incremental)', async () => {
    const { statSync } = await import('node:fs');
    const path = join(tempDir(), 'log.db');
    let store = await LogStore.open({ path });
    let p = await store.partition('t', 0);
    for (let i = 0; i < 40; i++) await p.append([sizedBatch(100, 500, i)]); // ~2 MB
    await store.close(); // checkpoints the WAL into the file
    const full = statSync(path).size;
    store = await LogStore.open({ path });
    p = await store.partition('t', 0);
    await p.deleteBefore(p.logEndOffset);
    expect(await store.releaseFreePages()).toBeGreaterThan(300);
    await store.close();
    const after = statSync(path).size;
    expect(full).toBeGreaterThan(1_500_000);
    expect(after).toBeLessThan(full / 4);
  });
});

describe('compressed batches', () => {
  it('stores gzip batches as sent and serves them back decodable', async () => {
    const store = await LogStore.open({ path: join(tempDir(), 'log.db') });
    const p = await store.partition('t', 0);
    const values = range(100).map((i) => new TextEncoder().encode(JSON.stringify({ device: `d${i % 5}`, temp: 20 + i / 10 })));
    const batch = encodeRecordBatch(values.map((value) => ({ value })), { compression: 1 });
    const sent = Buffer.from(batch);
    await p.append([batch]);
    const stored = p.read(0, 1 << 20).batches[0]!;
    // Only base offset (bytes 0-7) and leader epoch (12-15) are stamped; the rest is as sent.
    expect(Buffer.from(stored).subarray(16).equals(sent.subarray(16))).toBe(true);
    expect(Buffer.from(stored).subarray(8, 12).equals(sent.subarray(8, 12))).toBe(true);
    expect(decodeRecords(stored).map((r) => new TextDecoder().decode(r.value!))).toEqual(values.map((v) => new TextDecoder().decode(v)));
    await store.close();
  });
});
