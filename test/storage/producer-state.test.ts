import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isEddyError } from '../../protocol/errors.js';
import { nextSequence } from '../../protocol/batch-format.js';
import { MAX_CACHED_BATCHES, ProducerStateTable } from '../../node/storage/producer-state.js';

const errorName = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return isEddyError(err) ? err.errorName : String(err);
  }
  return 'none';
};

describe('ProducerStateTable', () => {
  it('answers a resent batch with its original offsets, refuses gaps, fences old epochs', () => {
    const t = new ProducerStateTable();
    expect(t.check(7, 0, 0, 4, 'p')).toEqual({ kind: 'append' });
    t.record(7, 0, { firstSeq: 0, lastSeq: 4, firstOffset: 100, lastOffset: 104 }, 1);
    t.record(7, 0, { firstSeq: 5, lastSeq: 9, firstOffset: 105, lastOffset: 109 }, 2);
    expect(t.check(7, 0, 0, 4, 'p')).toEqual({ kind: 'duplicate', batch: { firstSeq: 0, lastSeq: 4, firstOffset: 100, lastOffset: 104 } });
    expect(t.check(7, 0, 10, 12, 'p')).toEqual({ kind: 'append' });
    expect(errorName(() => t.check(7, 0, 12, 14, 'p'))).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
    expect(errorName(() => t.check(7, 0, 3, 4, 'p'))).toBe('DUPLICATE_SEQUENCE_NUMBER');
    expect(errorName(() => t.check(7, 1, 3, 4, 'p'))).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER'); // a new epoch starts at 0
    expect(t.check(7, 1, 0, 0, 'p')).toEqual({ kind: 'append' });
    t.record(7, 1, { firstSeq: 0, lastSeq: 0, firstOffset: 110, lastOffset: 110 }, 3);
    expect(errorName(() => t.check(7, 0, 10, 12, 'p'))).toBe('PRODUCER_FENCED');
    expect(t.check(8, 0, 42, 50, 'p')).toEqual({ kind: 'append' }); // unknown producer: any sequence
  });

  it('keeps the last MAX_CACHED_BATCHES batches, forgets failed writes and idle producers, and wraps sequences', () => {
    const t = new ProducerStateTable();
    const n = MAX_CACHED_BATCHES + 2;
    for (let i = 0; i < n; i++) t.record(1, 0, { firstSeq: i, lastSeq: i, firstOffset: i, lastOffset: i }, 10);
    expect(t.batchesOf(1).map((b) => b.firstSeq)).toEqual(Array.from({ length: MAX_CACHED_BATCHES }, (_, i) => i + 2));
    expect(t.check(1, 0, 2, 2, 'p')).toMatchObject({ kind: 'duplicate' });
    expect(errorName(() => t.check(1, 0, 1, 1, 'p'))).toBe('DUPLICATE_SEQUENCE_NUMBER'); // too old to say where
    t.truncateFrom(n - 2);
    expect(t.batchesOf(1).at(-1)!.firstSeq).toBe(n - 3);
    expect(t.check(1, 0, n - 2, n - 2, 'p')).toEqual({ kind: 'append' }); // the failed ones must be written again
    expect(t.expire(10 + 1000, 1000)).toBe(0);
    expect(t.expire(10 + 1001, 1000)).toBe(1);
    expect(t.size).toBe(0);
    expect(nextSequence(2 ** 31 - 1)).toBe(0);
    t.record(2, 0, { firstSeq: 2 ** 31 - 3, lastSeq: 2 ** 31 - 1, firstOffset: 0, lastOffset: 2 }, 0);
    expect(t.check(2, 0, 0, 3, 'p')).toEqual({ kind: 'append' });
  });

  it('property: any pattern of resends and duplicated deliveries stores every batch exactly once, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(20), { maxLength: 40 }),
        (sizes, resendPicks) => {
          const t = new ProducerStateTable();
          const log: number[] = []; // first sequence of each stored batch
          let seq = 0;
          let offset = 0;
          const batches = sizes.map((n) => {
            const b = { firstSeq: seq, lastSeq: seq + n - 1 };
            seq += n;
            return b;
          });
          const deliver = (b: { firstSeq: number; lastSeq: number }) => {
            try {
              const v = t.check(1, 0, b.firstSeq, b.lastSeq, 'p');
              if (v.kind === 'append') {
                t.record(1, 0, { ...b, firstOffset: offset, lastOffset: offset + b.lastSeq - b.firstSeq }, 0);
                offset += b.lastSeq - b.firstSeq + 1;
                log.push(b.firstSeq);
              }
            } catch (err) {
              if (!isEddyError(err, 'DUPLICATE_SEQUENCE_NUMBER')) throw err;
            }
          };
          let picks = 0;
          batches.forEach((b, i) => {
            deliver(b);
            // Resends of recent batches (what a lost response causes), in any number.
            while (picks < resendPicks.length && resendPicks[picks]! % 3 === 0) {
              const back = batches[Math.max(0, i - (resendPicks[picks]! % 7))]!;
              deliver(back);
              picks++;
            }
            picks++;
          });
          expect(log).toEqual(batches.map((b) => b.firstSeq));
        },
      ),
    );
  });
});
