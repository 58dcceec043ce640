import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey, StickyPartitioner, toPositive } from '../../gateway/client/partitioner.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('murmur2: Kafka UtilsTest.testMurmur2 vectors', () => {
  const vectors: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
    ['', 275646681],
  ];
  it.each(vectors)('murmur2(%j) = %i', (input, expected) => {
    expect(murmur2(utf8(input))).toBe(expected);
  });

  it('maps keys to the partition Kafka picks', () => {
    expect(partitionForKey(utf8('foobar'), 50)).toBe(16);
    expect(partitionForKey(utf8('foobar'), 10)).toBe(6);
  });

  it('is a signed int32 and partitions are always in range', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 1000 }), (key, n) => {
        const h = murmur2(key);
        expect(Number.isInteger(h) && h >= -(2 ** 31) && h < 2 ** 31).toBe(true);
        const p = partitionForKey(key, n);
        expect(p >= 0 && p < n).toBe(true);
      }),
    );
  });

  it('toPositive clears the sign bit, including for MIN_VALUE', () => {
    expect(toPositive(-(2 ** 31))).toBe(0);
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(5)).toBe(5);
  });
});

describe('sticky partitioner (null keys)', () => {
  it('sticks to one partition until its batch completes, then moves to another', () => {
    const sticky = new StickyPartitioner(() => 0.5);
    const first = sticky.partition('t', 4);
    for (let i = 0; i < 10; i++) expect(sticky.partition('t', 4)).toBe(first);
    sticky.batchCompleted('t', first);
    const second = sticky.partition('t', 4);
    expect(second).not.toBe(first);
    for (let i = 0; i < 10; i++) expect(sticky.partition('t', 4)).toBe(second);
  });

  it('ignores completed batches of other partitions and keeps topics apart', () => {
    const sticky = new StickyPartitioner(() => 0);
    const a = sticky.partition('a', 3);
    const b = sticky.partition('b', 3);
    sticky.batchCompleted('a', (a + 1) % 3);
    expect(sticky.partition('a', 3)).toBe(a);
    sticky.batchCompleted('a', a);
    expect(sticky.partition('a', 3)).not.toBe(a);
    expect(sticky.partition('b', 3)).toBe(b);
  });

  it('never leaves the range and always changes partition when it can', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.array(fc.double({ min: 0, max: 0.9999999, noNaN: true }), { minLength: 1, maxLength: 50 }), (n, randoms) => {
        let i = 0;
        const sticky = new StickyPartitioner(() => randoms[i++ % randoms.length]!);
        let prev = sticky.partition('t', n);
        for (let k = 0; k < 20; k++) {
          expect(prev >= 0 && prev < n).toBe(true);
          sticky.batchCompleted('t', prev);
          const next = sticky.partition('t', n);
          if (n > 1) expect(next).not.toBe(prev);
          prev = next;
        }
      }),
    );
  });

  it('spreads over all partitions over time', () => {
    const sticky = new StickyPartitioner();
    const seen = new Set<number>();
    for (let k = 0; k < 500; k++) {
      const p = sticky.partition('t', 3);
      seen.add(p);
      sticky.batchCompleted('t', p);
    }
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });

  it('re-picks when the partition count changes', () => {
    const sticky = new StickyPartitioner(() => 0.99);
    expect(sticky.partition('t', 10)).toBe(9);
    expect(sticky.partition('t', 2)).toBe(1);
  });
});
