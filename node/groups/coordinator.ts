/**
 * The group coordinator: the I/O shell around the pure ConsumerGroup state machines. It owns the
 * clock and timers (session expiry, held heartbeats), feeds topic changes to the groups, and
 * commits offsets to the OffsetStore.
 *
 * Held heartbeats: a member's heartbeat may wait up to its heartbeat interval. Whenever a group
 * changes, every held heartbeat whose answer would now differ from what that member was last told
 * is answered at once. A rebalance therefore reaches each member in one round trip. Answers to one
 * member leave in the order they are made, and the member applies each in turn.
 */
import { randomUUID } from 'node:crypto';
import type { RequestOrigin } from '../request-origin.js';
import type { Logger } from '../logger.js';
import type { ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse } from '../../protocol/apis/consumer-group-heartbeat.js';
import { EddyError } from '../../protocol/errors.js';
import { tpKey } from '../../protocol/topic-partition.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { TopicManager } from '../topics/topic-manager.js';
import type { TopicPartition } from './assignors.js';
import { ConsumerGroup, JOIN_EPOCH, LEAVE_EPOCH, validateGroupId, type MemberView } from './consumer-group.js';
import { OffsetStore } from './offset-store.js';


interface Held {
  group: ConsumerGroup;
  memberId: string;
  finish: (answer: { view: MemberView } | { error: EddyError } | null) => void;
}

/** How often sessions are checked; a dead member is noticed within session timeout + this. */
const EXPIRY_TICK_MS = 100;

const memberKey = (groupId: string, memberId: string): string => `${groupId}\u0000${memberId}`;

export class GroupCoordinator {
  readonly offsets: OffsetStore;
  readonly #topics: TopicManager;
  readonly #logger: Logger;
  readonly #clock: () => number;
  readonly #groups = new Map<string, ConsumerGroup>();
  readonly #held = new Map<string, Held>();
  /** What each member was last told (serialized), to know when a held heartbeat must answer. */
  readonly #told = new Map<string, string>();
  #knownTopics: Set<string>;
  readonly #ticker: ReturnType<typeof setInterval>;
  readonly #onTopicsChange = (): void => void this.#topicsChanged();

  private constructor(topics: TopicManager, offsets: OffsetStore, logger: Logger, clock: () => number) {
    this.#topics = topics;
    this.offsets = offsets;
    this.#logger = logger;
    this.#clock = clock;
    this.#knownTopics = new Set(topics.list().map((t) => t.name));
    topics.events.on('change', this.#onTopicsChange);
    this.#ticker = setInterval(() => this.#expire(), EXPIRY_TICK_MS);
    this.#ticker.unref();
  }

  /** Opens the offset store (committing through `replicas`) and starts the session timers. */
  static async open(topics: TopicManager, replicas: ReplicaManager, logger: Logger, clock: () => number = Date.now): Promise<GroupCoordinator> {
    return new GroupCoordinator(topics, await OffsetStore.open(topics, replicas, logger, clock), logger, clock);
  }

  /** Handles a heartbeat; resolves when it is answered (at once, on a change, or after maxWaitMs). */
  async heartbeat(req: ConsumerGroupHeartbeatRequest, origin: RequestOrigin): Promise<ConsumerGroupHeartbeatResponse> {
    validateGroupId(req.groupId);
    this.offsets.checkCoordinator(req.groupId);
    const now = this.#clock();
    let memberId = req.memberId;
    if (memberId === '') {
      if (req.memberEpoch !== JOIN_EPOCH) throw new EddyError('UNKNOWN_MEMBER_ID', 'memberId is empty; only a join (memberEpoch 0) may leave it empty');
      memberId = randomUUID();
    }
    const key = memberKey(req.groupId, memberId);
    // A newer heartbeat from the same member supersedes a held one: answer that one first.
    this.#release(key, null);
    const toldBefore = req.memberEpoch === JOIN_EPOCH ? undefined : this.#told.get(key);
    let group = this.#groups.get(req.groupId);
    if (!group) {
      if (req.memberEpoch !== JOIN_EPOCH) {
        throw new EddyError('UNKNOWN_MEMBER_ID', `member ${memberId} is not in group "${req.groupId}" (it timed out, left, or the node restarted)`);
      }
      group = new ConsumerGroup(req.groupId, this.#metadata());
      this.#groups.set(req.groupId, group);
    }
    const sizeBefore = group.size;
    const reported = req.ownedPartitions === null ? null : flatten(req.ownedPartitions);
    const view = group.heartbeat(
      {
        memberId,
        memberEpoch: req.memberEpoch,
        clientId: origin.clientId,
        clientHost: origin.clientHost,
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        subscribedTopicNames: req.subscribedTopicNames,
        subscribedTopicRegex: req.subscribedTopicRegex,
        serverAssignor: req.serverAssignor,
        ownedPartitions: reported,
      },
      now,
    );
    if (group.size !== sizeBefore) {
      const verb = req.memberEpoch === LEAVE_EPOCH ? 'left' : 'joined';
      this.#logger.info({ group: req.groupId, memberId, clientId: origin.clientId, members: group.size, epoch: group.groupEpoch }, `member ${memberId} ${verb} group ${req.groupId}`);
    }
    if (view === null) {
      this.#told.delete(key);
      this.#wake(group);
      this.#dropIfEmpty(group);
      return { memberId, memberEpoch: LEAVE_EPOCH, heartbeatIntervalMs: 0, assignment: [] };
    }
    // Members apply every answer in order, so a member knows whatever it was last told; hold the
    // heartbeat only when there is nothing new to tell. A report that leaves out part of the
    // member's assignment was made before the member heard of it (it crossed the answer that
    // granted it), and the member waits for this answer before starting that part: answer now.
    const answer = serialize(view);
    const knowsIt = answer === toldBefore && (reported === null || covers(reported, view.assignment));
    this.#told.set(key, answer);
    this.#wake(group);
    const waitMs = Math.min(Math.max(0, req.maxWaitMs), view.heartbeatIntervalMs);
    if (!knowsIt || waitMs === 0 || origin.signal?.aborted) return toResponse(view);
    return this.#hold(key, group, memberId, waitMs, origin.signal);
  }

  /** Holds a heartbeat until the member's view changes, `ms` pass, or its connection closes. */
  #hold(key: string, group: ConsumerGroup, memberId: string, ms: number, signal?: AbortSignal): Promise<ConsumerGroupHeartbeatResponse> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => this.#release(key, null);
      const timer = setTimeout(() => this.#release(key, null), ms);
      group.setParked(memberId, true, this.#clock());
      this.#held.set(key, {
        group,
        memberId,
        finish: (answer) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          group.setParked(memberId, false, this.#clock());
          if (answer && 'error' in answer) reject(answer.error);
          else {
            const view = answer?.view ?? group.answer(memberId);
            if (!view) reject(new EddyError('UNKNOWN_MEMBER_ID', `member ${memberId} was removed from group "${group.groupId}"`));
            else {
              this.#told.set(key, serialize(view));
              resolve(toResponse(view));
            }
          }
        },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Answers a held heartbeat (with the member's current view unless given an answer). */
  #release(key: string, answer: { view: MemberView } | { error: EddyError } | null): void {
    const held = this.#held.get(key);
    if (!held) return;
    this.#held.delete(key);
    held.finish(answer);
  }

  /** Answers every held heartbeat of the group whose member would now be told something new. */
  #wake(group: ConsumerGroup): void {
    for (const [key, held] of [...this.#held]) {
      if (held.group !== group) continue;
      const view = group.view(held.memberId);
      if (!view) {
        this.#release(key, { error: new EddyError('UNKNOWN_MEMBER_ID', `member ${held.memberId} was removed from group "${group.groupId}"`) });
      } else if (serialize(view) !== this.#told.get(key)) {
        this.#release(key, { view: group.answer(held.memberId)! });
      }
    }
  }

  #expire(): void {
    const now = this.#clock();
    for (const group of this.#groups.values()) {
      const gone = group.expire(now);
      if (gone.length === 0) continue;
      for (const g of gone) {
        this.#told.delete(memberKey(group.groupId, g.memberId));
        this.#logger.warn(
          { group: group.groupId, memberId: g.memberId, reason: g.reason },
          g.reason === 'session'
            ? `removed member ${g.memberId} from group ${group.groupId}: no heartbeat for ${g.ms} ms (session timeout); its partitions move to the other members`
            : `removed member ${g.memberId} from group ${group.groupId}: it did not release revoked partitions within ${g.ms} ms (rebalance timeout)`,
        );
      }
      this.#wake(group);
      this.#dropIfEmpty(group);
    }
  }

  /** An empty group with no offsets is forgotten (Kafka: it becomes Dead and is removed). */
  #dropIfEmpty(group: ConsumerGroup): void {
    if (group.size === 0 && !this.offsets.has(group.groupId)) this.#groups.delete(group.groupId);
  }

  async #topicsChanged(): Promise<void> {
    this.offsets.loadNewPartitions();
    // Groups whose offsets partition moved away (or is not led now) are another node's to coordinate.
    for (const [groupId, group] of this.#groups) {
      if (this.offsets.coordinates(groupId)) continue;
      for (const [key, held] of this.#held) if (held.group === group) this.#release(key, { error: new EddyError('NOT_COORDINATOR', `this node no longer coordinates group "${groupId}"; ask FindCoordinator`) });
      this.#groups.delete(groupId);
    }
    const now = this.#clock();
    const metadata = this.#metadata();
    for (const group of this.#groups.values()) if (group.setMetadata(metadata, now)) this.#wake(group);
    const current = new Set(this.#topics.list().map((t) => t.name));
    const deleted = [...this.#knownTopics].filter((t) => !current.has(t));
    this.#knownTopics = current;
    for (const topic of deleted) {
      try {
        await this.offsets.deleteTopic(topic);
      } catch (err) {
        this.#logger.error({ err, topic }, `could not delete committed offsets of deleted topic ${topic}; they are deleted on the next topic change`);
        this.#knownTopics.add(topic);
      }
    }
  }

  /** Partition counts of every non-internal topic (what subscriptions can match). */
  #metadata(): Map<string, number> {
    return new Map(this.#topics.list().filter((t) => !t.internal).map((t) => [t.name, t.partitions]));
  }

  /** The live group, if it has members or was seen since start-up. */
  group(groupId: string): ConsumerGroup | undefined {
    return this.#groups.get(groupId);
  }

  /** Every group id with members or committed offsets. */
  groupIds(): string[] {
    return [...new Set([...this.#groups.keys(), ...this.offsets.groupIds()])].sort();
  }

  /** Throws unless this commit is allowed (see ConsumerGroup.checkCommit). */
  checkCommit(groupId: string, memberId: string, memberEpoch: number, tp: TopicPartition): void {
    const group = this.#groups.get(groupId);
    if (group) return group.checkCommit(memberId, memberEpoch, tp);
    if (memberId !== '' || memberEpoch >= 0) {
      throw new EddyError('UNKNOWN_MEMBER_ID', `member ${memberId} is not in group "${groupId}" (it timed out, left, or the node restarted)`);
    }
  }

  /** Deletes a group with no members, and its offsets. */
  async deleteGroup(groupId: string): Promise<void> {
    this.offsets.checkCoordinator(groupId);
    validateGroupId(groupId);
    const group = this.#groups.get(groupId);
    if (!group && !this.offsets.has(groupId)) throw new EddyError('GROUP_ID_NOT_FOUND', `group "${groupId}" does not exist`);
    if (group && group.size > 0) throw new EddyError('NON_EMPTY_GROUP', `group "${groupId}" has ${group.size} active member(s)`);
    await this.offsets.deleteGroup(groupId); // a storage failure leaves the group as it was
    group?.markDead(); // a member that joined meanwhile keeps the group (NON_EMPTY_GROUP)
    this.#groups.delete(groupId);
    this.#logger.info({ group: groupId }, `deleted group ${groupId} and its committed offsets`);
  }

  /** Stops timers and answers every held heartbeat. */
  close(): void {
    clearInterval(this.#ticker);
    this.#topics.events.off('change', this.#onTopicsChange);
    for (const key of [...this.#held.keys()]) this.#release(key, null);
  }
}

/** Every partition of `assignment` is in `reported`. */
function covers(reported: readonly TopicPartition[], assignment: readonly TopicPartition[]): boolean {
  const keys = new Set(reported.map((tp) => tpKey(tp.topic, tp.partition)));
  return assignment.every((tp) => keys.has(tpKey(tp.topic, tp.partition)));
}

function flatten(list: readonly { topic: string; partitions: readonly number[] }[]): TopicPartition[] {
  return list.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
}

/** Groups partitions by topic, topics and partitions sorted, as the wire carries them. */
export function byTopic(list: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const m = new Map<string, number[]>();
  for (const tp of list) {
    const ps = m.get(tp.topic) ?? [];
    ps.push(tp.partition);
    m.set(tp.topic, ps);
  }
  return [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([topic, partitions]) => ({ topic, partitions: partitions.sort((x, y) => x - y) }));
}

function toResponse(view: MemberView): ConsumerGroupHeartbeatResponse {
  return { memberId: view.memberId, memberEpoch: view.memberEpoch, heartbeatIntervalMs: view.heartbeatIntervalMs, assignment: byTopic(view.assignment) };
}

function serialize(view: MemberView): string {
  return JSON.stringify([view.memberEpoch, view.heartbeatIntervalMs, byTopic(view.assignment)]);
}
