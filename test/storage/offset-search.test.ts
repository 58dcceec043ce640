import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstBaseOffsetReaching } from '../../node/storage/offset-search.js';

interface Batch {
  base: number;
  last: number;
  /** Monotonic in offset, as running maximum timestamps and byte positions are. */
  value: number;
}

/** Batches with gaps between them (compaction) and monotonic values with repeats. */
const logArb = fc
  .array(fc.tuple(fc.nat(3), fc.nat(4), fc.nat(3)), { minLength: 0, maxLength: 60 })
  .chain((shape) =>
    fc.nat(1000).map((start) => {
      const log: Batch[] = [];
      let at = start;
      let value = 0;
      for (const [gap, span, step] of shape) {
        at += gap;
        value += step;
        log.push({ base: at, last: at + span, value });
        at += span + 1;
      }
      return log;
    }),
  );

describe('firstBaseOffsetReaching', () => {
  it('property: finds what a scan of the rows finds, with gaps in offsets, for any bound', () => {
    fc.assert(
      fc.property(logArb, fc.integer({ min: -1, max: 200 }), fc.nat(400), (log, target, extra) => {
        const floor = (o: number) => [...log].reverse().find((b) => b.base <= o);
        const from = log[0]?.base ?? 0;
        const to = (log.at(-1)?.last ?? 0) + 1 - Math.min(extra, 3);
        const want = log.find((b) => b.base < to && b.value >= target)?.base ?? null;
        let reads = 0;
        const got = firstBaseOffsetReaching((o) => (reads++, floor(o)), from, to, (b) => b.value >= target);
        expect(got).toBe(want);
        expect(reads).toBeLessThanOrEqual(Math.ceil(Math.log2(Math.max(2, to - from + 1))) + 1);
      }),
      { numRuns: 500 },
    );
  });
});
