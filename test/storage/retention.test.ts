/** Retention decisions (pure): time and size limits, their boundaries, the high watermark, the policy. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideRetention, shouldReleaseFreePages, type RetentionConfig, type RetentionView } from '../../node/storage/retention.js';

interface Batch {
  base: number;
  count: number;
  maxTs: number;
  bytes: number;
}

/** Batches laid end to end from `start`; each holds `count` records. */
function batches(specs: { count?: number; maxTs: number; bytes?: number }[], start = 0): Batch[] {
  let base = start;
  return specs.map((s) => {
    const b = { base, count: s.count ?? 10, maxTs: s.maxTs, bytes: s.bytes ?? 100 };
    base += b.count;
    return b;
  });
}

/** The view retention-view.ts gives from SQLite, computed from an array. */
function viewOf(log: Batch[], opts: { logStart?: number; hw?: number } = {}): RetentionView {
  const end = log.length ? log[log.length - 1]!.base + log[log.length - 1]!.count : 0;
  const hw = opts.hw ?? end;
  const positions: number[] = [];
  const runningMax: number[] = [];
  let pos = 1000; // positions need not start at 0
  let max = -1;
  for (const b of log) {
    positions.push(pos);
    pos += b.bytes;
    max = Math.max(max, b.maxTs);
    runningMax.push(max);
  }
  const holdingHw = log.find((b) => b.base <= hw && hw < b.base + b.count);
  return {
    logStartOffset: opts.logStart ?? log[0]?.base ?? 0,
    deletableEnd: holdingHw ? holdingHw.base : hw,
    sizeBytes: log.reduce((n, b) => n + b.bytes, 0),
    firstBatchWithTimestampAtLeast: (ts) => log.find((b, i) => b.base < hw && runningMax[i]! >= ts)?.base ?? null,
    firstBatchFromByte: (bytes) => log.find((b, i) => b.base < hw && positions[i]! >= positions[0]! + bytes)?.base ?? null,
  };
}

const cfg = (c: Partial<RetentionConfig>): RetentionConfig => ({ retentionMs: -1, retentionBytes: -1, cleanupPolicy: 'delete', ...c });

describe('time retention (retention.ms)', () => {
  const log = batches([{ maxTs: 1000 }, { maxTs: 2000 }, { maxTs: 3000 }]); // offsets 0-9, 10-19, 20-29

  it('deletes whole batches whose newest record is older than now - retention.ms, and keeps one exactly at the limit', () => {
    expect(decideRetention(viewOf(log), cfg({ retentionMs: 1500 }), 4000)).toEqual({ deleteBefore: 20, olderThan: 2500 });
    // cutoff 2000: the batch whose max timestamp is exactly 2000 stays (Kafka deletes only when now - ts > retention.ms)
    expect(decideRetention(viewOf(log), cfg({ retentionMs: 1500 }), 3500)).toEqual({ deleteBefore: 10, olderThan: 2000 });
    expect(decideRetention(viewOf(log), cfg({ retentionMs: 1500 }), 3501)?.deleteBefore).toBe(20);
    expect(decideRetention(viewOf(log), cfg({ retentionMs: 1500 }), 2500)).toBeNull(); // nothing old enough
  });

  it('deletes the newest batch too once it is old: the log empties up to the high watermark, whose offset stays', () => {
    expect(decideRetention(viewOf(log), cfg({ retentionMs: 1000 }), 10_000)).toEqual({ deleteBefore: 30, olderThan: 9000 });
    expect(decideRetention(viewOf(log), cfg({ retentionMs: 0 }), 3001)?.deleteBefore).toBe(30);
    expect(decideRetention(viewOf(log), cfg({ retentionMs: 0 }), 3000)?.deleteBefore).toBe(20);
  });

  it('never deletes at or past the high watermark, however old', () => {
    expect(decideRetention(viewOf(log, { hw: 20 }), cfg({ retentionMs: 1 }), 1e9)?.deleteBefore).toBe(20);
    expect(decideRetention(viewOf(log, { hw: 25 }), cfg({ retentionMs: 1 }), 1e9)?.deleteBefore).toBe(20); // 20-29 is not wholly committed
    expect(decideRetention(viewOf(log, { hw: 0 }), cfg({ retentionMs: 1 }), 1e9)).toBeNull();
  });

  it('stops at the first batch holding a newer record, even if older batches follow (a producer clock ahead)', () => {
    const skewed = batches([{ maxTs: 1000 }, { maxTs: 9000 }, { maxTs: 1000 }]);
    expect(decideRetention(viewOf(skewed), cfg({ retentionMs: 1000 }), 5000)?.deleteBefore).toBe(10);
  });

  it('keeps everything with retention.ms = -1, and does nothing once the log start is past what is due', () => {
    expect(decideRetention(viewOf(log), cfg({ retentionMs: -1 }), 1e12)).toBeNull();
    expect(decideRetention(viewOf(log.slice(2), { logStart: 20 }), cfg({ retentionMs: 1500 }), 4000)).toBeNull();
    // A log start inside a batch (a straddling batch kept whole) never moves back.
    expect(decideRetention(viewOf(log.slice(1), { logStart: 15 }), cfg({ retentionMs: 1500 }), 3400)).toBeNull();
    expect(decideRetention(viewOf(log.slice(1), { logStart: 15 }), cfg({ retentionMs: 1500 }), 4000)?.deleteBefore).toBe(20);
  });

  it('does nothing on an empty log', () => {
    expect(decideRetention(viewOf([], { logStart: 42, hw: 42 }), cfg({ retentionMs: 0, retentionBytes: 0 }), 1e12)).toBeNull();
  });
});

describe('size retention (retention.bytes, per partition)', () => {
  const log = batches([100, 100, 100, 100, 100].map((bytes, i) => ({ maxTs: 1000 + i, bytes })));

  it('deletes the oldest batches until the partition holds at most retention.bytes', () => {
    expect(decideRetention(viewOf(log), cfg({ retentionBytes: 250 }), 0)).toEqual({ deleteBefore: 30, sizeBytes: 500 }); // 200 left
    expect(decideRetention(viewOf(log), cfg({ retentionBytes: 300 }), 0)?.deleteBefore).toBe(20); // exactly 300 left
    expect(decideRetention(viewOf(log), cfg({ retentionBytes: 499 }), 0)?.deleteBefore).toBe(10);
    expect(decideRetention(viewOf(log), cfg({ retentionBytes: 500 }), 0)).toBeNull(); // at the limit: nothing
    expect(decideRetention(viewOf(log), cfg({ retentionBytes: -1 }), 0)).toBeNull();
  });

  it('deletes everything below the high watermark with retention.bytes = 0, or when one batch exceeds the limit', () => {
    expect(decideRetention(viewOf(log), cfg({ retentionBytes: 0 }), 0)?.deleteBefore).toBe(50);
    const big = batches([{ maxTs: 1, bytes: 100 }, { maxTs: 2, bytes: 5000 }]);
    expect(decideRetention(viewOf(big), cfg({ retentionBytes: 1000 }), 0)?.deleteBefore).toBe(20);
  });

  it('counts batches above the high watermark in the size but never deletes them', () => {
    expect(decideRetention(viewOf(log, { hw: 20 }), cfg({ retentionBytes: 100 }), 0)?.deleteBefore).toBe(20);
  });

  it('works with uneven batch sizes', () => {
    const uneven = batches([{ maxTs: 1, bytes: 400 }, { maxTs: 2, bytes: 10 }, { maxTs: 3, bytes: 10 }, { maxTs: 4, bytes: 300 }]);
    expect(decideRetention(viewOf(uneven), cfg({ retentionBytes: 320 }), 0)?.deleteBefore).toBe(10); // 320 left
    expect(decideRetention(viewOf(uneven), cfg({ retentionBytes: 319 }), 0)?.deleteBefore).toBe(20); // 310 left
  });
});

describe('both limits and the cleanup policy', () => {
  const log = batches([{ maxTs: 1000 }, { maxTs: 2000 }, { maxTs: 3000 }, { maxTs: 4000 }]);

  it('deletes up to the further of the two cuts, naming each limit that deleted something', () => {
    expect(decideRetention(viewOf(log), cfg({ retentionMs: 1000, retentionBytes: 300 }), 2500)).toEqual({ deleteBefore: 10, olderThan: 1500, sizeBytes: 400 });
    expect(decideRetention(viewOf(log), cfg({ retentionMs: 1000, retentionBytes: 100 }), 2500)).toEqual({ deleteBefore: 30, olderThan: 1500, sizeBytes: 400 });
    expect(decideRetention(viewOf(log), cfg({ retentionMs: 1000, retentionBytes: 400 }), 3500)).toEqual({ deleteBefore: 20, olderThan: 2500 });
  });

  it('applies only to policies containing delete: compact-only topics are left alone', () => {
    const c = { retentionMs: 0, retentionBytes: 0 };
    expect(decideRetention(viewOf(log), cfg({ ...c, cleanupPolicy: 'compact' }), 1e12)).toBeNull();
    expect(decideRetention(viewOf(log), cfg({ ...c, cleanupPolicy: 'compact,delete' }), 1e12)?.deleteBefore).toBe(40);
    expect(decideRetention(viewOf(log), cfg({ ...c, cleanupPolicy: 'delete' }), 1e12)?.deleteBefore).toBe(40);
  });

  it('agrees with a batch-by-batch reference for any log, limits, time and high watermark', () => {
    const arb = fc.record({
      specs: fc.array(fc.record({ count: fc.integer({ min: 1, max: 5 }), maxTs: fc.integer({ min: 0, max: 100 }), bytes: fc.integer({ min: 1, max: 50 }) }), { maxLength: 12 }),
      start: fc.integer({ min: 0, max: 1000 }),
      retentionMs: fc.integer({ min: -1, max: 120 }),
      retentionBytes: fc.integer({ min: -1, max: 400 }),
      now: fc.integer({ min: 0, max: 200 }),
      hwBack: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(arb, ({ specs, start, retentionMs, retentionBytes, now, hwBack }) => {
        const log = batches(specs, start);
        // The high watermark sits at a batch boundary, `hwBack` batches below the end.
        const hwBatch = Math.max(0, log.length - hwBack);
        const hw = hwBatch < log.length ? log[hwBatch]!.base : log.length ? log[log.length - 1]!.base + log[log.length - 1]!.count : start;
        const got = decideRetention(viewOf(log, { logStart: start, hw }), cfg({ retentionMs, retentionBytes }), now);

        // Reference: walk the committed batches from the start.
        let timeCut = start;
        if (retentionMs >= 0) {
          let i = 0;
          while (i < hwBatch && log[i]!.maxTs < now - retentionMs) i++;
          timeCut = i < hwBatch ? log[i]!.base : hw;
        }
        let sizeCut = start;
        if (retentionBytes >= 0) {
          let size = log.reduce((n, b) => n + b.bytes, 0);
          let i = 0;
          while (i < hwBatch && size > retentionBytes) size -= log[i++]!.bytes;
          sizeCut = i < hwBatch ? log[i]!.base : hw;
        }
        const want = Math.min(hw, Math.max(timeCut, sizeCut));
        expect(got?.deleteBefore ?? start).toBe(want);
        if (got) expect(got.deleteBefore).toBeGreaterThan(start);
      }),
      { numRuns: 500 },
    );
  });
});

describe('returning free pages', () => {
  it('releases when a tenth of the file is free or the disk guard is refusing, and leaves a trickle for reuse', () => {
    expect(shouldReleaseFreePages(0, 1000, true)).toBe(false);
    expect(shouldReleaseFreePages(99, 1000, false)).toBe(false);
    expect(shouldReleaseFreePages(100, 1000, false)).toBe(true);
    expect(shouldReleaseFreePages(1, 1000, true)).toBe(true);
  });
});
