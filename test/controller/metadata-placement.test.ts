import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isEddyError } from '../../protocol/errors.js';
import { placeReplicas } from '../../node/controller/metadata/placement.js';

const count = (xs: number[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<number, number>());

describe('replica placement', () => {
  it('a 6-partition topic on 3 brokers puts exactly 2 leaders on each', () => {
    const p = placeReplicas([1, 2, 3], 6, 2);
    expect(count(p.map((r) => r[0]!))).toEqual(new Map([[1, 2], [2, 2], [3, 2]]));
    expect(count(p.flat())).toEqual(new Map([[1, 4], [2, 4], [3, 4]]));
  });

  it('RF=3 on 3 brokers uses every broker once per partition', () => {
    for (const r of placeReplicas([1, 2, 3], 7, 3)) expect([...r].sort()).toEqual([1, 2, 3]);
  });

  it("follows Kafka's rack-unaware layout: followers shift every n partitions", () => {
    expect(placeReplicas([0, 1, 2, 3], 8, 2)).toEqual([
      [0, 1], [1, 2], [2, 3], [3, 0],
      [0, 2], [1, 3], [2, 0], [3, 1],
    ]);
  });

  it('places only on the brokers it is given (fenced ones are left out by the caller) and starts on the least loaded', () => {
    const p = placeReplicas([2, 5, 9], 3, 1, new Map([[2, 10], [5, 0], [9, 3]]));
    expect(p).toEqual([[5], [9], [2]]);
  });

  it('refuses RF above the broker count or below 1', () => {
    for (const rf of [0, 4]) {
      let err: unknown;
      try {
        placeReplicas([1, 2, 3], 1, rf);
      } catch (e) {
        err = e;
      }
      expect(isEddyError(err, 'INVALID_REPLICATION_FACTOR')).toBe(true);
    }
  });

  it('always distinct replicas, leaders within one of each other, deterministic', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(50), { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 40 }), fc.nat(), (brokers, partitions, r) => {
        const rf = 1 + (r % brokers.length);
        const p = placeReplicas(brokers, partitions, rf);
        expect(placeReplicas([...brokers].reverse(), partitions, rf)).toEqual(p);
        expect(p).toHaveLength(partitions);
        for (const replicas of p) {
          expect(replicas).toHaveLength(rf);
          expect(new Set(replicas).size).toBe(rf);
          for (const b of replicas) expect(brokers).toContain(b);
        }
        const leaders = count(p.map((x) => x[0]!));
        const per = brokers.map((b) => leaders.get(b) ?? 0);
        expect(Math.max(...per) - Math.min(...per)).toBeLessThanOrEqual(1);
      }),
    );
  });
});
