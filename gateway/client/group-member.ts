/**
 * A consumer's group membership: follows the coordinator's assignment, commits offsets, and
 * calls the application's rebalance listener.
 *
 * At-least-once by default, as in Kafka:
 * - records returned by poll() count as processed when poll() is called again (or the consumer
 *   closes); auto-commit and revocation commit only processed positions;
 * - a revoked partition is released between polls, never while the application holds records of
 *   it: the listener's onPartitionsRevoked runs, processed positions are committed (auto-commit),
 *   the partition stops being fetched, and only then is the release reported. The coordinator
 *   hands the partition on after that report, so no partition has two consumers at once, and with
 *   commits after processing the next owner starts exactly where this one stopped.
 * - a lost membership (session timeout, fenced) drops partitions without committing.
 *
 * Every heartbeat reports as owned what the member consumes plus what it has been granted and
 * not yet started: the coordinator frees a partition for another member only once a report
 * leaves it out, so a report must never leave out a partition this member may still start. A
 * grant that arrives in the answer to a superseded heartbeat is held back until the answer to the
 * latest heartbeat still has it: the later heartbeat reported what the member owned before the
 * grant was known, and the coordinator may have given the partition to another member on that
 * report (its answer then no longer has it).
 */
import { Apis } from '../../protocol/apis/index.js';
import { EddyError } from '../../protocol/errors.js';
import { isRetriable, serverError } from './client-errors.js';
import type { Requester } from './broker-connections.js';
import { HeartbeatLoop, type Subscription } from './heartbeat-loop.js';
import { groupByTopic, tpKey, type TopicPartition } from './topic-partition.js';

export interface RebalanceListener {
  /** New partitions, before their first records are fetched (their positions are set). */
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  /** Partitions about to move to another member: commit what you processed (manual commit). */
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  /** Partitions already taken away (the member was fenced); committing is no longer possible. */
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;
}

/** The consumer, as the group member drives it. */
export interface PartitionHost {
  assigned(): TopicPartition[];
  /** Starts fetching; position undefined = resolve with autoOffsetReset. */
  add(partitions: { tp: TopicPartition; position: number | undefined }[]): void;
  /** Stops fetching these and drops records fetched for them; positions stay (for commits). */
  pause(partitions: TopicPartition[]): void;
  /** Stops fetching and forgets the partitions (records fetched for them are dropped). */
  remove(partitions: TopicPartition[]): void;
  /** The next offset poll() would return, per assigned partition that has a position. */
  positions(): Map<string, { tp: TopicPartition; offset: number }>;
}

export interface GroupMemberOptions {
  groupId: string;
  subscription: Subscription;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  assignor: string | null;
  autoCommit: boolean;
  autoCommitIntervalMs: number;
  requestTimeoutMs: number;
  listener: RebalanceListener;
}

export class GroupMember {
  readonly #conn: Requester;
  readonly #host: PartitionHost;
  readonly #opts: GroupMemberOptions;
  readonly #loop: HeartbeatLoop;
  /** The latest assignment from the coordinator. */
  #target = new Map<string, TopicPartition>();
  /** Grants from answers to superseded heartbeats, not started until the latest answer has them. */
  readonly #unconfirmed = new Set<string>();
  /** Set while the application holds records returned by poll(). */
  #busy = false;
  #idle: Promise<void> = Promise.resolve();
  #markIdle: () => void = () => {};
  #reconciling: Promise<void> | undefined;
  #again = false;
  /** Positions everything before which is processed: taken when poll() is called. */
  #processed = new Map<string, { tp: TopicPartition; offset: number }>();
  readonly #lastCommitted = new Map<string, number>();
  #commitChain: Promise<void> = Promise.resolve();
  #autoCommitTimer: ReturnType<typeof setInterval> | undefined;
  #fatal: unknown;
  #closed = false;

  constructor(conn: Requester, host: PartitionHost, opts: GroupMemberOptions) {
    this.#conn = conn;
    this.#host = host;
    this.#opts = opts;
    this.#loop = new HeartbeatLoop(conn, {
      groupId: opts.groupId,
      subscription: opts.subscription,
      sessionTimeoutMs: opts.sessionTimeoutMs,
      rebalanceTimeoutMs: opts.rebalanceTimeoutMs,
      assignor: opts.assignor,
      requestTimeoutMs: opts.requestTimeoutMs,
      owned: () => this.#owned(),
      onAssignment: (assignment, latest) => this.#onAssignment(assignment, latest),
      onLost: (reason) => void this.#lose(reason),
      onFatal: (err) => {
        this.#fatal = err;
      },
    });
  }

  get memberId(): string {
    return this.#loop.memberId;
  }

  get memberEpoch(): number {
    return this.#loop.memberEpoch;
  }

  /** Resolves once the coordinator has answered the join (or the member failed for good). */
  get joined(): Promise<void> {
    return this.#loop.joined;
  }

  start(): void {
    this.#loop.start();
    if (this.#opts.autoCommit) {
      this.#autoCommitTimer = setInterval(() => void this.#autoCommit(), this.#opts.autoCommitIntervalMs);
      this.#autoCommitTimer.unref?.();
    }
  }

  /** Throws the error that stopped the member, if one did. */
  throwIfFailed(): void {
    if (this.#fatal !== undefined) throw this.#fatal;
  }

  /** Called at the start of every poll(): what was returned before is processed; rebalance now. */
  async beforePoll(): Promise<void> {
    if (this.#fatal !== undefined) throw this.#fatal;
    this.#processed = this.#host.positions();
    this.#setBusy(false);
    await this.#reconciling;
  }

  /** Called when poll() returns records: the application holds them until the next poll. */
  afterPoll(returnedRecords: boolean): void {
    this.#setBusy(returnedRecords);
  }

  /**
   * Commits offsets: the given ones, or every processed position (all records returned by
   * poll so far). Throws EddyError per Kafka semantics (STALE_MEMBER_EPOCH: the partition was
   * reassigned; do not retry).
   */
  async commit(offsets?: readonly { topic: string; partition: number; offset: number; metadata?: string | null }[]): Promise<void> {
    const entries = offsets ?? [...this.#host.positions().values()].map(({ tp, offset }) => ({ ...tp, offset }));
    await this.#commit(entries, false);
  }

  /** Leaves the group: revokes everything (listener, auto-commit), then tells the coordinator. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#autoCommitTimer);
    this.#setBusy(false);
    this.#processed = this.#host.positions(); // the application has finished with what it got
    await this.#reconciling?.catch(() => {});
    this.#loop.stop();
    const all = this.#host.assigned();
    if (all.length > 0 && this.#fatal === undefined) {
      await this.#revoke(all).catch(() => {});
    }
    await this.#loop.leave();
  }

  /** What heartbeats report: the partitions consumed now and those granted but not started. */
  #owned(): TopicPartition[] {
    const out = new Map(this.#host.assigned().map((tp) => [tpKey(tp.topic, tp.partition), tp]));
    for (const [key, tp] of this.#target) if (!out.has(key)) out.set(key, tp);
    return [...out.values()];
  }

  #onAssignment(assignment: TopicPartition[], latest: boolean): void {
    const next = new Map(assignment.map((tp) => [tpKey(tp.topic, tp.partition), tp]));
    if (latest) this.#unconfirmed.clear();
    else {
      const consuming = new Set(this.#host.assigned().map((tp) => tpKey(tp.topic, tp.partition)));
      for (const key of next.keys()) if (!this.#target.has(key) && !consuming.has(key)) this.#unconfirmed.add(key);
      for (const key of this.#unconfirmed) if (!next.has(key)) this.#unconfirmed.delete(key);
    }
    this.#target = next;
    this.#scheduleReconcile();
  }

  /** In the latest assignment, and confirmed by the answer to the latest heartbeat. */
  #mayStart(tp: TopicPartition): boolean {
    const key = tpKey(tp.topic, tp.partition);
    return this.#target.has(key) && !this.#unconfirmed.has(key);
  }

  #setBusy(busy: boolean): void {
    if (busy === this.#busy) return;
    this.#busy = busy;
    if (busy) this.#idle = new Promise((r) => (this.#markIdle = r));
    else this.#markIdle();
  }

  #scheduleReconcile(): void {
    if (this.#reconciling) {
      this.#again = true;
      return;
    }
    this.#reconciling = (async () => {
      try {
        do {
          this.#again = false;
          await this.#reconcile();
        } while (this.#again && !this.#closed);
      } catch (err) {
        // A lost connection or a node restart: try again shortly (the heartbeat sorts out
        // membership); anything else stops the consumer with the error.
        if (isRetriable(err)) setTimeout(() => this.#scheduleReconcile(), 200);
        else this.#fatal ??= err;
      } finally {
        this.#reconciling = undefined;
      }
    })();
  }

  async #reconcile(): Promise<void> {
    if (this.#closed) return;
    const assigned = this.#host.assigned();
    const revoked = assigned.filter((tp) => !this.#target.has(tpKey(tp.topic, tp.partition)));
    const have = new Set(assigned.map((tp) => tpKey(tp.topic, tp.partition)));
    const added = [...this.#target.values()].filter((tp) => !have.has(tpKey(tp.topic, tp.partition)) && this.#mayStart(tp));
    if (revoked.length > 0) {
      await this.#idle; // never while the application holds records of these partitions
      if (this.#closed) return;
      await this.#revoke(revoked);
      this.#loop.poke(); // report the release now: the new owner is waiting for it
    }
    if (added.length > 0) {
      const committed = await this.#fetchCommitted(added);
      // The assignment may have moved on while we asked; add only what is still ours.
      const still = added.filter((tp) => this.#mayStart(tp));
      this.#host.add(still.map((tp) => ({ tp, position: committed.get(tpKey(tp.topic, tp.partition)) })));
      for (const tp of still) this.#processed.delete(tpKey(tp.topic, tp.partition));
      await this.#opts.listener.onPartitionsAssigned?.(still);
    }
  }

  async #revoke(partitions: TopicPartition[]): Promise<void> {
    // First stop reading them: a poll running meanwhile must not hand out records of a partition
    // whose offsets are being committed for its next owner.
    this.#host.pause(partitions);
    await this.#opts.listener.onPartitionsRevoked?.(partitions);
    if (this.#opts.autoCommit) {
      const keys = new Set(partitions.map((tp) => tpKey(tp.topic, tp.partition)));
      const entries = [...this.#processed.values()].filter((p) => keys.has(tpKey(p.tp.topic, p.tp.partition))).map(({ tp, offset }) => ({ ...tp, offset }));
      await this.#commit(entries, true).catch(() => {}); // best effort: the next owner re-reads at worst
    }
    this.#host.remove(partitions);
    for (const tp of partitions) this.#processed.delete(tpKey(tp.topic, tp.partition));
  }

  async #lose(_reason: EddyError): Promise<void> {
    const lost = this.#host.assigned();
    this.#host.remove(lost);
    this.#processed.clear();
    this.#target.clear();
    this.#unconfirmed.clear();
    if (lost.length === 0) return;
    const listener = this.#opts.listener;
    try {
      if (listener.onPartitionsLost) await listener.onPartitionsLost(lost);
      else await listener.onPartitionsRevoked?.(lost);
    } catch {
      // the application's listener failing cannot undo the loss
    }
  }

  async #autoCommit(): Promise<void> {
    const entries = [...this.#processed.values()].map(({ tp, offset }) => ({ ...tp, offset }));
    await this.#commit(entries, true).catch(() => {}); // retried at the next interval
  }

  /** Commits one at a time, in order; skips partitions whose offset did not move (onlyNew). */
  #commit(entries: readonly { topic: string; partition: number; offset: number; metadata?: string | null }[], onlyNew: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      const todo = entries.filter((e) => !onlyNew || (this.#lastCommitted.get(tpKey(e.topic, e.partition)) ?? -1) < e.offset);
      if (todo.length === 0) return;
      const res = await this.#conn.request(Apis.OffsetCommit, {
        groupId: this.#opts.groupId,
        memberId: this.#loop.memberId,
        memberEpoch: this.#loop.memberEpoch,
        topics: [...groupByTopic(todo)].map(([name, items]) => ({
          name,
          partitions: items.map((e) => ({ partition: e.partition, committedOffset: e.offset, committedMetadata: e.metadata ?? null })),
        })),
      });
      let first: EddyError | undefined;
      for (const t of res.topics) {
        for (const p of t.partitions) {
          if (p.errorCode !== 0) first ??= serverError(p.errorCode, p.errorMessage, `commit of ${t.name}-${p.partition} for group ${this.#opts.groupId}`);
          else {
            const e = todo.find((x) => x.topic === t.name && x.partition === p.partition);
            if (e) this.#lastCommitted.set(tpKey(e.topic, e.partition), e.offset);
          }
        }
      }
      if (first) throw first;
    };
    const next = this.#commitChain.then(run, run);
    this.#commitChain = next.catch(() => {});
    return next;
  }

  async #fetchCommitted(partitions: TopicPartition[]): Promise<Map<string, number>> {
    const res = await this.#conn.request(Apis.OffsetFetch, {
      groupId: this.#opts.groupId,
      topics: [...groupByTopic(partitions)].map(([name, items]) => ({ name, partitions: items.map((tp) => tp.partition) })),
    });
    const out = new Map<string, number>();
    for (const t of res.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0) throw serverError(p.errorCode, p.errorMessage, `committed offset of ${t.name}-${p.partition}`);
        if (p.committedOffset >= 0) {
          out.set(tpKey(t.name, p.partition), p.committedOffset);
          this.#lastCommitted.set(tpKey(t.name, p.partition), p.committedOffset);
        }
      }
    }
    return out;
  }
}
