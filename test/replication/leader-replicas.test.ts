/** The leader's ISR and high-watermark rules (node/replication/leader-replicas.ts), on an injected clock. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LeaderReplicas } from '../../node/replication/leader-replicas.js';

const LAG_MS = 10_000;

function leader(over: Partial<ConstructorParameters<typeof LeaderReplicas>[0]> = {}): LeaderReplicas {
  return new LeaderReplicas({ leaderId: 1, replicas: [1, 2, 3], isr: [1, 2, 3], highWatermark: 0, epochStartOffset: 0, nowMs: 0, ...over });
}

describe('LeaderReplicas', () => {
  it('advances the high watermark to the smallest log end over the ISR, never backwards', () => {
    const l = leader();
    expect(l.updateHighWatermark(10)).toBe(0); // followers have not fetched yet
    l.onFetch(2, 10, 10, 1);
    expect(l.updateHighWatermark(10)).toBe(0); // follower 3 holds it back
    l.onFetch(3, 6, 10, 1);
    expect(l.updateHighWatermark(10)).toBe(6);
    l.onFetch(3, 4, 10, 2); // it truncated (a divergence): the HW stays
    expect(l.updateHighWatermark(10)).toBe(6);
    expect(l.updateHighWatermark(5)).toBe(6); // nor for the leader's own end
  });

  it('shrinks a follower not caught up within replica.lag.time.max.ms, and only that one', () => {
    const l = leader();
    for (let t = 0; t <= 30_000; t += 1_000) {
      l.onFetch(2, 100 + t, 100 + t, t); // keeps up
      l.onFetch(3, 100, 100 + t, t); // stuck at 100
    }
    expect(l.toShrink(30_000, LAG_MS)).toEqual([3]);
    expect(l.proposal(30_000, LAG_MS)).toEqual([1, 2]);
  });

  it('keeps a follower that reaches where the leader was at its previous fetch (Kafka lastCaughtUpTime)', () => {
    const l = leader({ replicas: [1, 2], isr: [1, 2] });
    // Records arrive between every pair of fetches: the follower is always one step behind the
    // current end, yet it always has what the leader had at its previous fetch.
    let end = 0;
    for (let t = 0; t <= 60_000; t += 500) {
      const had = end;
      end += 10;
      l.onFetch(2, had, end, t);
    }
    expect(l.toShrink(60_000, LAG_MS)).toEqual([]);
  });

  it('rejoins a replica once it reaches the high watermark and this epoch start', () => {
    const l = leader({ isr: [1, 2], highWatermark: 50, epochStartOffset: 40 });
    l.onFetch(3, 30, 60, 1);
    expect(l.toExpand()).toEqual([]);
    l.onFetch(3, 50, 60, 2);
    expect(l.toExpand()).toEqual([3]);
    expect(l.proposal(2, LAG_MS)).toEqual([1, 2, 3]);
  });

  it('counts a pending addition toward the HW at once, and a pending removal until it is committed', () => {
    const l = leader({ isr: [1, 2] });
    l.onFetch(2, 20, 20, 1);
    l.onFetch(3, 5, 20, 1);
    expect(l.updateHighWatermark(20)).toBe(20); // 3 is not in the ISR
    l.onFetch(3, 20, 30, 2);
    l.proposed([1, 2, 3]);
    expect(l.maximalIsr).toEqual([1, 2, 3]);
    l.onFetch(2, 30, 30, 3);
    expect(l.updateHighWatermark(30)).toBe(20); // 3 (pending) is at 20
    l.committed([1, 2, 3]);
    l.proposed([1, 3]); // dropping 2: it still counts until committed
    l.onFetch(3, 30, 40, 4);
    l.onFetch(2, 30, 40, 4);
    expect(l.updateHighWatermark(40)).toBe(30);
    l.committed([1, 3]);
    expect(l.isr).toEqual([1, 3]);
  });

  it('refuses fetches from a non-replica and a proposal without the leader', () => {
    const l = leader();
    expect(() => l.onFetch(9, 0, 0, 0)).toThrow(/replica 9 is not a follower/);
    expect(() => l.proposed([2, 3])).toThrow(/must hold the leader 1/);
  });
});

describe('LeaderReplicas properties', () => {
  type Step = { kind: 'append'; n: number } | { kind: 'fetch'; id: 2 | 3; back: number } | { kind: 'tick'; ms: number } | { kind: 'change' } | { kind: 'commit' };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('append' as const), n: fc.integer({ min: 1, max: 20 }) }),
    fc.record({ kind: fc.constant('fetch' as const), id: fc.constantFrom(2 as const, 3 as const), back: fc.integer({ min: 0, max: 30 }) }),
    fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 6_000 }) }),
    fc.record({ kind: fc.constant('change' as const) }),
    fc.record({ kind: fc.constant('commit' as const) }),
  );

  it('the HW never goes back, never passes the leader, and when it moves every member of the maximal ISR holds it', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const l = leader();
        let end = 0;
        let now = 0;
        let pending: number[] | null = null;
        let hw = 0;
        for (const s of steps) {
          if (s.kind === 'append') end += s.n;
          else if (s.kind === 'tick') now += s.ms;
          else if (s.kind === 'fetch') l.onFetch(s.id, Math.max(0, end - s.back), end, now);
          else if (s.kind === 'change') {
            const p = l.proposal(now, LAG_MS);
            if (p) {
              expect(p).toContain(1);
              l.proposed(p);
              pending = p;
            }
          } else if (s.kind === 'commit' && pending) {
            l.committed(pending);
            pending = null;
          }
          const next = l.updateHighWatermark(end);
          expect(next).toBeGreaterThanOrEqual(hw);
          expect(next).toBeLessThanOrEqual(Math.max(end, hw));
          if (next > hw) for (const id of l.maximalIsr) if (id !== 1) expect(l.follower(id)!.logEndOffset).toBeGreaterThanOrEqual(next);
          hw = next;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a follower that always fetches the leader end is never shrunk', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 5_000 })), { maxLength: 100 }), (rounds) => {
        const l = leader({ replicas: [1, 2], isr: [1, 2] });
        let end = 0;
        let now = 0;
        for (const [n, ms] of rounds) {
          end += n;
          now += ms;
          l.onFetch(2, end, end, now);
          expect(l.toShrink(now, LAG_MS)).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );
  });
});
