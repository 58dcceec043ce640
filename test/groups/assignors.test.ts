import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assignorByName,
  cooperativeStep,
  RangeAssignor,
  RoundRobinAssignor,
  StickyAssignor,
  type Assignment,
  type Assignor,
  type MemberSubscription,
  type TopicPartition,
} from '../../node/groups/assignors.js';

const ALL: readonly Assignor[] = [RangeAssignor, RoundRobinAssignor, StickyAssignor];

/** "t0p1" shorthand → TopicPartition. */
function tp(s: string): TopicPartition {
  const m = /^(.+)p(\d+)$/.exec(s);
  if (!m) throw new Error(`bad tp ${s}`);
  return { topic: m[1]!, partition: Number(m[2]) };
}
const tps = (...names: string[]) => names.map(tp);
const fmt = (list: readonly TopicPartition[]) => list.map((x) => `${x.topic}p${x.partition}`);
const key = (x: TopicPartition) => `${x.topic}\u0000${x.partition}`;

function member(memberId: string, topics: string[], owned: string[] = []): MemberSubscription {
  return { memberId, topics, owned: tps(...owned) };
}

function asObject(a: Assignment): Record<string, string[]> {
  return Object.fromEntries([...a].map(([id, list]) => [id, fmt(list)]));
}

/** Every eligible partition exactly once, only to subscribers; every member present. */
function checkValid(members: readonly MemberSubscription[], counts: ReadonlyMap<string, number>, a: Assignment): void {
  expect([...a.keys()].sort()).toEqual(members.map((m) => m.memberId).sort());
  const subs = new Map(members.map((m) => [m.memberId, new Set(m.topics)]));
  const seen = new Set<string>();
  for (const [id, list] of a) {
    for (const x of list) {
      expect(subs.get(id)!.has(x.topic), `${id} got ${x.topic} without subscribing`).toBe(true);
      expect(x.partition >= 0 && x.partition < (counts.get(x.topic) ?? 0), `${x.topic}p${x.partition} exists`).toBe(true);
      expect(seen.has(key(x)), `${x.topic}p${x.partition} assigned twice`).toBe(false);
      seen.add(key(x));
    }
  }
  const subscribed = new Set(members.flatMap((m) => m.topics));
  let expected = 0;
  for (const t of subscribed) expected += counts.get(t) ?? 0;
  expect(seen.size).toBe(expected);
}

/**
 * Balanced as eligibility allows: no chain of moves (A holds a partition of a topic X subscribes
 * to, X holds one of a topic Y subscribes to, …) leads from A to a member with ≥ 2 fewer. Implies
 * counts differ by ≤ 1 among members with identical subscriptions (also checked directly).
 * Returns why not, or null.
 */
function balanceViolation(members: readonly MemberSubscription[], a: Assignment): string | null {
  const subs = new Map(members.map((m) => [m.memberId, new Set(m.topics)]));
  const count = (id: string) => a.get(id)!.length;
  for (const start of a.keys()) {
    const reached = new Set([start]);
    const queue = [start];
    while (queue.length) {
      const x = queue.shift()!;
      for (const [y, ysubs] of subs) {
        if (!reached.has(y) && a.get(x)!.some((p) => ysubs.has(p.topic))) {
          reached.add(y);
          queue.push(y);
        }
      }
    }
    for (const y of reached) {
      if (count(y) < count(start) - 1) return `${start} (${count(start)}) could hand work to ${y} (${count(y)})`;
    }
  }
  const groups = new Map<string, number[]>();
  for (const m of members) {
    const k = [...new Set(m.topics)].sort().join(',');
    groups.set(k, [...(groups.get(k) ?? []), count(m.memberId)]);
  }
  for (const [k, cs] of groups) {
    if (Math.max(...cs) - Math.min(...cs) > 1) return `members subscribed to [${k}] have counts ${cs.join(', ')}`;
  }
  return null;
}

function checkBalanced(members: readonly MemberSubscription[], a: Assignment): void {
  expect(balanceViolation(members, a)).toBeNull();
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('range assignor', () => {
  it("gives Kafka's documented example: C0, C1 on t0, t1 with 3 partitions each", () => {
    const a = RangeAssignor.assign([member('C0', ['t0', 't1']), member('C1', ['t0', 't1'])], new Map([['t0', 3], ['t1', 3]]));
    expect(asObject(a)).toEqual({ C0: ['t0p0', 't0p1', 't1p0', 't1p1'], C1: ['t0p2', 't1p2'] });
  });

  it('splits each topic among its own subscribers only, extras to the first members', () => {
    const members = [member('a', ['x', 'y']), member('b', ['x']), member('c', ['x', 'y'])];
    const a = RangeAssignor.assign(members, new Map([['x', 5], ['y', 3], ['z', 4]]));
    expect(asObject(a)).toEqual({ a: ['xp0', 'xp1', 'yp0', 'yp1'], b: ['xp2', 'xp3'], c: ['xp4', 'yp2'] });
  });

  it('leaves members beyond the partition count empty', () => {
    const a = RangeAssignor.assign([member('a', ['t']), member('b', ['t']), member('c', ['t'])], new Map([['t', 2]]));
    expect(asObject(a)).toEqual({ a: ['tp0'], b: ['tp1'], c: [] });
  });
});

describe('round-robin assignor', () => {
  it("gives Kafka's documented example: C0, C1 on t0, t1 with 3 partitions each", () => {
    const a = RoundRobinAssignor.assign([member('C0', ['t0', 't1']), member('C1', ['t0', 't1'])], new Map([['t0', 3], ['t1', 3]]));
    expect(asObject(a)).toEqual({ C0: ['t0p0', 't0p2', 't1p1'], C1: ['t0p1', 't1p0', 't1p2'] });
  });

  it("gives Kafka's documented example with different subscriptions", () => {
    // C0: t0; C1: t0, t1; C2: t0, t1, t2; t0, t1, t2 have 1, 2, 3 partitions.
    const members = [member('C0', ['t0']), member('C1', ['t0', 't1']), member('C2', ['t0', 't1', 't2'])];
    const a = RoundRobinAssignor.assign(members, new Map([['t0', 1], ['t1', 2], ['t2', 3]]));
    expect(asObject(a)).toEqual({ C0: ['t0p0'], C1: ['t1p0'], C2: ['t1p1', 't2p0', 't2p1', 't2p2'] });
  });
});

describe('sticky assignor', () => {
  const counts = new Map([['t0', 3], ['t1', 3], ['t2', 2]]);
  const topics = ['t0', 't1', 't2'];

  it('starts balanced', () => {
    const members = [member('C0', topics), member('C1', topics), member('C2', topics)];
    const a = StickyAssignor.assign(members, counts);
    checkValid(members, counts, a);
    expect([...a.values()].map((l) => l.length).sort()).toEqual([2, 3, 3]);
  });

  it('keeps what C0 and C1 had when C2 leaves, spreading only C2 partitions', () => {
    const first = StickyAssignor.assign([member('C0', topics), member('C1', topics), member('C2', topics)], counts);
    const stay = ['C0', 'C1'].map((id) => ({ memberId: id, topics, owned: first.get(id)! }));
    const second = StickyAssignor.assign(stay, counts);
    checkValid(stay, counts, second);
    checkBalanced(stay, second);
    for (const id of ['C0', 'C1']) {
      expect(fmt(second.get(id)!)).toEqual(expect.arrayContaining(fmt(first.get(id)!)));
    }
    expect(second.get('C0')!.length + second.get('C1')!.length).toBe(8);
  });

  it('rebalances when a member joins, moving only the minimum', () => {
    const before = [member('C0', ['t'], ['tp0', 'tp1', 'tp2']), member('C1', ['t'], ['tp3', 'tp4', 'tp5'])];
    const after = [...before, member('C2', ['t'])];
    const a = StickyAssignor.assign(after, new Map([['t', 6]]));
    checkValid(after, new Map([['t', 6]]), a);
    expect(a.get('C2')!.length).toBe(2);
    // Each old member gives up exactly one partition and keeps the other two.
    expect(fmt(a.get('C0')!).every((p) => ['tp0', 'tp1', 'tp2'].includes(p))).toBe(true);
    expect(fmt(a.get('C1')!).every((p) => ['tp3', 'tp4', 'tp5'].includes(p))).toBe(true);
  });

  it('drops invalid claims: unsubscribed topic, vanished partition, double claim (smaller id wins)', () => {
    const members = [
      member('b', ['t'], ['tp0', 'tp1', 'up0']), // up0: b no longer subscribes to u
      member('a', ['t', 'u'], ['tp1', 'tp9']), // tp9 no longer exists; tp1 double-claimed, a wins
    ];
    const c = new Map([['t', 3], ['u', 2]]);
    const a = StickyAssignor.assign(members, c);
    checkValid(members, c, a);
    // a keeps tp1 (won the double claim); b keeps tp0; u can only go to a; tp2 evens the counts.
    expect(asObject(a)).toEqual({ a: ['tp1', 'up0', 'up1'], b: ['tp0', 'tp2'] });
    checkBalanced(members, a);
  });

  it('balances across different subscriptions through chains of moves', () => {
    // A owns all of x; B (x, y) owns all of y; C can only take y. Balance needs y → C and x → B.
    const members = [member('A', ['x'], ['xp0', 'xp1', 'xp2', 'xp3']), member('B', ['x', 'y'], ['yp0', 'yp1']), member('C', ['y'])];
    const c = new Map([['x', 4], ['y', 2]]);
    const a = StickyAssignor.assign(members, c);
    checkValid(members, c, a);
    checkBalanced(members, a);
    expect([...a.values()].map((l) => l.length)).toEqual([2, 2, 2]);
  });

  it('balances along a longer chain rather than take an owned partition from its owner', () => {
    // Found by the brute-force property: a owns y0 and y1 and is given z0. Handing a y to c
    // directly would take an owned partition; z0 → b and an x from b → c balance without doing so.
    const members = [member('a', ['y', 'z'], ['yp0', 'yp1']), member('b', ['x', 'z']), member('c', ['x', 'y'])];
    const c = new Map([['x', 3], ['y', 2], ['z', 1]]);
    const a = StickyAssignor.assign(members, c);
    checkValid(members, c, a);
    checkBalanced(members, a);
    expect(asObject(a).a).toEqual(['yp0', 'yp1']);
  });

  it('returns a valid balanced assignment unchanged', () => {
    const members = [member('a', ['t'], ['tp0', 'tp2']), member('b', ['t'], ['tp1'])];
    expect(asObject(StickyAssignor.assign(members, new Map([['t', 3]])))).toEqual({ a: ['tp0', 'tp2'], b: ['tp1'] });
  });
});

describe('assignorByName', () => {
  it('finds each assignor and names the valid ones on a miss', () => {
    for (const a of ALL) expect(assignorByName(a.name)).toBe(a);
    expect(() => assignorByName('uniform')).toThrow(/range, roundrobin, sticky/);
  });
});

describe('edge cases', () => {
  it.each(ALL.map((a) => [a.name, a] as const))('%s: no members, unknown topics, empty subscriptions', (_, assignor) => {
    expect(assignor.assign([], new Map([['t', 3]])).size).toBe(0);
    const members = [member('a', ['missing']), member('b', [])];
    expect(asObject(assignor.assign(members, new Map([['t', 3]])))).toEqual({ a: [], b: [] });
  });

  it.each(ALL.map((a) => [a.name, a] as const))('%s: rejects duplicate member ids and bad counts', (_, assignor) => {
    expect(() => assignor.assign([member('a', ['t']), member('a', ['t'])], new Map([['t', 1]]))).toThrow(/duplicate/);
    expect(() => assignor.assign([member('a', ['t'])], new Map([['t', -1]]))).toThrow(/non-negative/);
  });
});

describe('cooperativeStep', () => {
  it('revokes first, grants after the revocation is acknowledged, never revokes what stays', () => {
    const target: Assignment = new Map([['A', tps('tp0')], ['B', tps('tp1')]]);
    const s1 = cooperativeStep([member('A', ['t'], ['tp0', 'tp1']), member('B', ['t'])], target);
    expect(asObject(s1)).toEqual({ A: ['tp0'], B: [] });
    const s2 = cooperativeStep([member('A', ['t'], ['tp0']), member('B', ['t'])], target);
    expect(asObject(s2)).toEqual({ A: ['tp0'], B: ['tp1'] });
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests over sequences of membership changes.

const TOPICS = ['t0', 't1', 't2', 't3'];
const MEMBER_POOL = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6'];

type Op =
  | { kind: 'join'; id: number; topics: string[] }
  | { kind: 'leave'; id: number }
  | { kind: 'resubscribe'; id: number; topics: string[] }
  | { kind: 'grow'; topic: string; by: number };

const topicsArb = fc.subarray(TOPICS, { minLength: 0 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('join' as const), id: fc.nat(MEMBER_POOL.length - 1), topics: topicsArb }),
  fc.record({ kind: fc.constant('leave' as const), id: fc.nat(MEMBER_POOL.length - 1) }),
  fc.record({ kind: fc.constant('resubscribe' as const), id: fc.nat(MEMBER_POOL.length - 1), topics: topicsArb }),
  fc.record({ kind: fc.constant('grow' as const), topic: fc.constantFrom(...TOPICS), by: fc.integer({ min: 1, max: 4 }) }),
);
const scenarioArb = fc.record({
  counts: fc.tuple(...TOPICS.map(() => fc.integer({ min: 0, max: 7 }))),
  /** All members subscribe to one topic set: the uniform case where stickiness is exact. */
  uniform: fc.boolean(),
  uniformTopics: fc.subarray(TOPICS, { minLength: 1 }),
  ops: fc.array(opArb, { minLength: 1, maxLength: 12 }),
});

interface State {
  counts: Map<string, number>;
  subs: Map<string, string[]>;
}

function applyOp(state: State, op: Op, uniformTopics: string[] | null): void {
  switch (op.kind) {
    case 'join':
      if (!state.subs.has(MEMBER_POOL[op.id]!)) state.subs.set(MEMBER_POOL[op.id]!, uniformTopics ?? op.topics);
      break;
    case 'leave':
      state.subs.delete(MEMBER_POOL[op.id]!);
      break;
    case 'resubscribe':
      if (state.subs.has(MEMBER_POOL[op.id]!) && !uniformTopics) state.subs.set(MEMBER_POOL[op.id]!, op.topics);
      break;
    case 'grow':
      state.counts.set(op.topic, (state.counts.get(op.topic) ?? 0) + op.by);
      break;
  }
}

/** Claims of `owned` that survive validation (subscribed, existing, smaller id wins). */
function validClaims(members: readonly MemberSubscription[], counts: ReadonlyMap<string, number>): Map<string, Set<string>> {
  const taken = new Set<string>();
  const out = new Map<string, Set<string>>();
  for (const m of [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1))) {
    const mine = new Set<string>();
    for (const x of m.owned) {
      if (m.topics.includes(x.topic) && x.partition < (counts.get(x.topic) ?? 0) && !taken.has(key(x))) {
        taken.add(key(x));
        mine.add(key(x));
      }
    }
    out.set(m.memberId, mine);
  }
  return out;
}

/** Runs cooperative steps from `owned` to `target`, checking single ownership at every step. */
function runCooperative(members: MemberSubscription[], target: Assignment): Assignment {
  let current = members;
  for (let step = 0; step < 10; step++) {
    const next = cooperativeStep(current, target);
    const owners = new Map<string, string>();
    for (const [id, list] of next) {
      for (const x of list) {
        expect(owners.has(key(x)), `step ${step}: ${x.topic}p${x.partition} owned by ${owners.get(key(x))} and ${id}`).toBe(false);
        owners.set(key(x), id);
      }
    }
    const unchanged = current.every((m) => {
      const a = fmt([...m.owned].sort((x, y) => (x.topic < y.topic ? -1 : x.topic > y.topic ? 1 : x.partition - y.partition)));
      return JSON.stringify(a) === JSON.stringify(fmt(next.get(m.memberId)!));
    });
    if (unchanged) return next;
    current = current.map((m) => ({ ...m, owned: next.get(m.memberId)! }));
  }
  throw new Error('cooperative rebalance did not settle within 10 steps');
}

describe('properties over membership changes', () => {
  it.each(ALL.map((a) => [a.name, a] as const))('%s: valid at every step; cooperative steps reach the target safely', (_, assignor) => {
    fc.assert(
      fc.property(scenarioArb, ({ counts, uniform, uniformTopics, ops }) => {
        const state: State = { counts: new Map(TOPICS.map((t, i) => [t, counts[i]!])), subs: new Map() };
        let owned: Assignment = new Map();
        for (const op of ops) {
          applyOp(state, op, uniform ? uniformTopics : null);
          const members = [...state.subs].map(([memberId, topics]) => ({ memberId, topics, owned: owned.get(memberId) ?? [] }));
          const target = assignor.assign(members, state.counts);
          checkValid(members, state.counts, target);

          if (assignor === StickyAssignor) {
            checkBalanced(members, target);
            const claims = validClaims(members, state.counts);
            if (uniform) {
              // Identical subscriptions: a member keeps min(valid owned, final count), i.e. it
              // gives up only what balance forces out.
              for (const m of members) {
                const kept = target.get(m.memberId)!.filter((x) => claims.get(m.memberId)!.has(key(x))).length;
                expect(kept).toBeGreaterThanOrEqual(Math.min(claims.get(m.memberId)!.size, target.get(m.memberId)!.length));
              }
            }
            // A balanced valid assignment is a fixed point: nothing moves without a reason.
            const again = StickyAssignor.assign(members.map((m) => ({ ...m, owned: target.get(m.memberId)! })), state.counts);
            expect(asObject(again)).toEqual(asObject(target));
          }

          const settled = runCooperative(members, target);
          expect(asObject(settled)).toEqual(asObject(target));
          owned = settled;
        }
      }),
      { numRuns: 150 },
    );
  });

  it('sticky: on tiny groups, keeps as many owned partitions as any balanced assignment could (brute force)', () => {
    const ids = ['a', 'b', 'c'];
    const topics = ['x', 'y', 'z'];
    fc.assert(
      fc.property(
        fc.tuple(fc.subarray(topics), fc.subarray(topics), fc.subarray(topics)),
        fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3)),
        fc.array(fc.tuple(fc.nat(2), fc.constantFrom(...topics), fc.nat(3)), { maxLength: 8 }),
        (subs, countList, claims) => {
          const counts = new Map(topics.map((t, i) => [t, countList[i]!]));
          const members = ids.map((memberId, m) => ({
            memberId,
            topics: subs[m]!,
            owned: claims.filter(([c]) => c === m).map(([, topic, partition]) => ({ topic, partition })),
          }));
          const parts = [...new Set(subs.flat())].flatMap((topic) =>
            Array.from({ length: counts.get(topic)! }, (_, partition) => ({ topic, partition })),
          );
          if (parts.length > 8) return; // 3^8 candidate assignments at most
          const claimsOk = validClaims(members, counts);
          const keptBy = (a: Assignment) =>
            [...a].reduce((n, [id, list]) => n + list.filter((x) => claimsOk.get(id)!.has(key(x))).length, 0);
          let best = -1;
          const choice = parts.map(() => 0);
          const search = (i: number): void => {
            if (i === parts.length) {
              const a: Assignment = new Map(ids.map((id) => [id, []]));
              parts.forEach((x, j) => a.get(ids[choice[j]!]!)!.push(x));
              if (balanceViolation(members, a) === null) best = Math.max(best, keptBy(a));
              return;
            }
            for (let m = 0; m < ids.length; m++) {
              if (!subs[m]!.includes(parts[i]!.topic)) continue;
              choice[i] = m;
              search(i + 1);
            }
          };
          search(0);
          expect(keptBy(StickyAssignor.assign(members, counts))).toBe(best);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('cooperative: with members acknowledging at random times, no partition has two holders', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.nat(11)), { maxLength: 12 }),
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd'), fc.nat(11)), { maxLength: 12 }),
        fc.array(fc.subarray(['a', 'b', 'c', 'd']), { maxLength: 12 }),
        (ownedPairs, targetPairs, ackRounds) => {
          // Owned: any single-owner start; target: any single-owner goal.
          const dedupe = (pairs: [string, number][]) => {
            const m = new Map<number, string>();
            for (const [id, p] of pairs) if (!m.has(p)) m.set(p, id);
            const out = new Map<string, TopicPartition[]>(['a', 'b', 'c', 'd'].map((id) => [id, []]));
            for (const [p, id] of [...m].sort((x, y) => x[0] - y[0])) out.get(id)!.push({ topic: 't', partition: p });
            return out;
          };
          const target = dedupe(targetPairs);
          const owned = dedupe(ownedPairs);
          // granted: what the coordinator last told each member; owned: what members report.
          let granted = new Map(owned);
          const holders = () => {
            const seen = new Map<string, string>();
            for (const id of owned.keys()) {
              for (const x of new Set([...fmt(owned.get(id)!), ...fmt(granted.get(id)!)])) {
                expect(seen.has(x), `${x} held by ${seen.get(x)} and ${id}`).toBe(false);
                seen.set(x, id);
              }
            }
          };
          const step = () => {
            granted = cooperativeStep([...owned].map(([memberId, list]) => ({ memberId, topics: ['t'], owned: list })), target);
            holders();
          };
          for (const acks of ackRounds) {
            step();
            for (const id of acks) owned.set(id, granted.get(id)!);
            holders();
          }
          // Eventually everyone acknowledges every step: the target is reached.
          for (let i = 0; i < 3; i++) {
            step();
            for (const id of owned.keys()) owned.set(id, granted.get(id)!);
          }
          expect(asObject(owned)).toEqual(asObject(target));
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each(ALL.map((a) => [a.name, a] as const))('%s: deterministic under shuffled members, topics and owned lists', (_, assignor) => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...MEMBER_POOL), { minLength: 1 }),
        fc.array(topicsArb, { minLength: MEMBER_POOL.length, maxLength: MEMBER_POOL.length }),
        fc.tuple(...TOPICS.map(() => fc.integer({ min: 0, max: 6 }))),
        fc.array(fc.tuple(fc.nat(MEMBER_POOL.length - 1), fc.constantFrom(...TOPICS), fc.nat(8)), { maxLength: 20 }),
        fc.integer(),
        (ids, topicSets, counts, claims, seed) => {
          const members = ids.map((memberId, i) => ({
            memberId,
            topics: topicSets[i]!,
            owned: claims.filter(([m]) => MEMBER_POOL[m] === memberId).map(([, topic, partition]) => ({ topic, partition })),
          }));
          const countMap = new Map(TOPICS.map((t, i) => [t, counts[i]!]));
          const base = assignor.assign(members, countMap);
          const reordered = shuffled(members, seed).map((m, i) => ({
            ...m,
            topics: shuffled(m.topics, seed + i),
            owned: shuffled(m.owned, seed - i),
          }));
          const reversedCounts = new Map([...countMap].reverse());
          const other = assignor.assign(reordered, reversedCounts);
          expect(asObject(other)).toEqual(asObject(base));
          expect([...other.keys()]).toEqual([...base.keys()]);
        },
      ),
      { numRuns: 200 },
    );
  });
});
