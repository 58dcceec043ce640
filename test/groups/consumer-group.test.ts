import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TopicPartition } from '../../node/groups/assignors.js';
import { ConsumerGroup, type HeartbeatInput, type MemberView } from '../../node/groups/consumer-group.js';
import { isEddyError } from '../../protocol/errors.js';

/** A fake clock the tests advance by hand. */
class Clock {
  now = 1_000_000;
  advance(ms: number): number {
    this.now += ms;
    return this.now;
  }
}

const fmt = (list: readonly TopicPartition[]) => list.map((x) => `${x.topic}-${x.partition}`).sort();

function hb(memberId: string, memberEpoch: number, over: Partial<HeartbeatInput> = {}): HeartbeatInput {
  return {
    memberId,
    memberEpoch,
    clientId: `client-${memberId}`,
    clientHost: '127.0.0.1',
    sessionTimeoutMs: 3000,
    rebalanceTimeoutMs: 10_000,
    subscribedTopicNames: null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    ownedPartitions: null,
    ...over,
  };
}

/**
 * A well-behaved member as the client library runs it: joins, then on every heartbeat reports
 * exactly what the last answer told it to own (it releases revoked partitions at once).
 */
class SimMember {
  view: MemberView | null = null;
  constructor(
    readonly group: ConsumerGroup,
    readonly id: string,
    readonly topics: string[],
  ) {}
  join(now: number, over: Partial<HeartbeatInput> = {}): MemberView {
    this.view = this.group.heartbeat(hb(this.id, 0, { subscribedTopicNames: this.topics, ownedPartitions: [], ...over }), now)!;
    return this.view;
  }
  beat(now: number): MemberView {
    this.view = this.group.heartbeat(hb(this.id, this.view!.memberEpoch, { ownedPartitions: this.view!.assignment }), now)!;
    return this.view;
  }
  leave(now: number): void {
    this.group.heartbeat(hb(this.id, -1), now);
    this.view = null;
  }
}

/** Heartbeats every member until nobody's view changes (what the long-poll does in real time). */
function settle(members: SimMember[], now: number): void {
  for (let round = 0; round < 20; round++) {
    let changed = false;
    for (const m of members) {
      if (!m.view) continue;
      const before = JSON.stringify(m.view);
      m.beat(now);
      if (JSON.stringify(m.view) !== before) changed = true;
    }
    if (!changed) return;
  }
  throw new Error('group did not settle in 20 rounds');
}

function metadata(entries: Record<string, number>): Map<string, number> {
  return new Map(Object.entries(entries));
}

function expectError(fn: () => unknown, name: string): void {
  try {
    fn();
  } catch (err) {
    expect(isEddyError(err) ? err.errorName : err).toBe(name);
    return;
  }
  throw new Error(`expected ${name}`);
}

describe('ConsumerGroup', () => {
  it('three members on six partitions get two each and the group becomes stable', () => {
    const clock = new Clock();
    const g = new ConsumerGroup('g', metadata({ t: 6 }));
    expect(g.state).toBe('empty');
    const ms = ['a', 'b', 'c'].map((id) => new SimMember(g, id, ['t']));
    ms[0]!.join(clock.now);
    expect(fmt(ms[0]!.view!.assignment)).toHaveLength(6);
    expect(g.state).toBe('stable');
    ms[1]!.join(clock.now);
    ms[2]!.join(clock.now);
    expect(g.state).toBe('assigning'); // a still owns what b and c are to get
    settle(ms, clock.now);
    expect(g.state).toBe('stable');
    for (const m of ms) expect(m.view!.assignment).toHaveLength(2);
    expect(new Set(ms.flatMap((m) => fmt(m.view!.assignment))).size).toBe(6);
    for (const m of ms) expect(m.view!.memberEpoch).toBe(g.assignmentEpoch);
  });

  it('a partition moves only after its old owner reports it released', () => {
    const clock = new Clock();
    const g = new ConsumerGroup('g', metadata({ t: 2 }));
    const a = new SimMember(g, 'a', ['t']);
    a.join(clock.now);
    const epochBefore = a.view!.memberEpoch;
    const b = new SimMember(g, 'b', ['t']);
    b.join(clock.now);
    expect(b.view!.assignment).toEqual([]); // a still owns both
    // a has not heartbeated yet: the coordinator still counts both partitions as a's.
    expect(b.beat(clock.now).assignment).toEqual([]);
    const aView = g.view('a')!;
    expect(aView.assignment).toHaveLength(1); // a is told to give one up
    expect(aView.memberEpoch).toBe(epochBefore); // and keeps its epoch until it has
    // a may still commit the partition it is releasing.
    const released = ['t-0', 't-1'].find((k) => !fmt(aView.assignment).includes(k))!;
    const releasedTp = { topic: 't', partition: Number(released.split('-')[1]) };
    expect(() => g.checkCommit('a', epochBefore, releasedTp)).not.toThrow();
    a.view = { ...a.view!, assignment: aView.assignment };
    a.beat(clock.now); // reports it released the partition
    expect(a.view!.memberEpoch).toBe(g.assignmentEpoch);
    expect(fmt(b.beat(clock.now).assignment)).toEqual([released]);
    expectError(() => g.checkCommit('a', a.view!.memberEpoch, releasedTp), 'STALE_MEMBER_EPOCH');
  });

  it('a member that stops heartbeating is removed after its session timeout and its partitions move', () => {
    const clock = new Clock();
    const g = new ConsumerGroup('g', metadata({ t: 4 }));
    const a = new SimMember(g, 'a', ['t']);
    const b = new SimMember(g, 'b', ['t']);
    a.join(clock.now);
    b.join(clock.now);
    settle([a, b], clock.now);
    expect(b.view!.assignment).toHaveLength(2);
    clock.advance(2000);
    a.beat(clock.now);
    expect(g.expire(clock.now)).toEqual([]);
    clock.advance(1500); // b: 3500 ms silent > 3000 ms session; a: 1500 ms
    expect(g.expire(clock.now)).toEqual([{ memberId: 'b', reason: 'session', ms: 3000 }]);
    expect(a.beat(clock.now).assignment).toHaveLength(4);
    expectError(() => g.heartbeat(hb('b', b.view!.memberEpoch), clock.now), 'UNKNOWN_MEMBER_ID');
  });

  it('a member whose heartbeat is held open does not expire', () => {
    const clock = new Clock();
    const g = new ConsumerGroup('g', metadata({ t: 1 }));
    new SimMember(g, 'a', ['t']).join(clock.now);
    g.setParked('a', true, clock.now);
    clock.advance(10_000);
    expect(g.expire(clock.now)).toEqual([]);
    g.setParked('a', false, clock.now);
    clock.advance(3001);
    expect(g.expire(clock.now).map((e) => e.memberId)).toEqual(['a']);
    expect(g.state).toBe('empty');
  });

  it('a member that never releases a revoked partition is removed after its rebalance timeout', () => {
    const clock = new Clock();
    const g = new ConsumerGroup('g', metadata({ t: 2 }));
    const a = new SimMember(g, 'a', ['t']);
    a.join(clock.now);
    const b = new SimMember(g, 'b', ['t']);
    b.join(clock.now);
    // a keeps heartbeating but keeps reporting both partitions as owned.
    for (let i = 0; i < 8; i++) {
      clock.advance(2000);
      g.heartbeat(hb('a', a.view!.memberEpoch, { ownedPartitions: a.view!.assignment }), clock.now);
      b.beat(clock.now);
      if (g.expire(clock.now).length > 0) break;
    }
    expect(g.view('a')).toBeNull();
    expect(b.beat(clock.now).assignment).toHaveLength(2);
  });

  it('fences wrong epochs and unknown members, and accepts the previous epoch (an answer lost in flight)', () => {
    const clock = new Clock();
    const g = new ConsumerGroup('g', metadata({ t: 2 }));
    const a = new SimMember(g, 'a', ['t']);
    a.join(clock.now);
    const first = a.view!.memberEpoch;
    const b = new SimMember(g, 'b', ['t']);
    b.join(clock.now);
    settle([a, b], clock.now);
    expect(a.view!.memberEpoch).toBeGreaterThan(first);
    expect(() => g.heartbeat(hb('a', first, { ownedPartitions: a.view!.assignment }), clock.now)).not.toThrow();
    expectError(() => g.heartbeat(hb('a', 99), clock.now), 'FENCED_MEMBER_EPOCH');
    expectError(() => g.heartbeat(hb('zz', 3), clock.now), 'UNKNOWN_MEMBER_ID');
    expectError(() => g.checkCommit('zz', 3, { topic: 't', partition: 0 }), 'UNKNOWN_MEMBER_ID');
    expectError(() => g.checkCommit('a', 99, a.view!.assignment[0]!), 'FENCED_MEMBER_EPOCH');
    expectError(() => g.checkCommit('', -1, { topic: 't', partition: 0 }), 'NON_EMPTY_GROUP');
    a.leave(clock.now);
    b.leave(clock.now);
    expect(() => g.checkCommit('', -1, { topic: 't', partition: 0 })).not.toThrow();
  });

  it('rejects bad joins with stable codes and leaves the group unchanged', () => {
    const clock = new Clock();
    const g = new ConsumerGroup('g', metadata({ t: 2 }));
    expectError(() => g.heartbeat(hb('a', 0, { subscribedTopicNames: ['t'], sessionTimeoutMs: 10 }), clock.now), 'INVALID_SESSION_TIMEOUT');
    expectError(() => g.heartbeat(hb('a', 0, { subscribedTopicNames: ['t'], serverAssignor: 'magic' }), clock.now), 'UNSUPPORTED_ASSIGNOR');
    expectError(() => g.heartbeat(hb('a', 0, { subscribedTopicRegex: '(' }), clock.now), 'INVALID_REGULAR_EXPRESSION');
    expectError(() => g.heartbeat(hb('a', 0), clock.now), 'INVALID_REQUEST');
    expect(g.state).toBe('empty');
    expect(g.groupEpoch).toBe(0);
  });

  it('a regex subscription picks up topics as they appear, and partitions of grown topics', () => {
    const clock = new Clock();
    const g = new ConsumerGroup('g', metadata({ 'sensor-a': 1, other: 3 }));
    const a = new SimMember(g, 'a', []);
    a.join(clock.now, { subscribedTopicNames: null, subscribedTopicRegex: 'sensor-.*' });
    expect(fmt(a.view!.assignment)).toEqual(['sensor-a-0']);
    const epoch = g.groupEpoch;
    expect(g.setMetadata(metadata({ 'sensor-a': 1, other: 4 }), clock.now)).toBe(false); // unrelated topic
    expect(g.groupEpoch).toBe(epoch);
    expect(g.setMetadata(metadata({ 'sensor-a': 2, 'sensor-b': 1, other: 3 }), clock.now)).toBe(true);
    expect(fmt(a.beat(clock.now).assignment)).toEqual(['sensor-a-0', 'sensor-a-1', 'sensor-b-0']);
    expect(g.setMetadata(metadata({ 'sensor-a': 2 }), clock.now)).toBe(true);
    expect(fmt(a.beat(clock.now).assignment)).toEqual(['sensor-a-0', 'sensor-a-1']);
  });

  it('uses the assignor most members ask for', () => {
    const clock = new Clock();
    const g = new ConsumerGroup('g', metadata({ t: 4 }));
    new SimMember(g, 'a', ['t']).join(clock.now, { serverAssignor: 'range' });
    expect(g.assignorName).toBe('range');
    new SimMember(g, 'b', ['t']).join(clock.now, { serverAssignor: 'roundrobin' });
    new SimMember(g, 'c', ['t']).join(clock.now, { serverAssignor: 'roundrobin' });
    expect(g.assignorName).toBe('roundrobin');
  });

  it('a deleted group refuses heartbeats; a group with members cannot be deleted', () => {
    const clock = new Clock();
    const g = new ConsumerGroup('g', metadata({ t: 1 }));
    const a = new SimMember(g, 'a', ['t']);
    a.join(clock.now);
    expectError(() => g.markDead(), 'NON_EMPTY_GROUP');
    a.leave(clock.now);
    g.markDead();
    expect(g.state).toBe('dead');
    expectError(() => a.join(clock.now), 'GROUP_ID_NOT_FOUND');
  });

  it('property: across random joins, leaves, timeouts, slow releases and topic changes, no partition has two owners, and it converges', () => {
    type Op =
      | { kind: 'join'; m: number; topics: number }
      | { kind: 'leave'; m: number }
      | { kind: 'beat'; m: number; release: boolean }
      | { kind: 'advance'; ms: number }
      | { kind: 'grow'; topic: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('join' as const), m: fc.nat(5), topics: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('leave' as const), m: fc.nat(5) }),
      fc.record({ kind: fc.constant('beat' as const), m: fc.nat(5), release: fc.boolean() }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 4000 }) }),
      fc.record({ kind: fc.constant('grow' as const), topic: fc.nat(1) }),
    );
    fc.assert(
      fc.property(fc.constantFrom('range', 'roundrobin', 'sticky'), fc.array(op, { minLength: 1, maxLength: 60 }), (assignor, ops) => {
        const clock = new Clock();
        const counts = { t0: 3, t1: 2 };
        const g = new ConsumerGroup('g', metadata(counts));
        // What each member's client actually consumes: only what it has been told, and it keeps
        // a revoked partition until it chooses to report the release.
        const consuming = new Map<string, Map<string, TopicPartition>>();
        const epochs = new Map<string, number>();
        const apply = (id: string, view: MemberView | null) => {
          if (!view) return;
          epochs.set(id, view.memberEpoch);
          const mine = consuming.get(id) ?? new Map<string, TopicPartition>();
          for (const tp of view.assignment) mine.set(`${tp.topic}-${tp.partition}`, tp);
          consuming.set(id, mine);
        };
        const checkExclusive = () => {
          const seen = new Map<string, string>();
          for (const [id, mine] of consuming) {
            for (const k of mine.keys()) {
              expect(seen.get(k), `${k} consumed by ${seen.get(k)} and ${id}`).toBeUndefined();
              seen.set(k, id);
            }
          }
        };
        const drop = (id: string) => {
          consuming.delete(id);
          epochs.delete(id);
        };
        for (const o of ops) {
          const id = `m${'m' in o ? o.m : 0}`;
          try {
            if (o.kind === 'join') {
              drop(id); // a (re)join starts from nothing
              const topics = ['t0', 't1'].slice(0, o.topics === 3 ? 2 : 1).concat(o.topics === 2 ? ['t1'] : []);
              apply(id, g.heartbeat(hb(id, 0, { subscribedTopicNames: [...new Set(topics)], serverAssignor: assignor, ownedPartitions: [] }), clock.now));
            } else if (o.kind === 'leave') {
              drop(id); // a graceful leave stops consuming first
              g.heartbeat(hb(id, -1), clock.now);
            } else if (o.kind === 'beat') {
              if (!epochs.has(id)) continue;
              const mine = consuming.get(id)!;
              const told = new Set(fmt(g.view(id)?.assignment ?? []));
              if (o.release) for (const k of [...mine.keys()]) if (!told.has(k)) mine.delete(k);
              apply(id, g.heartbeat(hb(id, epochs.get(id)!, { ownedPartitions: [...mine.values()] }), clock.now));
            } else if (o.kind === 'advance') {
              clock.advance(o.ms);
              for (const e of g.expire(clock.now)) drop(e.memberId); // the dead member stops (SIGKILL)
            } else {
              const name = o.topic === 0 ? 't0' : 't1';
              counts[name]++;
              g.setMetadata(metadata(counts), clock.now);
            }
          } catch (err) {
            if (!isEddyError(err)) throw err;
            expect(['UNKNOWN_MEMBER_ID', 'FENCED_MEMBER_EPOCH']).toContain(err.errorName);
            drop(id);
          }
          checkExclusive();
        }
        // Everyone behaves from here on: the group reaches stable with every partition owned.
        for (let round = 0; round < 10 && g.state !== 'stable'; round++) {
          for (const id of g.memberIds()) {
            const told = g.view(id)!.assignment;
            consuming.set(id, new Map(told.map((tp) => [`${tp.topic}-${tp.partition}`, tp])));
            apply(id, g.heartbeat(hb(id, epochs.get(id) ?? g.view(id)!.memberEpoch, { ownedPartitions: told }), clock.now));
            checkExclusive();
          }
        }
        if (g.size === 0) return;
        expect(g.state).toBe('stable');
        const subscribed = g.subscribedTopics();
        const total = [...subscribed.values()].reduce((a, b) => a + b, 0);
        const owned = g.memberIds().flatMap((id) => fmt(g.view(id)!.assignment));
        expect(new Set(owned).size).toBe(owned.length);
        expect(owned.length).toBe(total);
      }),
      { numRuns: 300 },
    );
  });
});
