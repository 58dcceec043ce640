/**
 * One consumer group's membership and assignment, as pure logic (KIP-848 shape): members
 * heartbeat with their subscription and what they own; the group computes a target assignment
 * with its assignor and hands each member, step by step, the part of its target that no other
 * member still owns. Time comes in as `now` arguments; no timers, sockets or files here.
 *
 * Vocabulary (Kafka's):
 * - group epoch: bumped whenever membership, a subscription or the subscribed topics' partition
 *   counts change; the target assignment is recomputed then (assignment epoch = group epoch).
 * - member epoch: the epoch a member has caught up to. A member moves to the assignment epoch
 *   once it owns nothing outside its target (it has released what it had to revoke).
 * - owned: what the coordinator believes the member may be consuming. Grants enter `owned` the
 *   moment they are handed out; a revoked partition leaves only when the member reports it no
 *   longer owns it. A partition is granted only when no other member owns it, so no partition
 *   ever has two owners.
 */
import { EddyError } from '../../protocol/errors.js';
import { tpKey } from '../../protocol/topic-partition.js';
import { assignorByName, cooperativeStep, type Assignment, type Assignor, type TopicPartition, type TopicPartitionCounts } from './assignors.js';
import {
  assignorByNameOrThrow,
  checkSessionTimeout,
  compileRegex,
  DEFAULT_ASSIGNOR,
  DEFAULT_REBALANCE_TIMEOUT_MS,
  DEFAULT_SESSION_TIMEOUT_MS,
  heartbeatIntervalFor,
  JOIN_EPOCH,
  LEAVE_EPOCH,
  MAX_GROUP_MEMBERS,
} from './group-limits.js';

export { JOIN_EPOCH, LEAVE_EPOCH, validateGroupId } from './group-limits.js';

export type GroupState = 'empty' | 'assigning' | 'stable' | 'dead';

export interface HeartbeatInput {
  memberId: string;
  memberEpoch: number;
  clientId: string;
  clientHost: string;
  /** -1: keep the current value (or the default on join). */
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** null: unchanged since the last heartbeat. */
  subscribedTopicNames: readonly string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  ownedPartitions: readonly TopicPartition[] | null;
}

/** What a heartbeat answers: the member's epoch and what it may own now. */
export interface MemberView {
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: TopicPartition[];
}

export interface MemberDescription {
  memberId: string;
  clientId: string;
  clientHost: string;
  memberEpoch: number;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  assignment: TopicPartition[];
  targetAssignment: TopicPartition[];
  /** What it holds now: its assignment plus partitions it has yet to release. */
  owned: TopicPartition[];
}

interface Member {
  readonly memberId: string;
  clientId: string;
  clientHost: string;
  memberEpoch: number;
  previousEpoch: number;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  topicNames: string[];
  regexSource: string | null;
  regex: RegExp | null;
  assignorName: string | null;
  lastSeenMs: number;
  /** A heartbeat of this member is being held open (it is connected and waiting). */
  parked: boolean;
  owned: Map<string, TopicPartition>;
  assigned: TopicPartition[];
  /** When a member still owning revoked partitions is removed; null when it owes nothing. */
  revokeDeadlineMs: number | null;
}

const keyOf = (tp: TopicPartition): string => tpKey(tp.topic, tp.partition);

export class ConsumerGroup {
  readonly groupId: string;
  groupEpoch = 0;
  assignmentEpoch = 0;
  #dead = false;
  readonly #members = new Map<string, Member>();
  #target: Assignment = new Map();
  /** Partition counts of every topic that exists (internal ones excluded by the caller). */
  #metadata: TopicPartitionCounts;
  /** The subscribed topics' counts the target was computed from. */
  #resolved = new Map<string, number>();
  #assignor: Assignor = assignorByName(DEFAULT_ASSIGNOR);

  constructor(groupId: string, metadata: TopicPartitionCounts) {
    this.groupId = groupId;
    this.#metadata = metadata;
  }

  get state(): GroupState {
    if (this.#dead) return 'dead';
    if (this.#members.size === 0) return 'empty';
    for (const m of this.#members.values()) {
      if (m.memberEpoch !== this.assignmentEpoch || !sameSet(m.assigned, this.#target.get(m.memberId) ?? [])) return 'assigning';
      if (m.owned.size !== m.assigned.length) return 'assigning';
    }
    return 'stable';
  }

  get assignorName(): string {
    return this.#assignor.name;
  }

  get size(): number {
    return this.#members.size;
  }

  memberIds(): string[] {
    return [...this.#members.keys()];
  }

  /**
   * Handles one heartbeat: join (epoch 0), leave (epoch -1) or a regular one. Returns the
   * member's view, or null after a leave. Throws UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH,
   * INVALID_SESSION_TIMEOUT, UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION,
   * GROUP_MAX_SIZE_REACHED or INVALID_REQUEST, leaving the group unchanged.
   */
  heartbeat(input: HeartbeatInput, now: number): MemberView | null {
    this.#assertAlive();
    if (input.memberEpoch === LEAVE_EPOCH) {
      this.remove(input.memberId, now);
      return null;
    }
    const sessionTimeoutMs = checkSessionTimeout(input.sessionTimeoutMs);
    const assignorName = input.serverAssignor === null || input.serverAssignor === '' ? null : assignorByNameOrThrow(input.serverAssignor).name;
    const regex = input.subscribedTopicRegex === null ? undefined : compileRegex(input.subscribedTopicRegex);
    let member = this.#members.get(input.memberId);
    let changed = false;
    if (input.memberEpoch === JOIN_EPOCH) {
      if (!member && this.#members.size >= MAX_GROUP_MEMBERS) {
        throw new EddyError('GROUP_MAX_SIZE_REACHED', `group "${this.groupId}" has ${this.#members.size} members, the most a group may have`);
      }
      if (input.subscribedTopicNames === null && input.subscribedTopicRegex === null) {
        throw new EddyError('INVALID_REQUEST', 'a joining member must subscribe to topic names or a regex');
      }
      // A rejoin under a known id means the member lost everything it had (KIP-848).
      if (member) this.#members.delete(member.memberId);
      member = {
        memberId: input.memberId,
        clientId: input.clientId,
        clientHost: input.clientHost,
        memberEpoch: 0,
        previousEpoch: 0,
        sessionTimeoutMs: sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS,
        rebalanceTimeoutMs: input.rebalanceTimeoutMs > 0 ? input.rebalanceTimeoutMs : DEFAULT_REBALANCE_TIMEOUT_MS,
        topicNames: [],
        regexSource: null,
        regex: null,
        assignorName: null,
        lastSeenMs: now,
        parked: false,
        owned: new Map(),
        assigned: [],
        revokeDeadlineMs: null,
      };
      this.#members.set(member.memberId, member);
      changed = true;
    } else {
      if (!member) {
        throw new EddyError('UNKNOWN_MEMBER_ID', `member ${input.memberId} is not in group "${this.groupId}" (it timed out or left)`);
      }
      if (input.memberEpoch !== member.memberEpoch && input.memberEpoch !== member.previousEpoch) {
        throw new EddyError(
          'FENCED_MEMBER_EPOCH',
          `member ${input.memberId} of group "${this.groupId}" sent epoch ${input.memberEpoch}; its epoch is ${member.memberEpoch}`,
        );
      }
      if (sessionTimeoutMs !== undefined) member.sessionTimeoutMs = sessionTimeoutMs;
      if (input.rebalanceTimeoutMs > 0) member.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
    }
    member.lastSeenMs = now;
    member.clientId = input.clientId;
    member.clientHost = input.clientHost;
    if (input.subscribedTopicNames !== null) {
      const names = [...new Set(input.subscribedTopicNames)].sort();
      if (!sameStrings(names, member.topicNames)) {
        member.topicNames = names;
        changed = true;
      }
    }
    if (regex !== undefined && input.subscribedTopicRegex !== member.regexSource) {
      member.regexSource = input.subscribedTopicRegex === '' ? null : input.subscribedTopicRegex;
      member.regex = regex;
      changed = true;
    }
    if (assignorName !== null && assignorName !== member.assignorName) {
      member.assignorName = assignorName;
      changed = true;
    }
    if (input.ownedPartitions !== null) this.#acknowledge(member, input.ownedPartitions);
    if (changed) this.#bump(now);
    else this.#reconcile(now);
    return this.answer(member.memberId)!;
  }

  /**
   * What answering the member now would tell it, or null if it is not in the group. The epoch is
   * the assignment epoch once the member owes no revocation. Reading it changes nothing; the
   * coordinator compares it with what a held heartbeat last saw to decide whether to answer early.
   */
  view(memberId: string): MemberView | null {
    const m = this.#members.get(memberId);
    if (!m) return null;
    return {
      memberId,
      memberEpoch: this.#owesRevocation(m) ? m.memberEpoch : this.assignmentEpoch,
      heartbeatIntervalMs: heartbeatIntervalFor(m.sessionTimeoutMs),
      assignment: m.assigned.map((tp) => ({ ...tp })),
    };
  }

  /**
   * Answers the member: as `view`, and the member's epoch becomes what it is told. Epochs only
   * advance when the member is told (KIP-848), so a member is never more than one epoch behind
   * what the coordinator accepts from it.
   */
  answer(memberId: string): MemberView | null {
    const v = this.view(memberId);
    const m = this.#members.get(memberId);
    if (!v || !m) return null;
    if (v.memberEpoch !== m.memberEpoch) {
      m.previousEpoch = m.memberEpoch;
      m.memberEpoch = v.memberEpoch;
    }
    return v;
  }

  /** Marks a member's heartbeat as held open (alive) or released at `now`. */
  setParked(memberId: string, parked: boolean, now: number): void {
    const m = this.#members.get(memberId);
    if (!m) return;
    m.parked = parked;
    m.lastSeenMs = now;
  }

  /** Removes a member (leave, timeout); its partitions become free. Returns whether it was there. */
  remove(memberId: string, now: number): boolean {
    if (!this.#members.delete(memberId)) return false;
    this.#bump(now);
    return true;
  }

  /**
   * Removes members whose session expired (no heartbeat for sessionTimeoutMs and none held open)
   * or that kept revoked partitions past their rebalance timeout. Returns who and why.
   */
  expire(now: number): { memberId: string; reason: 'session' | 'rebalance'; ms: number }[] {
    const gone: { memberId: string; reason: 'session' | 'rebalance'; ms: number }[] = [];
    for (const m of this.#members.values()) {
      if (!m.parked && now - m.lastSeenMs > m.sessionTimeoutMs) gone.push({ memberId: m.memberId, reason: 'session', ms: m.sessionTimeoutMs });
      else if (m.revokeDeadlineMs !== null && now > m.revokeDeadlineMs) gone.push({ memberId: m.memberId, reason: 'rebalance', ms: m.rebalanceTimeoutMs });
    }
    if (gone.length === 0) return gone;
    for (const g of gone) this.#members.delete(g.memberId);
    this.#bump(now);
    return gone;
  }

  /** New topic metadata (topics created, deleted or grown): recomputes if a subscription is affected. */
  setMetadata(metadata: TopicPartitionCounts, now: number): boolean {
    this.#metadata = metadata;
    if (this.#members.size === 0) return false;
    if (sameCounts(this.#resolveSubscriptions(), this.#resolved)) return false;
    this.#bump(now);
    return true;
  }

  /**
   * Throws unless `memberId` at `memberEpoch` may commit an offset for `tp`: a member that owns
   * the partition (including one it is releasing), at its current or an earlier epoch; or, with
   * member id "" and epoch -1, anyone while the group has no members (standalone consumers and
   * admin tools, as Kafka's "simple" commits).
   */
  checkCommit(memberId: string, memberEpoch: number, tp: TopicPartition): void {
    if (memberId === '' && memberEpoch < 0) {
      if (this.#members.size > 0) {
        throw new EddyError(
          'NON_EMPTY_GROUP',
          `group "${this.groupId}" has ${this.#members.size} active member(s); only members may commit while it is active`,
        );
      }
      return;
    }
    const m = this.#members.get(memberId);
    if (!m) throw new EddyError('UNKNOWN_MEMBER_ID', `member ${memberId} is not in group "${this.groupId}" (it timed out or left)`);
    if (memberEpoch > m.memberEpoch) {
      throw new EddyError('FENCED_MEMBER_EPOCH', `member ${memberId} committed with epoch ${memberEpoch}; its epoch is ${m.memberEpoch}`);
    }
    if (!m.owned.has(keyOf(tp))) {
      throw new EddyError('STALE_MEMBER_EPOCH', `member ${memberId} (epoch ${m.memberEpoch}) does not own ${tp.topic}-${tp.partition}`);
    }
  }

  /** Members, their subscriptions and assignments (for DescribeGroup). */
  describe(): MemberDescription[] {
    return [...this.#members.values()].map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      memberEpoch: m.memberEpoch,
      subscribedTopicNames: [...m.topicNames],
      subscribedTopicRegex: m.regexSource,
      assignment: m.assigned.map((tp) => ({ ...tp })),
      targetAssignment: (this.#target.get(m.memberId) ?? []).map((tp) => ({ ...tp })),
      owned: [...m.owned.values()].map((tp) => ({ ...tp })),
    }));
  }

  /** The topics members subscribe to (by name or regex) that exist, with their partition counts. */
  subscribedTopics(): Map<string, number> {
    return this.#resolveSubscriptions();
  }

  /** Marks the group deleted; every later call throws GROUP_ID_NOT_FOUND. */
  markDead(): void {
    if (this.#members.size > 0) throw new EddyError('NON_EMPTY_GROUP', `group "${this.groupId}" has ${this.#members.size} active member(s)`);
    this.#dead = true;
  }

  #assertAlive(): void {
    if (this.#dead) throw new EddyError('GROUP_ID_NOT_FOUND', `group "${this.groupId}" was deleted`);
  }

  /** The member reports what it owns: revoked partitions it no longer lists are released. */
  #acknowledge(m: Member, reported: readonly TopicPartition[]): void {
    const keep = new Set(reported.map(keyOf));
    for (const tp of m.assigned) keep.add(keyOf(tp)); // a grant it has not seen yet stays its own
    for (const key of [...m.owned.keys()]) if (!keep.has(key)) m.owned.delete(key);
  }

  #resolveSubscriptions(): Map<string, number> {
    const out = new Map<string, number>();
    for (const m of this.#members.values()) {
      for (const t of m.topicNames) out.set(t, this.#metadata.get(t) ?? 0);
      if (m.regex) for (const [t, n] of this.#metadata) if (m.regex.test(t)) out.set(t, n);
    }
    return out;
  }

  /** Something the target depends on changed: new group epoch, new target, then reconcile. */
  #bump(now: number): void {
    this.groupEpoch++;
    this.#assignor = assignorByName(this.#chooseAssignor());
    this.#resolved = this.#resolveSubscriptions();
    const members = [...this.#members.values()].map((m) => ({
      memberId: m.memberId,
      topics: [...this.#topicsOf(m)],
      owned: [...m.owned.values()],
    }));
    this.#target = members.length > 0 ? this.#assignor.assign(members, this.#resolved) : new Map();
    this.assignmentEpoch = this.groupEpoch;
    this.#reconcile(now);
  }

  #topicsOf(m: Member): Set<string> {
    const out = new Set(m.topicNames);
    if (m.regex) for (const t of this.#resolved.keys()) if (m.regex.test(t)) out.add(t);
    return out;
  }

  /** The assignor most members ask for (ties: the first by name); the default if none asks. */
  #chooseAssignor(): string {
    const votes = new Map<string, number>();
    for (const m of this.#members.values()) if (m.assignorName) votes.set(m.assignorName, (votes.get(m.assignorName) ?? 0) + 1);
    let best: string | null = null;
    for (const [name, n] of [...votes].sort((a, b) => (a[0] < b[0] ? -1 : 1))) if (best === null || n > votes.get(best)!) best = name;
    return best ?? DEFAULT_ASSIGNOR;
  }

  /** Hands every member what it may own now, and advances the epochs of members that caught up. */
  #reconcile(now: number): void {
    const members = [...this.#members.values()];
    const step = cooperativeStep(
      members.map((m) => ({ memberId: m.memberId, topics: [], owned: [...m.owned.values()] })),
      this.#target,
    );
    for (const m of members) {
      m.assigned = step.get(m.memberId) ?? [];
      for (const tp of m.assigned) m.owned.set(keyOf(tp), tp);
      if (this.#owesRevocation(m)) m.revokeDeadlineMs ??= now + m.rebalanceTimeoutMs;
      else m.revokeDeadlineMs = null;
    }
  }

  /** The member still owns a partition outside its target (it must release it first). */
  #owesRevocation(m: Member): boolean {
    const target = this.#target.get(m.memberId) ?? [];
    if (m.owned.size > target.length) return true;
    const keys = new Set(target.map(keyOf));
    for (const k of m.owned.keys()) if (!keys.has(k)) return true;
    return false;
  }
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameSet(a: readonly TopicPartition[], b: readonly TopicPartition[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map(keyOf));
  return b.every((tp) => keys.has(keyOf(tp)));
}

function sameCounts(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
