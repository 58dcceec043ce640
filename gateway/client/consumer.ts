/**
 * The consumer: reads partitions from a position, with long-polled Fetch requests. Partitions are
 * either assigned by hand (`assign`) or by a consumer group (`subscribe` with `groupId`; see
 * group-member.ts for the group's commit and rebalance rules).
 *
 * Positions live here, in the client, so they survive reconnects: when the connection drops, the
 * fetch in flight fails (retriable), the connection reconnects, and the next fetch starts from the
 * same positions. A poll never waits longer than its timeout; a fetch still in flight when it
 * expires is kept and its answer is used by the next poll (as Kafka's fetcher does), so a slow or
 * absent node does not make poll() block for the whole request timeout.
 */
import { Apis } from '../../protocol/apis/index.js';
import { CONSUMER_REPLICA_ID, CONSUMER_PARTITION_EPOCHS, IsolationLevel, type FetchRequest, type FetchResponse } from '../../protocol/apis/fetch.js';
import { EddyError, type ErrorName } from '../../protocol/errors.js';
import { reconnectBackoff } from './backoff.js';
import { ClientClosedError, isRetriable, serverError } from './client-errors.js';
import { BrokerConnections } from './broker-connections.js';
import { fetchByLeader } from './fetch-by-leader.js';
import { GroupCoordinator } from './group-coordinator.js';
import type { ConsumerOptions, OffsetToCommit, SeekTarget } from './consumer-options.js';
import { positionsAfter, recordsFromFetch, type ConsumedRecord } from './fetched-records.js';
import { GroupMember, type PartitionHost, type RebalanceListener } from './group-member.js';
import type { Subscription } from './heartbeat-loop.js';
import { listOffsets, type OffsetSpec } from './list-offsets.js';
export type { ConsumerOptions, OffsetToCommit, SeekTarget } from './consumer-options.js';
import { groupByTopic, tpKey, type TopicPartition } from './topic-partition.js';

/** ListOffsets answers that mean only this partition's leader is unknown, moved or unreachable. */
const LEADER_AWAY = new Set<ErrorName>(['LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER', 'REQUEST_TIMED_OUT']);

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to fetch; undefined while it must be resolved from `reset`. */
  position: number | undefined;
  reset: OffsetSpec | undefined;
  highWatermark: number | undefined;
  /** Being handed to another group member: no longer fetched, position frozen. */
  paused?: boolean;
}

type FetchOutcome =
  | { ok: true; sent: Map<string, number>; res: FetchResponse | null }
  | { ok: false; error: unknown };

/** Reads records from assigned partitions. One poll loop per consumer. */
export class Consumer implements AsyncIterable<ConsumedRecord> {
  readonly #brokers: BrokerConnections;
  readonly #autoOffsetReset: OffsetSpec;
  readonly #maxWaitMs: number;
  readonly #minBytes: number;
  readonly #maxBytes: number;
  readonly #partitionMaxBytes: number;
  readonly #isolation: number;
  readonly #requestTimeoutMs: number;
  readonly #retryBackoffMs: number;
  readonly #checkCrcs: boolean;
  #assigned = new Map<string, PartitionState>();
  #fetch: Promise<FetchOutcome> | undefined;
  /** A non-retriable error met after records were already collected: thrown by the next poll. */
  #pendingError: unknown;
  #polling = false;
  #closed = false;
  readonly #sleepers = new Set<() => void>();
  readonly #options: ConsumerOptions;
  #group: GroupMember | undefined;

  constructor(options: ConsumerOptions) {
    this.#options = options;
    this.#autoOffsetReset = options.autoOffsetReset ?? 'latest';
    if (this.#autoOffsetReset !== 'earliest' && this.#autoOffsetReset !== 'latest') {
      throw new TypeError(`autoOffsetReset must be 'earliest' or 'latest', got ${String(options.autoOffsetReset)}`);
    }
    this.#maxWaitMs = options.maxWaitMs ?? 500;
    this.#minBytes = options.minBytes ?? 1;
    this.#maxBytes = options.maxBytes ?? 50 * 1024 * 1024;
    this.#partitionMaxBytes = options.partitionMaxBytes ?? 1024 * 1024;
    const isolationLevel = options.isolationLevel ?? 'read_uncommitted';
    if (isolationLevel !== 'read_uncommitted' && isolationLevel !== 'read_committed') {
      throw new TypeError(`isolationLevel must be 'read_uncommitted' or 'read_committed', got ${String(options.isolationLevel)}`);
    }
    this.#isolation = isolationLevel === 'read_committed' ? IsolationLevel.READ_COMMITTED : IsolationLevel.READ_UNCOMMITTED;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#retryBackoffMs = options.retryBackoffMs ?? 100;
    this.#checkCrcs = options.checkCrcs ?? true;
    this.#brokers = new BrokerConnections({
      servers: options.server,
      connection: {
        clientId: options.clientId ?? 'eddy-consumer',
        requestTimeoutMs: this.#requestTimeoutMs,
        ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
        reconnectBackoff: reconnectBackoff(options),
      },
      ...(options.metadataMaxAgeMs !== undefined ? { metadataMaxAgeMs: options.metadataMaxAgeMs } : {}),
    });
  }

  /**
   * Replaces the assignment. Partitions that stay assigned keep their positions; new ones start
   * at `autoOffsetReset` unless sought.
   */
  assign(partitions: readonly TopicPartition[]): void {
    if (this.#group) throw new Error('this consumer subscribed to a group; its partitions are assigned by the group');
    const next = new Map<string, PartitionState>();
    for (const { topic, partition } of partitions) {
      if (!Number.isInteger(partition) || partition < 0) throw new RangeError(`invalid partition ${partition} of ${topic}`);
      const key = tpKey(topic, partition);
      next.set(key, this.#assigned.get(key) ?? { topic, partition, position: undefined, reset: this.#autoOffsetReset, highWatermark: undefined });
    }
    this.#assigned = next;
  }

  /** The assigned partitions. */
  assignment(): TopicPartition[] {
    return [...this.#assigned.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /**
   * Joins the consumer group `groupId` for these topics (names, or a regex matching whole names);
   * the node assigns partitions, and poll() reads them. A partition with a committed offset
   * starts there, others at autoOffsetReset. Resolves once the node has answered the join.
   */
  async subscribe(subscription: Subscription | readonly string[], listener: RebalanceListener = {}): Promise<void> {
    const o = this.#options;
    if (!o.groupId) throw new TypeError('subscribe() needs the groupId option');
    if (this.#group) throw new Error('this consumer already subscribed; create another consumer for another subscription');
    if (this.#assigned.size > 0) throw new Error('this consumer has partitions assigned by hand; use either assign() or subscribe()');
    const sub: Subscription = Array.isArray(subscription) ? { topics: subscription as readonly string[] } : (subscription as Subscription);
    if (!sub.topics?.length && !sub.regex) throw new TypeError('subscribe() needs topic names or a regex');
    const host: PartitionHost = {
      assigned: () => this.assignment(),
      add: (parts) => {
        for (const { tp, position } of parts) {
          this.#assigned.set(tpKey(tp.topic, tp.partition), {
            topic: tp.topic,
            partition: tp.partition,
            position,
            reset: position === undefined ? this.#autoOffsetReset : undefined,
            highWatermark: undefined,
          });
        }
        for (const wake of [...this.#sleepers]) wake(); // a poll waiting with nothing to fetch
      },
      pause: (tps) => {
        for (const tp of tps) {
          const st = this.#assigned.get(tpKey(tp.topic, tp.partition));
          if (st) st.paused = true;
        }
      },
      remove: (tps) => {
        for (const tp of tps) this.#assigned.delete(tpKey(tp.topic, tp.partition));
      },
      positions: () =>
        new Map(
          [...this.#assigned]
            .filter(([, s]) => s.position !== undefined)
            .map(([key, s]) => [key, { tp: { topic: s.topic, partition: s.partition }, offset: s.position! }]),
        ),
    };
    this.#group = new GroupMember(new GroupCoordinator(this.#brokers, o.groupId, this.#requestTimeoutMs), host, {
      groupId: o.groupId,
      subscription: sub,
      sessionTimeoutMs: o.sessionTimeoutMs ?? 45_000,
      rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? 300_000,
      assignor: o.groupAssignor ?? null,
      autoCommit: o.autoCommit ?? true,
      autoCommitIntervalMs: o.autoCommitIntervalMs ?? 5000,
      requestTimeoutMs: this.#requestTimeoutMs,
      listener,
    });
    this.#group.start();
    await this.#group.joined;
    this.#group.throwIfFailed(); // a bad group id, regex or assignor
  }

  /** The member id the group gave this consumer ('' before joining or without a group). */
  get memberId(): string {
    return this.#group?.memberId ?? '';
  }

  /**
   * Commits offsets for the group and waits until they are durable: the given ones, or the
   * position of every partition (everything poll() has returned counts as processed). Throws
   * EddyError; STALE_MEMBER_EPOCH means the partition went to another member.
   */
  async commit(offsets?: readonly OffsetToCommit[]): Promise<void> {
    if (!this.#group) throw new Error('commit() needs a group: set groupId and subscribe()');
    await this.#group.commit(offsets);
  }

  /** As commit(), without waiting; `onDone` gets the error, if any. */
  commitAsync(offsets?: readonly OffsetToCommit[], onDone?: (err?: unknown) => void): void {
    this.commit(offsets).then(
      () => onDone?.(),
      (err: unknown) => onDone?.(err),
    );
  }

  /**
   * Sets where the next poll reads `tp` from. A number is used as is; 'earliest', 'latest' and
   * `{ timestamp }` are resolved with ListOffsets now (a timestamp after the last record resolves
   * to the high watermark, so the next record produced is the first one read).
   */
  async seek(tp: TopicPartition, target: SeekTarget): Promise<void> {
    const s = this.#state(tp);
    if (typeof target === 'number') {
      if (!Number.isSafeInteger(target) || target < 0) throw new RangeError(`seek offset must be a non-negative integer, got ${target}`);
      s.position = target;
      s.reset = undefined;
      return;
    }
    s.position = undefined;
    s.reset = target;
    await this.#resolvePositions();
  }

  /** The offset of the next record poll will return for `tp` (resolving a pending reset first). */
  async position(tp: TopicPartition): Promise<number> {
    const s = this.#state(tp);
    if (s.position === undefined) await this.#resolvePositions();
    if (s.position === undefined) throw new EddyError('REQUEST_TIMED_OUT', `position of ${tp.topic}-${tp.partition} could not be resolved`);
    return s.position;
  }

  /** The high watermark from the last fetch of `tp`, if any (position → high watermark is the lag). */
  highWatermark(tp: TopicPartition): number | undefined {
    return this.#state(tp).highWatermark;
  }

  /**
   * Returns the next records, in offset order per partition, waiting up to `timeoutMs` (default
   * maxWaitMs) for some to arrive; an empty array when none did. Retriable errors (a lost
   * connection, a node restarting) are retried inside the timeout; an out-of-range position is
   * reset per autoOffsetReset; other errors are thrown as EddyError.
   */
  async poll(options: { timeoutMs?: number } = {}): Promise<ConsumedRecord[]> {
    if (this.#closed) throw new ClientClosedError('consumer');
    if (this.#polling) throw new Error('poll() is already running on this consumer; poll from one loop');
    if (this.#pendingError !== undefined) {
      const err = this.#pendingError;
      this.#pendingError = undefined;
      throw err;
    }
    this.#polling = true;
    const deadline = Date.now() + (options.timeoutMs ?? this.#maxWaitMs);
    let returned = false;
    try {
      await this.#group?.beforePoll(); // rebalance between batches, never under the application's feet
      for (;;) {
        const remaining = deadline - Date.now();
        this.#fetch ??= this.#startFetch(Math.max(0, Math.min(this.#maxWaitMs, remaining)));
        const outcome = await this.#raceDeadline(this.#fetch, remaining);
        if (this.#closed) return [];
        if (outcome === undefined) return []; // still in flight: the next poll picks it up
        this.#fetch = undefined;
        let backoff = false;
        if (!outcome.ok) {
          if (!isRetriable(outcome.error)) throw outcome.error;
          backoff = true;
        } else {
          // Prefetch (as Kafka's fetcher does): ask for what follows these batches before
          // decoding them, so the node reads the next records while this response decodes.
          const ahead = positionsAfter(outcome.sent, outcome.res);
          if (ahead && !this.#closed) this.#fetch = this.#startFetch(this.#maxWaitMs, ahead);
          const { records, retriableErrors } = this.#apply(outcome.sent, outcome.res);
          if (records.length > 0) {
            returned = true;
            return records;
          }
          backoff = retriableErrors;
        }
        if (backoff) await this.#sleep(Math.min(this.#retryBackoffMs, deadline - Date.now()));
        if (this.#closed || Date.now() >= deadline) return [];
      }
    } finally {
      this.#group?.afterPoll(returned);
      this.#polling = false;
    }
  }

  /**
   * Yields records one by one until the consumer is closed. Leaving the loop early (break) rewinds
   * each partition to its first record not yet yielded, so a later poll or loop does not skip any.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<ConsumedRecord, void, undefined> {
    let batch: ConsumedRecord[] = [];
    let next = 0;
    let positionsAfter = new Map<string, number | undefined>();
    try {
      while (!this.#closed) {
        batch = await this.poll();
        next = 0;
        positionsAfter = new Map([...this.#assigned].map(([key, s]) => [key, s.position]));
        while (next < batch.length) yield batch[next++]!;
      }
    } finally {
      this.#rewind(batch.slice(next), positionsAfter);
    }
  }

  /**
   * Stops polling and closes the connection; a poll in progress returns what it has (usually []).
   * A group member first gives up its partitions (listener, auto-commit) and leaves the group, so
   * they move to the other members at once.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const wake of [...this.#sleepers]) wake();
    await this.#group?.close();
    await this.#brokers.close();
  }

  #state(tp: TopicPartition): PartitionState {
    const s = this.#assigned.get(tpKey(tp.topic, tp.partition));
    if (!s) throw new Error(`${tp.topic}-${tp.partition} is not assigned to this consumer`);
    return s;
  }

  #rewind(unyielded: readonly ConsumedRecord[], positionsAfter: ReadonlyMap<string, number | undefined>): void {
    const first = new Map<string, number>();
    for (const r of unyielded) {
      const key = tpKey(r.topic, r.partition);
      if (!first.has(key)) first.set(key, r.offset);
    }
    for (const [key, offset] of first) {
      const s = this.#assigned.get(key);
      // Only if nobody moved the position since the poll: a seek made meanwhile wins.
      if (s && s.position !== undefined && s.position === positionsAfter.get(key)) s.position = offset;
    }
  }

  /** Resolves every pending reset with one ListOffsets; throws the first error met. */
  async #resolvePositions(): Promise<void> {
    for (let round = 0; round < 2; round++) {
      const pending = [...this.#assigned.values()].filter((s) => s.position === undefined && s.reset !== undefined);
      if (pending.length === 0) return;
      const specs = pending.map((s) => s.reset!);
      const answers = await listOffsets(
        this.#brokers,
        pending.map((s, i) => ({ topic: s.topic, partition: s.partition, spec: specs[i]! })),
      );
      let firstError: unknown;
      let leaderError: unknown;
      answers.forEach((a, i) => {
        const s = pending[i]!;
        // The state changed while we asked (seek, reassign): this answer is stale.
        if (this.#assigned.get(tpKey(s.topic, s.partition)) !== s || s.position !== undefined || s.reset !== specs[i]) return;
        // A partition whose leader is away waits for it; the others go on.
        if (a.error && LEADER_AWAY.has(a.error.errorName)) leaderError ??= a.error;
        else if (a.error) firstError ??= a.error;
        else if (a.offset >= 0) {
          s.position = a.offset;
          s.reset = undefined;
        } else if (typeof s.reset === 'object') {
          s.reset = 'latest'; // no record at or after the timestamp: start at the end (round 2)
        } else {
          firstError ??= new EddyError('UNKNOWN_SERVER_ERROR', `ListOffsets gave offset ${a.offset} for ${s.topic}-${s.partition}`);
        }
      });
      if (firstError !== undefined) throw firstError;
      if (leaderError !== undefined && ![...this.#assigned.values()].some((s) => s.position !== undefined)) throw leaderError;
      if (leaderError !== undefined) return;
    }
  }

  /**
   * Resolves positions, then sends one Fetch for every partition with a position (or with the
   * position in `ahead`, for a prefetch). Sends synchronously when no reset is pending, so that a
   * prefetch leaves before the caller goes on to decode. Never rejects.
   */
  async #startFetch(maxWaitMs: number, ahead?: ReadonlyMap<string, number>): Promise<FetchOutcome> {
    try {
      if ([...this.#assigned.values()].some((s) => s.position === undefined && s.reset !== undefined)) await this.#resolvePositions();
      const targets = [...this.#assigned.values()]
        .filter((s) => !s.paused)
        .map((s) => ({ s, position: ahead?.get(tpKey(s.topic, s.partition)) ?? s.position }))
        .filter((t): t is { s: PartitionState; position: number } => t.position !== undefined);
      const sent = new Map(targets.map((t) => [tpKey(t.s.topic, t.s.partition), t.position]));
      if (targets.length === 0) {
        await this.#sleep(maxWaitMs);
        return { ok: true, sent, res: null };
      }
      const body = (items: readonly { topic: string; partition: number; position: number }[]): FetchRequest => ({
        replicaId: CONSUMER_REPLICA_ID,
        maxWaitMs,
        minBytes: this.#minBytes,
        maxBytes: this.#maxBytes,
        isolation: this.#isolation,
        topics: [...groupByTopic(items)].map(([name, tps]) => ({
          name,
          partitions: tps.map((t) => ({ partition: t.partition, fetchOffset: t.position, partitionMaxBytes: this.#partitionMaxBytes, ...CONSUMER_PARTITION_EPOCHS })),
        })),
      });
      const res = await fetchByLeader(
        this.#brokers,
        targets.map((t) => ({ topic: t.s.topic, partition: t.s.partition, position: t.position })),
        body,
        this.#requestTimeoutMs + maxWaitMs,
      );
      return { ok: true, sent, res };
    } catch (error) {
      return { ok: false, error };
    }
  }

  /** Applies a fetch response to the positions it was sent for; returns the new records. */
  #apply(sent: Map<string, number>, res: FetchResponse | null): { records: ConsumedRecord[]; retriableErrors: boolean } {
    const records: ConsumedRecord[] = [];
    let retriableErrors = false;
    for (const t of res?.topics ?? []) {
      for (const p of t.partitions) {
        const key = tpKey(t.name, p.partition);
        const s = this.#assigned.get(key);
        const from = sent.get(key);
        // Sought or unassigned since the fetch was sent: its data is for an old position.
        // Paused (being revoked) or sought or unassigned since the fetch was sent: drop its data.
        if (!s || s.paused || from === undefined || s.position !== from) continue;
        s.highWatermark = p.highWatermark;
        try {
          if (p.errorCode !== 0) {
            const err = serverError(p.errorCode, p.errorMessage, `${t.name}-${p.partition} at offset ${from}`);
            if (err.errorName === 'OFFSET_OUT_OF_RANGE') {
              s.position = undefined;
              s.reset = this.#autoOffsetReset;
            } else if (err.retriable) {
              retriableErrors = true;
            } else {
              throw err;
            }
            continue;
          }
          const got = recordsFromFetch(t.name, p.partition, p.records, from, this.#checkCrcs);
          if (got.stalled) {
            throw new EddyError(
              'MESSAGE_TOO_LARGE',
              `${t.name}-${p.partition}: the batch at offset ${from} is larger than the fetch limits (partitionMaxBytes ${this.#partitionMaxBytes}, maxBytes ${this.#maxBytes})`,
            );
          }
          s.position = got.nextPosition;
          for (const r of got.records) records.push(r);
        } catch (err) {
          // Records of other partitions are already consumed (positions moved): return them now
          // and report the error on the next poll, as Kafka's fetcher does.
          if (records.length === 0) throw err;
          this.#pendingError ??= err;
        }
      }
    }
    return { records, retriableErrors };
  }

  #raceDeadline<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), Math.max(0, ms));
    });
    return Promise.race([p, expired]).finally(() => clearTimeout(timer));
  }

  /** A pause that close() cuts short. */
  #sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleepers.add(wake);
    });
  }
}
