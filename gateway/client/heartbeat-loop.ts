/**
 * A group member's side of ConsumerGroupHeartbeat (KIP-848): join, stay in the group, follow
 * the coordinator's assignment, leave. One heartbeat is held open by the node at a time; as soon
 * as it is answered the next one goes out, so assignment changes arrive in one round trip. A
 * heartbeat sent while another is held (to report released partitions at once) supersedes it:
 * the node answers the held one first, and answers are applied in the order they arrive. An
 * answer to a superseded heartbeat is marked as such: the heartbeat that superseded it reported
 * what the member owned before that answer was known, and its own answer may take back what the
 * earlier one granted (see GroupMember).
 */
import { Apis } from '../../protocol/apis/index.js';
import type { ConsumerGroupHeartbeatResponse } from '../../protocol/apis/consumer-group-heartbeat.js';
import { EddyError, isEddyError } from '../../protocol/errors.js';
import { backoffDelay } from './backoff.js';
import { isRetriable } from './client-errors.js';
import type { Requester } from './broker-connections.js';
import { groupByTopic, type TopicPartition } from './topic-partition.js';

export interface Subscription {
  topics?: readonly string[];
  /** Matches whole topic names (JavaScript RegExp syntax); topics that appear later join in. */
  regex?: string;
}

export interface HeartbeatLoopOptions {
  groupId: string;
  subscription: Subscription;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  assignor: string | null;
  requestTimeoutMs: number;
  /**
   * Reported in every heartbeat: the partitions the member consumes now or may start consuming
   * without hearing from the coordinator again. The coordinator frees a partition for another
   * member only once a report leaves it out.
   */
  owned(): TopicPartition[];
  /**
   * Every answer's assignment, in order. `latest`: it answers the latest heartbeat sent, so no
   * report made without knowing it is still on its way to the coordinator.
   */
  onAssignment(assignment: TopicPartition[], latest: boolean): void;
  /** The coordinator no longer counts us as a member: our partitions are gone; we rejoin. */
  onLost(reason: EddyError): void;
  /** An error no retry can fix (bad group id, regex, assignor…): the member stops. */
  onFatal(err: unknown): void;
}

const JOIN = 0;
const LEAVE = -1;
/** Errors after which the member has no partitions and must rejoin with epoch 0. */
const FENCED = new Set(['UNKNOWN_MEMBER_ID', 'FENCED_MEMBER_EPOCH']);
const RETRY = { initialMs: 100, maxMs: 2000, jitter: 0.2 };

export class HeartbeatLoop {
  readonly #conn: Requester;
  readonly #opts: HeartbeatLoopOptions;
  #memberId = '';
  #epoch = JOIN;
  #intervalMs = 3000;
  /** Sequence of the latest heartbeat sent; only its outcome schedules the next one. */
  #sent = 0;
  #failures = 0;
  #lastAnswerAt = Date.now();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #left = false;
  #joined: Promise<void>;
  #resolveJoined!: () => void;

  constructor(conn: Requester, opts: HeartbeatLoopOptions) {
    this.#conn = conn;
    this.#opts = opts;
    this.#joined = new Promise((r) => (this.#resolveJoined = r));
  }

  get memberId(): string {
    return this.#memberId;
  }

  get memberEpoch(): number {
    return this.#epoch;
  }

  /** Resolves once the first answer to a join has been applied. */
  get joined(): Promise<void> {
    return this.#joined;
  }

  start(): void {
    this.#lastAnswerAt = Date.now();
    this.#send();
  }

  /** Sends a heartbeat now (after releasing partitions, so the coordinator hears it at once). */
  poke(): void {
    if (!this.#stopped) this.#send();
  }

  /** Leaves the group (its partitions go to the others at once) and stops. Best effort. */
  async leave(): Promise<void> {
    if (this.#left) return;
    this.#left = true;
    this.stop();
    if (this.#epoch === JOIN && this.#memberId === '') return;
    try {
      await this.#conn.request(Apis.ConsumerGroupHeartbeat, this.#body(LEAVE, 0), { timeoutMs: Math.min(this.#opts.requestTimeoutMs, 5000) });
    } catch {
      // Not reachable: the node removes us after the session timeout instead.
    }
  }

  /** Stops without leaving (the node notices after the session timeout). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #body(epoch: number, maxWaitMs: number) {
    const { subscription } = this.#opts;
    return {
      groupId: this.#opts.groupId,
      memberId: this.#memberId,
      memberEpoch: epoch,
      rebalanceTimeoutMs: this.#opts.rebalanceTimeoutMs,
      sessionTimeoutMs: this.#opts.sessionTimeoutMs,
      subscribedTopicNames: subscription.topics ? [...subscription.topics] : epoch === JOIN ? [] : null,
      subscribedTopicRegex: subscription.regex ?? null,
      serverAssignor: this.#opts.assignor,
      ownedPartitions: [...groupByTopic(this.#opts.owned())].map(([topic, tps]) => ({ topic, partitions: tps.map((tp) => tp.partition) })),
      maxWaitMs,
    };
  }

  #send(): void {
    clearTimeout(this.#timer);
    const seq = ++this.#sent;
    const maxWaitMs = this.#epoch === JOIN ? 0 : this.#intervalMs;
    this.#conn
      .request(Apis.ConsumerGroupHeartbeat, this.#body(this.#epoch, maxWaitMs), { timeoutMs: this.#opts.requestTimeoutMs + maxWaitMs })
      .then(
        (res) => this.#onAnswer(seq, res),
        (err: unknown) => this.#onError(seq, err),
      )
      .catch((err: unknown) => this.#fatal(err));
  }

  #onAnswer(seq: number, res: ConsumerGroupHeartbeatResponse): void {
    if (this.#stopped) return;
    this.#memberId = res.memberId;
    this.#epoch = res.memberEpoch;
    this.#intervalMs = res.heartbeatIntervalMs;
    this.#failures = 0;
    this.#lastAnswerAt = Date.now();
    this.#opts.onAssignment(
      res.assignment.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition }))),
      seq === this.#sent,
    );
    this.#resolveJoined();
    // Every answer is applied, in order; only the answer to the latest heartbeat sends the next.
    if (seq === this.#sent) this.#send();
  }

  #onError(seq: number, err: unknown): void {
    if (this.#stopped || seq !== this.#sent) return;
    if (isEddyError(err) && FENCED.has(err.errorName)) {
      this.#rejoin(err);
      this.#send();
      return;
    }
    if (!isRetriable(err)) {
      this.#fatal(err);
      return;
    }
    // The node is unreachable. After a session timeout without an answer it has removed us.
    if (this.#epoch !== JOIN && Date.now() - this.#lastAnswerAt > this.#opts.sessionTimeoutMs) {
      this.#rejoin(new EddyError('UNKNOWN_MEMBER_ID', `no answer from the group coordinator for ${this.#opts.sessionTimeoutMs} ms (session timeout)`));
    }
    this.#timer = setTimeout(() => this.#send(), backoffDelay(this.#failures++, RETRY));
  }

  #rejoin(reason: EddyError): void {
    this.#epoch = JOIN;
    this.#opts.onLost(reason);
  }

  #fatal(err: unknown): void {
    if (this.#stopped) return;
    this.stop();
    this.#opts.onFatal(err);
    this.#resolveJoined();
  }
}
