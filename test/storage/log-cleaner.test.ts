/** The log cleaner on a real SQLite store: rewriting batches in place, offsets kept, space returned. */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rewriteBatch } from '../../protocol/batch-rewrite.js';
import { Compression } from '../../protocol/compression.js';
import { isEddyError } from '../../protocol/errors.js';
import { decodeRecords, encodeRecordBatch, readBatchHeader, type RecordInput } from '../../protocol/record-batch.js';
import { LogCleaner, type CleanerTarget } from '../../node/storage/log-cleaner.js';
import { LogStore } from '../../node/storage/log-store.js';
import { storedBatchIdentity } from '../../node/storage/batch-replacement.js';
import type { PartitionLog } from '../../node/storage/partition-log.js';
import { tempDir } from '../helpers/tmp.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

/** Every stored record as "key=value@offset" (✝ for a tombstone), read through read() from the log start. */
function contents(p: PartitionLog): string[] {
  const out: string[] = [];
  let offset = p.logStartOffset;
  for (;;) {
    const r = p.read(offset, 64 * 1024, { upTo: 'log-end' });
    if (r.batches.length === 0) return out;
    for (const b of r.batches) {
      for (const rec of decodeRecords(b)) if (rec.offset >= offset) out.push(`${str(rec.key)}=${str(rec.value) ?? '✝'}@${rec.offset}`);
    }
    offset = r.nextOffset;
  }
}

function rec(key: string | null, value: string | null, timestamp = T0): RecordInput {
  return { key: key === null ? null : utf8(key), value: value === null ? null : utf8(value), timestamp };
}

/** All batches as stored, in order. */
function stored(p: PartitionLog): Uint8Array[] {
  return p.read(p.logStartOffset, 1 << 30, { upTo: 'log-end' }).batches;
}

async function expectCode(p: Promise<unknown>, name: string, detail?: RegExp) {
  try {
    await p;
  } catch (err) {
    expect(isEddyError(err) ? err.errorName : String(err)).toBe(name);
    if (detail) expect(isEddyError(err) && err.detail).toMatch(detail);
    return;
  }
  throw new Error(`expected ${name}, nothing thrown`);
}

describe('PartitionLog.replaceBatches', () => {
  it('rewrites and deletes batches in place: offsets, log start, log end and high watermark stay; reads skip the gaps; a reopen (clean or not) accepts the log', async () => {
    const dir = tempDir();
    const path = join(dir, 'log.db');
    let store = await LogStore.open({ path });
    let p = await store.partition('t', 0);
    await p.append([encodeRecordBatch([rec('a', '1'), rec('b', '1'), rec('a', '2')])]); // 0-2
    await p.append([encodeRecordBatch([rec('b', '2'), rec('c', '1')])]); // 3-4
    await p.append([encodeRecordBatch([rec('c', '2')])]); // 5
    const before = { leo: p.logEndOffset, hw: p.highWatermark, start: p.logStartOffset };
    const range = p.cleanableRange();
    expect(range).toMatchObject({ from: 0, to: 5 }); // never the last batch
    const [b0, b1] = stored(p);
    const changed = await p.replaceBatches(range, [
      { original: storedBatchIdentity(b0!), replacement: rewriteBatch(b0!, (o) => o === 2) },
      { original: storedBatchIdentity(b1!), replacement: null },
    ]);
    expect(changed).toBe(2);
    expect(contents(p)).toEqual(['a=2@2', 'c=2@5']);
    expect({ leo: p.logEndOffset, hw: p.highWatermark, start: p.logStartOffset }).toEqual(before);
    // A fetch from inside the removed batch starts at the next stored one.
    expect(readBatchHeader(p.read(3, 1024).batches[0]!).baseOffset).toBe(5);
    expect(readBatchHeader(stored(p)[0]!)).toMatchObject({ baseOffset: 0, lastOffsetDelta: 2, recordCount: 1 });
    // Appends continue at the same offset.
    expect((await p.append([encodeRecordBatch([rec('d', '1')])])).baseOffset).toBe(6);
    await store.close();

    store = await LogStore.open({ path });
    p = await store.partition('t', 0);
    expect([p.logEndOffset, contents(p)]).toEqual([7, ['a=2@2', 'c=2@5', 'd=1@6']]);
    await store.close();

    // Unclean: recovery verifies every batch; positions with gaps and shrunk batches pass.
    const db = new Database(path);
    db.prepare("UPDATE eddy_meta SET value = '0' WHERE key = 'clean_shutdown'").run();
    db.prepare('UPDATE eddy_partitions SET recovery_point = 0').run();
    db.close();
    store = await LogStore.open({ path });
    expect(store.cleanStart).toBe(false);
    p = await store.partition('t', 0);
    expect([p.logEndOffset, contents(p)]).toEqual([7, ['a=2@2', 'c=2@5', 'd=1@6']]);
    await store.close();
  });

  it('refuses a change that reaches the uncleanable tail, a replacement with another span, and a plan made before a truncation', async () => {
    const store = await LogStore.open({ path: join(tempDir(), 'log.db') });
    const p = await store.partition('t', 0);
    for (let i = 0; i < 4; i++) await p.append([encodeRecordBatch([rec('k', `${i}`), rec('k', `${i}b`)])]);
    const range = p.cleanableRange();
    expect(range.to).toBe(6);
    const batches = stored(p);
    await expectCode(p.replaceBatches(range, [{ original: storedBatchIdentity(batches[3]!), replacement: null }]), 'INVALID_REQUEST', /uncleanable offset 6/);
    const other = encodeRecordBatch([rec('k', 'x')], { baseOffset: 0 });
    await expectCode(p.replaceBatches(range, [{ original: storedBatchIdentity(batches[0]!), replacement: other }]), 'INVALID_REQUEST', /must span 0\.\.1/);
    await p.truncateTo(6);
    await expectCode(p.replaceBatches(range, [{ original: storedBatchIdentity(batches[0]!), replacement: null }]), 'INVALID_REQUEST', /truncated or rewound/);
    expect(contents(p)).toHaveLength(6);
    await store.close();
  });

  it('leaves a batch alone that changed or went since the cleaner read it (retention won the race)', async () => {
    const store = await LogStore.open({ path: join(tempDir(), 'log.db') });
    const p = await store.partition('t', 0);
    for (let i = 0; i < 4; i++) await p.append([encodeRecordBatch([rec('k', `${i}`)])]);
    const range = p.cleanableRange();
    const [b0, b1] = stored(p);
    await p.deleteBefore(1); // retention removes batch 0 meanwhile
    const changed = await p.replaceBatches(range, [
      { original: storedBatchIdentity(b0!), replacement: rewriteBatch(b0!, () => true) },
      { original: { ...storedBatchIdentity(b1!), crc: Uint8Array.of(0, 0, 0, 0) }, replacement: null }, // not what is stored
    ]);
    expect(changed).toBe(0);
    expect(contents(p)).toEqual(['k=1@1', 'k=2@2', 'k=3@3']);
    await store.close();
  });

  it('is safe against appends racing with it at the tail', async () => {
    const store = await LogStore.open({ path: join(tempDir(), 'log.db') });
    const p = await store.partition('t', 0);
    for (let i = 0; i < 20; i++) await p.append([encodeRecordBatch([rec('k', `${i}`)])]);
    const range = p.cleanableRange();
    const changes = stored(p)
      .filter((b) => readBatchHeader(b).baseOffset < range.to)
      .map((b) => ({ original: storedBatchIdentity(b), replacement: null }));
    // Appends posted before and after the replacement share group commits with it.
    const append = (i: number) => p.append([encodeRecordBatch([rec('k', `n${i}`)])]);
    const first = Array.from({ length: 15 }, (_, i) => append(i));
    const replaced = p.replaceBatches(range, changes);
    const appends = [...first, ...Array.from({ length: 15 }, (_, i) => append(15 + i))];
    const [changed, ...results] = await Promise.all([replaced, ...appends]);
    expect(changed).toBe(19);
    expect(results.map((r) => r.baseOffset)).toEqual(Array.from({ length: 30 }, (_, i) => 20 + i));
    expect(contents(p)).toEqual(['k=19@19', ...Array.from({ length: 30 }, (_, i) => `k=n${i}@${20 + i}`)]);
    await store.close();
  });
});

describe('LogCleaner', () => {
  async function setup(opts: { minDirtyBatches?: number } = {}) {
    const path = join(tempDir(), 'log.db');
    const store = await LogStore.open({ path });
    const p = await store.partition('t', 0);
    let now = T0;
    const target: CleanerTarget = { log: p, deleteRetentionMs: DAY };
    const cleaner = new LogCleaner({ store, targets: () => [target], clock: () => now, minDirtyBatches: opts.minDirtyBatches ?? 1 });
    return { path, store, p, cleaner, target, advance: (ms: number) => (now += ms) };
  }

  it("keeps every key's latest value at its offset, removes tombstones once delete.retention.ms has passed, and shrinks the file", async () => {
    const { store, p, cleaner, advance } = await setup();
    const value = 'x'.repeat(2000);
    // 10 keys, 40 updates each, 1 KiB+ values, gzip every other batch; then tombstones for k0..k2.
    for (let round = 0; round < 40; round++) {
      const records = Array.from({ length: 10 }, (_, k) => rec(`k${k}`, `${round}:${value}`, T0 + round));
      await p.append([encodeRecordBatch(records, { compression: round % 2 ? Compression.gzip : Compression.none })]);
    }
    await p.append([encodeRecordBatch([rec('k0', null, T0 + 100), rec('k1', null, T0 + 100), rec('k2', null, T0 + 100)])]); // 400-402
    await p.append([encodeRecordBatch([rec('tail', 'last', T0 + 200)])]); // 403: the active tail
    const pages = () => store.reader.pragma('page_count', { simple: true }) as number;
    const pagesBefore = pages();
    const leo = p.logEndOffset;

    const [r] = await cleaner.runOnce();
    expect(r).toMatchObject({ cleanedTo: 403, recordsRemoved: 393, tombstonesRemoved: 0, complete: true });
    const latest = Array.from({ length: 7 }, (_, i) => `k${i + 3}=39:${value}@${390 + i + 3}`);
    const tombstones = ['k0=✝@400', 'k1=✝@401', 'k2=✝@402'];
    expect(contents(p)).toEqual([...latest, ...tombstones, 'tail=last@403']);
    // Round 39's batch was gzip and is rewritten with gzip, keeping its span 390..399.
    expect(readBatchHeader(stored(p)[0]!)).toMatchObject({ baseOffset: 390, lastOffsetDelta: 9, recordCount: 7, compression: Compression.gzip });
    expect(p.logEndOffset).toBe(leo);
    expect(pages()).toBeLessThan(pagesBefore / 4);

    // Nothing new, no tombstone due: not due, and a forced pass changes nothing.
    expect(cleaner.isDue({ log: p, deleteRetentionMs: DAY })).toBe(false);
    expect(await cleaner.runOnce()).toEqual([]);
    advance(DAY + 100 - 1);
    expect(cleaner.isDue({ log: p, deleteRetentionMs: DAY })).toBe(false);
    advance(1); // exactly delete.retention.ms after the tombstones' timestamp
    expect(cleaner.isDue({ log: p, deleteRetentionMs: DAY })).toBe(true);
    const [r2] = await cleaner.runOnce();
    expect(r2).toMatchObject({ tombstonesRemoved: 3, batchesDeleted: 1 });
    expect(contents(p)).toEqual([...latest, 'tail=last@403']);
    expect(p.logEndOffset).toBe(leo);
    await store.close();
  });

  it('cleans when enough batches are dirty, not before; the first round after a start counts every batch', async () => {
    const { store, p, cleaner } = await setup({ minDirtyBatches: 5 });
    for (let i = 0; i < 5; i++) await p.append([encodeRecordBatch([rec('k', `${i}`)])]);
    expect(cleaner.isDue({ log: p, deleteRetentionMs: DAY })).toBe(false); // 4 cleanable batches: the 5th is the tail
    await p.append([encodeRecordBatch([rec('k', '5')])]);
    const [r] = await cleaner.runOnce();
    expect(r).toMatchObject({ cleanedTo: 5, batchesDeleted: 4 });
    expect(contents(p)).toEqual(['k=4@4', 'k=5@5']);
    for (let i = 6; i < 10; i++) await p.append([encodeRecordBatch([rec('k', `${i}`)])]);
    expect(cleaner.isDue({ log: p, deleteRetentionMs: DAY })).toBe(false); // 4 dirty batches (5..8)
    await p.append([encodeRecordBatch([rec('k', '10')])]);
    expect(cleaner.isDue({ log: p, deleteRetentionMs: DAY })).toBe(true);
    await store.close();
  });

  it("keeps an idempotent producer's last batch as an empty batch with its producer fields", async () => {
    const { store, p, cleaner } = await setup();
    await p.append([encodeRecordBatch([rec('k', 'p7', Date.now())], { producerId: 7, producerEpoch: 1, baseSequence: 0 })]); // 0
    await p.append([encodeRecordBatch([rec('k', 'p8a', Date.now())], { producerId: 8, producerEpoch: 0, baseSequence: 0 })]); // 1
    await p.append([encodeRecordBatch([rec('k', 'p8b', Date.now()), rec('j', 'x', Date.now())], { producerId: 8, producerEpoch: 0, baseSequence: 1 })]); // 2-3
    await p.append([encodeRecordBatch([rec('k', 'z')])]); // 4
    await p.append([encodeRecordBatch([rec('tail', 't')])]); // 5: the active tail
    // The cleaner's clock is T0, before the producers' timestamps: both are active.
    await cleaner.runOnce();
    const headers = stored(p).map(readBatchHeader);
    expect(headers.map((h) => [h.baseOffset, h.recordCount, h.producerId, h.producerEpoch, h.baseSequence, h.lastOffsetDelta])).toEqual([
      [0, 0, 7, 1, 0, 0], // producer 7's last batch: kept, empty
      // producer 8's first batch went; its last batch lost k but keeps j and its span
      [2, 1, 8, 0, 1, 1],
      [4, 1, -1, -1, -1, 0],
      [5, 1, -1, -1, -1, 0],
    ]);
    expect(contents(p)).toEqual(['j=x@3', 'k=z@4', 'tail=t@5']);
    await store.close();
  });
});
