/**
 * Partition assignors for consumer groups, run by the group coordinator (KIP-848: the server
 * computes assignments; members heartbeat and follow). Pure functions: membership and partition
 * counts in, an assignment out. No sockets, timers or files.
 *
 * Invariants every assignor keeps:
 * - every partition of every subscribed topic goes to exactly one member subscribed to that topic;
 *   partitions of topics nobody subscribes to are not assigned;
 * - deterministic: member ids and topics are sorted (by UTF-16 code units, like Java's
 *   `String.compareTo`), so input order and Map/Set iteration order never matter;
 * - every member appears in the result, each list sorted by (topic, partition).
 */

import { tpKey, type TopicPartition } from '../../protocol/topic-partition.js';

export type { TopicPartition };

export interface MemberSubscription {
  memberId: string;
  /** Topic names the member subscribes to (already resolved from any regex by the caller). */
  topics: readonly string[];
  /** What it owns now (input for sticky/cooperative; ignored by range and round-robin). */
  owned: readonly TopicPartition[];
}

/** Partition counts of the subscribed topics. */
export type TopicPartitionCounts = ReadonlyMap<string, number>;

/** memberId → partitions assigned to it. Every member appears (possibly with []). */
export type Assignment = Map<string, TopicPartition[]>;

export interface Assignor {
  readonly name: 'range' | 'roundrobin' | 'sticky';
  assign(members: readonly MemberSubscription[], partitions: TopicPartitionCounts): Assignment;
}

/** Code-unit order, as Java's String.compareTo; never localeCompare (locale-dependent). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareTp(a: TopicPartition, b: TopicPartition): number {
  return compareStrings(a.topic, b.topic) || a.partition - b.partition;
}

/** The group as every assignor sees it: sorted members, and subscribers per topic. */
interface Group {
  /** Member ids, sorted; a member's index here is its rank (smaller id = smaller index). */
  memberIds: string[];
  /** Per member index, the set of topics it subscribes to. */
  subscriptions: Set<string>[];
  /** Subscribed topics with at least one partition, sorted, with their counts. */
  topics: { topic: string; count: number; subscribers: number[] }[];
}

function prepare(members: readonly MemberSubscription[], partitions: TopicPartitionCounts): Group {
  const sorted = [...members].sort((a, b) => compareStrings(a.memberId, b.memberId));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.memberId === sorted[i - 1]!.memberId) {
      throw new Error(`duplicate member id "${sorted[i]!.memberId}" in assignor input`);
    }
  }
  const memberIds = sorted.map((m) => m.memberId);
  const subscriptions = sorted.map((m) => new Set(m.topics));
  const topicNames = [...new Set(sorted.flatMap((m) => m.topics))].sort(compareStrings);
  const topics: Group['topics'] = [];
  for (const topic of topicNames) {
    const count = partitions.get(topic) ?? 0; // unknown topic: nothing to assign yet
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new Error(`partition count of topic "${topic}" must be a non-negative integer, got ${count}`);
    }
    if (count === 0) continue;
    const subscribers: number[] = [];
    subscriptions.forEach((subs, i) => {
      if (subs.has(topic)) subscribers.push(i);
    });
    topics.push({ topic, count, subscribers });
  }
  return { memberIds, subscriptions, topics };
}

function toAssignment(group: Group, lists: TopicPartition[][]): Assignment {
  const out: Assignment = new Map();
  group.memberIds.forEach((id, i) => out.set(id, (lists[i] ?? []).sort(compareTp)));
  return out;
}

/**
 * Kafka's RangeAssignor: per topic, subscribers sorted by id each take a contiguous range; the
 * first (count % subscribers) members take one extra. Co-partitioned topics line up, at the cost
 * of imbalance across many topics.
 */
export const RangeAssignor: Assignor = {
  name: 'range',
  assign(members, partitions) {
    const group = prepare(members, partitions);
    const lists: TopicPartition[][] = group.memberIds.map(() => []);
    for (const { topic, count, subscribers } of group.topics) {
      const n = subscribers.length;
      const per = Math.floor(count / n);
      const extra = count % n;
      subscribers.forEach((member, i) => {
        const start = per * i + Math.min(i, extra);
        const length = per + (i < extra ? 1 : 0);
        for (let p = start; p < start + length; p++) lists[member]!.push({ topic, partition: p });
      });
    }
    return toAssignment(group, lists);
  },
};

/**
 * Kafka's RoundRobinAssignor: all (topic, partition) pairs sorted, dealt in turn around the
 * circle of sorted members, skipping members not subscribed to the partition's topic.
 */
export const RoundRobinAssignor: Assignor = {
  name: 'roundrobin',
  assign(members, partitions) {
    const group = prepare(members, partitions);
    const lists: TopicPartition[][] = group.memberIds.map(() => []);
    const n = group.memberIds.length;
    let next = 0;
    for (const { topic, count } of group.topics) {
      for (let p = 0; p < count; p++) {
        // A subscriber exists (topics only lists subscribed ones), so this finds one within n steps.
        while (!group.subscriptions[next % n]!.has(topic)) next++;
        lists[next % n]!.push({ topic, partition: p });
        next++;
      }
    }
    return toAssignment(group, lists);
  },
};

/**
 * Sticky assignor (Kafka's StickyAssignor / KIP-848 "uniform" goals): balanced first, then keep
 * as many currently owned partitions with their owner as possible.
 *
 * 1. Claims are validated: a claim on a topic the member no longer subscribes to, or on a
 *    partition that no longer exists, is dropped; a partition claimed twice stays with the member
 *    with the smaller id.
 * 2. Unowned partitions go, most constrained first, to the least-loaded eligible member.
 * 3. Balance: while some member A can hand work, along a chain of eligible moves
 *    A → X1 → … → T, to a member T with at least two fewer partitions, do it (only A and T
 *    change counts). When no such chain exists the assignment is as balanced as eligibility
 *    allows; with identical subscriptions counts differ by at most 1. Each move strictly lowers
 *    the sum of squared counts, so this terminates. Movers prefer partitions they did not own
 *    before, so owned partitions move only when balance forces it.
 */
export const StickyAssignor: Assignor = {
  name: 'sticky',
  assign(members, partitions) {
    const group = prepare(members, partitions);
    const n = group.memberIds.length;

    // Index every assignable partition; parts are in (topic, partition) order.
    const parts: { topic: string; partition: number; eligible: number[] }[] = [];
    const indexOf = new Map<string, number[]>(); // topic → partition number → part index
    for (const { topic, count, subscribers } of group.topics) {
      const idx: number[] = [];
      for (let p = 0; p < count; p++) {
        idx.push(parts.length);
        parts.push({ topic, partition: p, eligible: subscribers });
      }
      indexOf.set(topic, idx);
    }

    // 1. Valid claims; members visited by ascending id so the smaller id wins a double claim.
    const byId = new Map(members.map((m) => [m.memberId, m]));
    const owner: (number | undefined)[] = parts.map(() => undefined);
    const original: Set<number>[] = [];
    const held: Set<number>[] = [];
    group.memberIds.forEach((id, m) => {
      original.push(new Set());
      held.push(new Set());
      for (const tp of byId.get(id)!.owned) {
        if (!group.subscriptions[m]!.has(tp.topic)) continue;
        const part = indexOf.get(tp.topic)?.[tp.partition];
        if (part === undefined || owner[part] !== undefined) continue;
        owner[part] = m;
        original[m]!.add(part);
        held[m]!.add(part);
      }
    });

    // 2. Unowned partitions: fewest eligible members first, each to the least-loaded (then smallest id).
    const unowned = parts.map((_, i) => i).filter((i) => owner[i] === undefined);
    unowned.sort((a, b) => parts[a]!.eligible.length - parts[b]!.eligible.length || a - b);
    for (const part of unowned) {
      let best = -1;
      for (const m of parts[part]!.eligible) {
        if (best < 0 || held[m]!.size < held[best]!.size) best = m;
      }
      owner[part] = best;
      held[best]!.add(part);
    }

    // 3. Balance by moves along chains of eligibility.
    const subscribes = (m: number, part: number) => group.subscriptions[m]!.has(parts[part]!.topic);
    /** The partition `from` should hand to `to`: one it did not own before if possible, then lowest. */
    const pickPartition = (from: number, to: number): number => {
      let best = -1;
      let bestOriginal = true;
      for (const part of held[from]!) {
        if (!subscribes(to, part)) continue;
        const isOriginal = original[from]!.has(part);
        if (best < 0 || (bestOriginal && !isOriginal) || (bestOriginal === isOriginal && part < best)) {
          best = part;
          bestOriginal = isOriginal;
        }
      }
      return best;
    };
    /**
     * Searches "X holds a partition of a topic Y subscribes to" for the chain from `start` to a
     * member with at least two fewer partitions that takes the fewest owned partitions from their
     * owners (a hop costs 1 when X has only originally owned partitions to hand Y, as
     * pickPartition would choose), then ends at the least-loaded such member, then is shortest.
     * A 0-1 breadth-first search: members leave the deque in order of cost, then hops. Expanding by
     * topic (each topic once at cost 0 and once at cost 1) keeps each search O(members × topics).
     * Returns the chain, or null.
     */
    const findChain = (start: number): number[] | null => {
      const parent = new Array<number>(n).fill(-1);
      const cost = new Array<number>(n).fill(Infinity);
      const hops = new Array<number>(n).fill(0);
      const done = new Array<boolean>(n).fill(false);
      const expanded = [new Set<string>(), new Set<string>()]; // by hop cost
      const deque = [start];
      cost[start] = 0;
      let target = -1;
      const better = (y: number) =>
        target < 0 || cost[y]! < cost[target]! || (cost[y] === cost[target] && (held[y]!.size < held[target]!.size || (held[y]!.size === held[target]!.size && hops[y]! < hops[target]!)));
      while (deque.length > 0) {
        const x = deque.shift()!;
        if (done[x]) continue;
        done[x] = true;
        if (x !== start && held[x]!.size + 2 <= held[start]!.size && better(x)) target = x;
        // Per topic X holds: whether it has a partition of it that it did not own before.
        const free = new Map<string, boolean>();
        for (const part of held[x]!) {
          const topic = parts[part]!.topic;
          free.set(topic, free.get(topic) === true || !original[x]!.has(part));
        }
        for (const topic of [...free.keys()].sort(compareStrings)) {
          const hop = free.get(topic) ? 0 : 1;
          if (expanded[hop]!.has(topic)) continue;
          expanded[hop]!.add(topic);
          for (const y of parts[indexOf.get(topic)![0]!]!.eligible) {
            if (done[y] || cost[x]! + hop > cost[y]! || (cost[x]! + hop === cost[y]! && hops[x]! + 1 >= hops[y]!)) continue;
            cost[y] = cost[x]! + hop;
            hops[y] = hops[x]! + 1;
            parent[y] = x;
            if (hop === 0) deque.unshift(y);
            else deque.push(y);
          }
        }
      }
      if (target < 0) return null;
      const chain = [target];
      while (chain[0] !== start) chain.unshift(parent[chain[0]!]!);
      return chain;
    };

    /** Owned partitions a chain would take from their owners (what stickiness tries to avoid). */
    const chainCost = (chain: number[]): number => {
      let cost = 0;
      for (let i = 0; i + 1 < chain.length; i++) if (original[chain[i]!]!.has(pickPartition(chain[i]!, chain[i + 1]!))) cost++;
      return cost;
    };
    for (;;) {
      // Of the members that can hand work down a chain, take the chain that moves the fewest
      // partitions away from their owners, then the shortest, then the most-loaded start (so in
      // the uniform case work flows from the fullest to the emptiest).
      const order = group.memberIds.map((_, m) => m).sort((a, b) => held[b]!.size - held[a]!.size || a - b);
      let best: { chain: number[]; cost: number } | null = null;
      for (const a of order) {
        const chain = findChain(a);
        if (!chain) continue;
        const cost = chainCost(chain);
        if (!best || cost < best.cost || (cost === best.cost && chain.length < best.chain.length)) best = { chain, cost };
        if (best.cost === 0 && best.chain.length === 2) break; // cannot do better
      }
      if (!best) break;
      const { chain } = best;
      for (let i = 0; i + 1 < chain.length; i++) {
        const from = chain[i]!;
        const to = chain[i + 1]!;
        const part = pickPartition(from, to);
        held[from]!.delete(part);
        held[to]!.add(part);
      }
    }

    const lists = held.map((set) => [...set].map((part) => ({ topic: parts[part]!.topic, partition: parts[part]!.partition })));
    return toAssignment(group, lists);
  },
};

const ASSIGNORS: readonly Assignor[] = [RangeAssignor, RoundRobinAssignor, StickyAssignor];

/** The assignor configured as `group.remote.assignor`-style name; throws naming the valid ones. */
export function assignorByName(name: string): Assignor {
  const found = ASSIGNORS.find((a) => a.name === name);
  if (!found) {
    throw new Error(`unknown partition assignor "${name}"; valid assignors: ${ASSIGNORS.map((a) => a.name).join(', ')}`);
  }
  return found;
}

/**
 * Cooperative rebalancing (KIP-429/KIP-848): given what each member owns now and the target
 * assignment, returns per member what it may own *right now*: its target partitions that no other
 * member still owns, plus nothing it must give up. A partition moving from A to B is first revoked
 * from A (A's current set drops it), and only in a later step, once A has acknowledged the
 * revocation (A no longer lists it in `owned`), given to B. So no partition ever has two owners.
 *
 * Partitions that stay put are never revoked, so they keep flowing through the rebalance. Every
 * member of `members` appears in the result; target entries for other member ids are ignored
 * (their partitions wait until the target names a live member).
 */
export function cooperativeStep(members: readonly MemberSubscription[], target: Assignment): Assignment {
  const sorted = [...members].sort((a, b) => compareStrings(a.memberId, b.memberId));
  const ownedBy = new Map<string, Set<string>>(); // "topic\0partition" → claiming member ids
  const key = (tp: TopicPartition) => tpKey(tp.topic, tp.partition);
  for (const m of sorted) {
    for (const tp of m.owned) {
      const k = key(tp);
      const set = ownedBy.get(k) ?? new Set<string>();
      set.add(m.memberId);
      ownedBy.set(k, set);
    }
  }
  const out: Assignment = new Map();
  for (const m of sorted) {
    const seen = new Set<string>();
    const now: TopicPartition[] = [];
    for (const tp of target.get(m.memberId) ?? []) {
      const k = key(tp);
      if (seen.has(k)) continue;
      seen.add(k);
      const owners = ownedBy.get(k);
      // Grant only when nobody else still holds it; already-held target partitions are kept.
      const heldByOther = owners !== undefined && [...owners].some((id) => id !== m.memberId);
      if (!heldByOther) now.push({ topic: tp.topic, partition: tp.partition });
    }
    out.set(m.memberId, now.sort(compareTp));
  }
  return out;
}
