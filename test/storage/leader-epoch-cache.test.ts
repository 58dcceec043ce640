import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LeaderEpochCache, UNDEFINED_EPOCH, UNDEFINED_OFFSET } from '../../node/storage/leader-epoch-cache.js';

describe('LeaderEpochCache (Kafka LeaderEpochFileCache rules)', () => {
  it('records where each epoch starts, once, and answers endOffsetFor as OffsetForLeaderEpoch does', () => {
    const c = new LeaderEpochCache();
    expect(c.endOffsetFor(0, 0)).toEqual({ epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_OFFSET });
    expect(c.assign(1, 0)).toBe(true);
    expect(c.assign(1, 5)).toBe(false); // same epoch, later batch
    expect(c.assign(3, 10)).toBe(true);
    expect(c.assign(4, 20)).toBe(true);
    expect(c.entries).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }, { epoch: 4, startOffset: 20 }]);
    expect(c.latestEpoch).toBe(4);
    expect(c.endOffsetFor(4, 25)).toEqual({ epoch: 4, endOffset: 25 }); // the latest ends at the log end
    expect(c.endOffsetFor(3, 25)).toEqual({ epoch: 3, endOffset: 20 });
    expect(c.endOffsetFor(2, 25)).toEqual({ epoch: 1, endOffset: 10 }); // an epoch this log never had: the one before
    expect(c.endOffsetFor(9, 25)).toEqual({ epoch: 4, endOffset: 25 });
    expect(c.endOffsetFor(0, 25)).toEqual({ epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_OFFSET }); // older than the log
  });

  it('drops entries a new assignment contradicts (a rewritten tail), and cuts from both ends', () => {
    const c = new LeaderEpochCache([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }, { epoch: 4, startOffset: 20 }]);
    expect(c.assign(2, 15)).toBe(true); // epochs 3 and 4 cannot both stand with 2 starting at 15
    expect(c.entries).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 15 }]);
    c.assign(5, 30);
    expect(c.truncateFromEnd(30)).toBe(true);
    expect(c.truncateFromEnd(30)).toBe(false);
    expect(c.entries).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 15 }]);
    expect(c.truncateFromStart(17)).toBe(true); // epoch 1 is wholly gone; epoch 2 now starts at the log start
    expect(c.entries).toEqual([{ epoch: 2, startOffset: 17 }]);
    expect(c.truncateFromStart(17)).toBe(false);
    expect(c.truncateFromStart(3)).toBe(false); // below the first entry: nothing to do
    expect(c.clear()).toBe(true);
    expect(c.entries).toEqual([]);
  });

  it('always equals the epochs read off the log it describes, whatever appends, truncations and retention happen', () => {
    type Op = { kind: 'append'; bump: number; n: number } | { kind: 'truncate'; back: number } | { kind: 'retain'; forward: number };
    const op = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), bump: fc.integer({ min: 0, max: 2 }), n: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('truncate' as const), back: fc.integer({ min: 0, max: 6 }) }),
      fc.record({ kind: fc.constant('retain' as const), forward: fc.integer({ min: 0, max: 6 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops: Op[]) => {
        // The model: one epoch per offset, from logStart to logEnd.
        const epochAt: number[] = [];
        let logStart = 0;
        let epoch = 0;
        const cache = new LeaderEpochCache();
        for (const o of ops) {
          if (o.kind === 'append') {
            epoch += o.bump;
            cache.assign(epoch, epochAt.length);
            for (let i = 0; i < o.n; i++) epochAt.push(epoch);
          } else if (o.kind === 'truncate') {
            const end = Math.max(logStart, epochAt.length - o.back);
            epochAt.length = end;
            cache.truncateFromEnd(end);
            epoch = Math.max(epoch, epochAt.at(-1) ?? epoch); // a new leader's epoch is never lower
          } else {
            logStart = Math.min(epochAt.length, logStart + o.forward);
            cache.truncateFromStart(logStart);
          }
        }
        const expected: { epoch: number; startOffset: number }[] = [];
        for (let off = logStart; off < epochAt.length; off++) {
          if (expected.at(-1)?.epoch !== epochAt[off]) expected.push({ epoch: epochAt[off]!, startOffset: off });
        }
        const end = epochAt.length;
        expect(cache.entries.filter((e) => e.startOffset < end)).toEqual(expected);
        // As Kafka's cache: a log emptied by retention keeps the epoch it was in, at its start,
        // so a follower asking for that epoch is told the log end rather than "unknown".
        const beyond = cache.entries.filter((e) => e.startOffset >= end);
        expect(beyond.every((e) => e.startOffset === logStart && logStart === end)).toBe(true);
        expect(beyond.length).toBeLessThanOrEqual(1);
      }),
      { numRuns: 500 },
    );
  });
});
