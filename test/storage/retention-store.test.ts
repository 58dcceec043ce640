/**
 * Retention against a real SQLite store: the view's index lookups and binary search, the
 * retention task over a topic manager (injected clock), returning pages to the file system,
 * and the disk guard's sampling of real files.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isEddyError } from '../../protocol/errors.js';
import { encodeRecordBatch } from '../../protocol/record-batch.js';
import { DiskGuard, MIN_FREE_BYTES } from '../../node/storage/disk-guard.js';
import { LogStore } from '../../node/storage/log-store.js';
import { retentionView } from '../../node/storage/retention-view.js';
import { RetentionTask } from '../../node/topics/retention-task.js';
import { TopicManager } from '../../node/topics/topic-manager.js';
import { captureLogger, tempDir } from '../helpers/tmp.js';

const T0 = 1_700_000_000_000;

/** A batch of `n` records of `size` bytes, with timestamps ts, ts+1, … */
function batch(n: number, size: number, ts: number): Uint8Array {
  return encodeRecordBatch(Array.from({ length: n }, (_, i) => ({ value: new Uint8Array(size).fill(i & 0xff), timestamp: ts + i })));
}

describe('retention view on SQLite', () => {
  it('answers the time and size questions as a full scan of the rows would', async () => {
    const store = await LogStore.open({ path: join(tempDir(), 'log.db') });
    const p = await store.partition('t', 0);
    // Uneven sizes and counts, timestamps mostly rising with a few from a clock behind.
    let seed = 7;
    const rand = (m: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % m;
    for (let i = 0; i < 80; i++) await p.append([batch(1 + rand(5), 10 + rand(400), T0 + i * 1000 - (rand(4) === 0 ? 5000 : 0))]);
    await p.deleteBefore(7); // may leave a straddling batch before the log start
    const rows = store.reader
      .prepare(`SELECT base_offset, last_offset, running_max_timestamp, position FROM log_${p.id} ORDER BY base_offset`)
      .raw(true)
      .all() as [number, number, number, number][];
    const view = retentionView(p);
    expect(view.logStartOffset).toBe(7);
    expect(view.deletableEnd).toBe(p.highWatermark);
    expect(view.sizeBytes).toBe(p.sizeBytes);
    for (let ts = T0 - 6000; ts < T0 + 82_000; ts += 250) {
      expect(view.firstBatchWithTimestampAtLeast(ts), `at ${ts}`).toBe(rows.find((r) => r[2] >= ts)?.[0] ?? null);
    }
    for (let bytes = 0; bytes <= p.sizeBytes + 10; bytes += 37) {
      expect(view.firstBatchFromByte(bytes), `from byte ${bytes}`).toBe(rows.find((r) => r[3] >= rows[0]![3] + bytes)?.[0] ?? null);
    }
    await store.close();
  });
});

async function topicsOn(dir: string, logger = captureLogger().logger) {
  const store = await LogStore.open({ path: join(dir, 'log.db'), logger });
  const topics = await TopicManager.open(store, logger);
  return { store, topics };
}

describe('retention task', () => {
  it('deletes by time and size per topic on an injected clock, skips compact-only and internal topics, and logs what and why', async () => {
    const { logger, lines } = captureLogger();
    const { store, topics } = await topicsOn(tempDir(), logger);
    await topics.create({ name: 'timed', partitions: 2, replicationFactor: 1, configs: { 'retention.ms': '60000' } });
    await topics.create({ name: 'sized', partitions: 1, replicationFactor: 1, configs: { 'retention.bytes': '3000' } });
    await topics.create({ name: 'compacted', partitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'compact', 'retention.ms': '1' } });
    await topics.create({ name: '__internal', partitions: 1, replicationFactor: 1, configs: { 'retention.ms': '1' } }, { internal: true });
    for (let i = 0; i < 10; i++) {
      for (const [t, p] of [['timed', 0], ['timed', 1], ['sized', 0], ['compacted', 0], ['__internal', 0]] as const) {
        await topics.partition(t, p).append([batch(2, 400, T0 + i * 10_000)]); // 10 s apart
      }
    }
    let now = T0 + 90_000 + 60_000; // the batch at T0+90 s is exactly 60 s old: kept, with everything after it
    const task = new RetentionTask({ topics, store, logger, now: () => now });
    const run = await task.runOnce();

    const timed = topics.partition('timed', 0);
    expect(timed.logStartOffset).toBe(18); // batches at T0 … T0+80 s went, T0+90 s stays
    expect(topics.partition('timed', 1).logStartOffset).toBe(18);
    const sized = topics.partition('sized', 0);
    expect(sized.sizeBytes).toBeLessThanOrEqual(3000);
    expect(sized.sizeBytes + 900).toBeGreaterThan(3000); // not one batch more than needed
    expect(topics.partition('compacted', 0).logStartOffset).toBe(0);
    expect(topics.partition('__internal', 0).logStartOffset).toBe(0);
    expect(run.deleted.map((d) => `${d.topic}-${d.partition} ${d.fromOffset}..${d.toOffset}`).sort()).toEqual([
      `sized-0 0..${sized.logStartOffset}`,
      'timed-0 0..18',
      'timed-1 0..18',
    ]);
    const info = lines.find((l) => l.level === 'info' && l.msg.includes('timed-0'));
    expect(info?.msg).toMatch(/^retention deleted offsets 0\.\.17 of timed-0 \(\d+(\.\d)? KiB\); the log now starts at 18\. Why: records older than 2023-11-14T22:14:50\.000Z \(retention\.ms=60000\)$/);
    expect(lines.find((l) => l.msg.includes('sized-0'))?.msg).toMatch(/Why: the partition held \d+(\.\d)? KiB, over retention\.bytes=3000$/);

    // Reads below the new log start are out of range; the log end offset is unchanged.
    expect(() => timed.read(0, 1 << 20)).toThrow(/OFFSET_OUT_OF_RANGE/);
    expect(timed.logEndOffset).toBe(20);

    // Later, everything is old: the log empties up to the high watermark, offsets are not reused.
    now += 3_600_000;
    await task.runOnce();
    expect(timed.logStartOffset).toBe(20);
    expect(timed.sizeBytes).toBe(0);
    expect(timed.read(20, 1 << 20).batches).toEqual([]);
    expect((await timed.append([batch(1, 10, now)])).baseOffset).toBe(20);

    // Nothing due: a run deletes nothing and logs nothing.
    const before = lines.length;
    expect((await task.runOnce()).deleted).toEqual([]);
    expect(lines.slice(before).filter((l) => l.level !== 'debug')).toEqual([]);

    // The log start survives a restart.
    await store.close();
    const again = await topicsOn(join(store.path, '..'));
    expect(again.topics.partition('timed', 0).logStartOffset).toBe(20);
    await again.store.close();
  });

  it('returns freed pages so the files on disk shrink, and serialises runs', async () => {
    const dir = tempDir();
    const { store, topics } = await topicsOn(dir);
    await topics.create({ name: 'big', partitions: 1, replicationFactor: 1, configs: { 'retention.ms': '1000' } });
    const log = topics.partition('big', 0);
    for (let i = 0; i < 40; i++) await log.append([batch(50, 1000, T0)]); // ~2 MB
    await store.checkpoint();
    const files = () => statSync(join(dir, 'log.db')).size + (statSync(join(dir, 'log.db-wal'), { throwIfNoEntry: false })?.size ?? 0);
    const full = files();
    expect(full).toBeGreaterThan(1_900_000);
    const task = new RetentionTask({ topics, store, logger: captureLogger().logger, now: () => T0 + 10_000 });
    const [a, b] = await Promise.all([task.runOnce(), task.runOnce()]);
    expect(a.deleted).toHaveLength(1);
    expect(a.releasedPages).toBeGreaterThan(400);
    expect(b.deleted).toEqual([]); // the second ran after the first: nothing left to do
    expect(files()).toBeLessThan(full / 5);
    expect(store.pageCounts().free).toBe(0);
    await store.close();
  });
});

describe('disk guard on real files', () => {
  it('samples the store files, adds what it admitted since, samples again after a quarter of the headroom, and refuses in spells', () => {
    const dir = tempDir();
    const db = join(dir, 'log.db');
    writeFileSync(db, new Uint8Array(600_000));
    const { logger, lines } = captureLogger();
    let now = 0;
    let logical = 0;
    const guard = new DiskGuard({
      dataDir: dir,
      files: [db, `${db}-wal`], // no WAL file yet: counts as 0
      databaseBytes: () => logical,
      maxDiskBytes: 1_000_000, // records refused from 950 000
      logger,
      now: () => now,
      statfs: () => ({ totalBytes: 100e9, freeBytes: 50e9 }),
    });
    const refusal = (kind: 'records' | 'internal', bytes: number) => {
      try {
        guard.admit(kind, bytes);
      } catch (err) {
        return err;
      }
      return null;
    };
    guard.admit('records', 50_000); // first sample: 600 000 on disk, 350 000 of headroom
    expect(guard.usage).toMatchObject({ storeBytes: 600_000, admittedBytes: 50_000 });
    const err = refusal('records', 300_000); // 600 000 + 50 000 + 300 000 reaches 950 000
    expect(isEddyError(err, 'KAFKA_STORAGE_ERROR') && err.retriable).toBe(true);
    expect((err as Error).message).toMatch(
      /^KAFKA_STORAGE_ERROR: new records refused to keep the disk from filling: the log store would use 928 KiB of its --max-disk-bytes budget of 977 KiB \(95 %; new records are refused from 95 %\)\. Lower retention\.ms or retention\.bytes .* raise --max-disk-bytes\..*retry\.$/,
    );
    expect(lines.map((l) => `${l.level} ${l.msg}`)).toEqual([expect.stringMatching(/^warn disk guard: refusing new records \(produce and MQTT\); reads go on: /)]);

    // The appends landed (the database's logical size counts when larger than the file): 920 000.
    logical = 920_000;
    now += 500;
    expect(guard.refresh().storeBytes).toBe(920_000);
    // A spell: records stay refused, even a byte that would fit under 950 000, until space is freed
    // (the resume margin: 1 MiB, here 5 % of the small budget); internal writes go on to 100 %.
    expect(refusal('records', 1)).not.toBeNull();
    expect(guard.refusingRecords).toBe(true);
    expect(refusal('internal', 60_000)).toBeNull();
    expect(refusal('internal', 30_000)).not.toBeNull();
    // Retention freed space: the next sample ends the spell (logged once) and records are taken again.
    logical = 0;
    writeFileSync(db, new Uint8Array(100_000));
    now += 500;
    expect(refusal('records', 10_000)).toBeNull();
    expect(guard.refusingRecords).toBe(false);
    expect(lines.filter((l) => l.level === 'info').map((l) => l.msg)).toEqual([
      'disk guard: taking new records again (the log store uses 97.7 KiB, 46.6 GiB free on the disk)',
      'disk guard: taking internal writes again (the log store uses 97.7 KiB, 46.6 GiB free on the disk)',
    ]);
    // One warning per spell and kind, however many writes were refused.
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg.slice(0, 40))).toEqual([
      'disk guard: refusing new records (produc',
      'disk guard: refusing internal writes (of',
    ]);

    // Headroom is now 850 000: after a quarter of it is admitted the guard looks at the files again
    // (here they grew faster than the admitted bytes, as with WAL copies), within the 500 ms.
    guard.admit('records', 220_000);
    writeFileSync(db, new Uint8Array(900_000));
    expect(refusal('records', 10_000)).toBeNull(); // sampled now: 900 000 + 10 000 fits under 950 000
    expect(guard.usage).toMatchObject({ storeBytes: 900_000, admittedBytes: 10_000 });
    expect(refusal('records', 45_000)).not.toBeNull(); // the quarter is 64 KiB at least, so no new sample: 955 000
  });

  it('keeps a free-space reserve on the file system, half of it for internal writes', () => {
    const dir = tempDir();
    let free = 200 * 1024 * 1024;
    const MiB = 1024 * 1024;
    const guard = new DiskGuard({
      dataDir: dir,
      files: [join(dir, 'log.db')],
      maxDiskBytes: null,
      logger: captureLogger().logger,
      now: () => 0,
      statfs: () => ({ totalBytes: 1024 ** 3, freeBytes: free }), // 1 GiB: the reserve is 64 MiB (5 % is 51 MiB)
    });
    guard.admit('records', 30 * MiB);
    expect(() => guard.admit('records', 110 * MiB)).toThrow(/would have 60 MiB free of 1 GiB, below the 64 MiB the node keeps free for safety .*move --data-dir/);
    guard.admit('internal', 100 * MiB); // 70 MiB left, the internal reserve is 32 MiB
    free = MIN_FREE_BYTES / 2 + 10;
    guard.refresh();
    guard.admit('internal', 10);
    expect(() => guard.admit('internal', 1)).toThrow(/below the 32 MiB the node keeps free for its own bookkeeping/);
  });
});
