/**
 * The producer's sending side: turns drained batches into Produce requests, retries what failed
 * with a retriable error (exponential backoff, up to deliveryTimeoutMs after the batch was
 * created), and, for an idempotent producer, numbers batches so that a retry is never stored
 * twice and per-partition order holds with up to 16 batches in flight (Kafka's rules, with 16 where Kafka has 5).
 *
 * Per partition:
 * - a batch gets its sequence numbers when it is first sent and keeps them on every retry (same
 *   bytes), so the node recognises a resend of something it already stored;
 * - when a batch fails with a retriable error, every later in-flight batch of the partition fails
 *   too (the node refuses a sequence gap), and nothing new is sent for that partition until all
 *   have come back; then they are resent in order;
 * - when a batch fails for good (not retriable, or its delivery timeout passed), its records are
 *   failed and the partition moves to a new producer epoch (InitProducerId, KIP-360) from
 *   sequence 0, renumbering what waits to be resent: the node would otherwise refuse the gap
 *   forever.
 */
import { Apis } from '../../protocol/apis/index.js';
import type { ProduceRequest, ProduceResponse } from '../../protocol/apis/produce.js';
import { nextSequence } from '../../protocol/batch-format.js';
import { EddyError, isEddyError, type ErrorName } from '../../protocol/errors.js';
import { groupIntoRequests, type Batch } from './accumulator.js';
import { backoffDelay } from './backoff.js';
import { isRetriable, serverError } from './client-errors.js';
import type { BrokerConnections } from './broker-connections.js';
import type { Connection } from './connection.js';
import { groupByTopic, tpKey } from './topic-partition.js';

export interface SenderOptions {
  acks: number;
  idempotent: boolean;
  requestTimeoutMs: number;
  deliveryTimeoutMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  maxInFlightPerPartition: number;
  /** Settles a batch's records. */
  complete(batch: Batch<unknown>, baseOffset: number): void;
  fail(batch: Batch<unknown>, err: unknown): void;
  /** A partition can take more batches again (drain what waits in the accumulator). */
  onCapacity(): void;
  /** The node said the topic/partition does not exist: partition counts may be stale. */
  onUnknownPartition(topic: string): void;
}

interface Sent {
  batch: Batch<unknown>;
  /** Send order within the partition. */
  order: number;
  records: Uint8Array | null;
  seq: number;
  epoch: number;
  attempts: number;
  deadline: number;
  /** What the last attempt failed with: reported if the delivery timeout ends the retries. */
  lastError?: unknown;
}

interface PartitionState {
  epoch: number;
  sentCount: number;
  nextSeq: number;
  inFlight: Sent[];
  retry: Sent[];
  /** A batch failed for good: move to a new epoch before sending again. */
  resetPending: boolean;
  resending: boolean;
}

/** Answers that mean the partition's leader is elsewhere (or nowhere yet): refresh metadata, then retry. */
const LEADER_MOVED = new Set<ErrorName>(['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION', 'FENCED_LEADER_EPOCH']);

export class Sender {
  readonly #brokers: BrokerConnections;
  readonly #o: SenderOptions;
  readonly #partitions = new Map<string, PartitionState>();
  #producer: Promise<{ producerId: number; producerEpoch: number }> | undefined;
  #epochBump: Promise<{ producerId: number; producerEpoch: number }> | undefined;
  #outstanding = 0;
  readonly #idleWaiters = new Set<() => void>();

  constructor(brokers: BrokerConnections, options: SenderOptions) {
    this.#brokers = brokers;
    this.#o = options;
  }

  /**
   * How many new batches of this partition may be sent now: none while it retries or waits for
   * a new epoch, else what maxInFlightPerPartition leaves.
   */
  room(topic: string, partition: number): number {
    const p = this.#partitions.get(tpKey(topic, partition));
    if (!p) return this.#o.maxInFlightPerPartition;
    if (p.resending || p.resetPending || p.retry.length > 0) return 0;
    return Math.max(0, this.#o.maxInFlightPerPartition - p.inFlight.length);
  }

  /** Resolves when nothing is in flight, waiting to be retried, or waiting for a new epoch. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.add(resolve));
  }

  #isIdle(): boolean {
    if (this.#outstanding > 0) return false;
    for (const p of this.#partitions.values()) if (p.resending || p.resetPending) return false;
    return true;
  }

  #notifyIdle(): void {
    if (!this.#isIdle()) return;
    for (const w of [...this.#idleWaiters]) w();
    this.#idleWaiters.clear();
  }

  /** Sends drained batches: at most one per partition per request, in order. */
  send(batches: readonly Batch<unknown>[]): void {
    const now = Date.now();
    const sent = batches.map((batch) => {
      const p = this.#state(batch.topic, batch.partition);
      const s: Sent = { batch, order: p.sentCount++, records: null, seq: -1, epoch: p.epoch, attempts: 0, deadline: batch.createdAt + this.#o.deliveryTimeoutMs };
      if (this.#o.idempotent) {
        s.seq = p.nextSeq;
        p.nextSeq = nextSequence(p.nextSeq, batch.builder.count);
      }
      if (this.#o.acks !== 0) p.inFlight.push(s);
      this.#outstanding++;
      return s;
    });
    for (const group of groupIntoRequests(sent, (s) => s.batch)) void this.#request(group);
  }

  #state(topic: string, partition: number): PartitionState {
    const key = tpKey(topic, partition);
    let p = this.#partitions.get(key);
    if (!p) {
      p = { epoch: -1, sentCount: 0, nextSeq: 0, inFlight: [], retry: [], resetPending: false, resending: false };
      this.#partitions.set(key, p);
    }
    return p;
  }

  #producerId(): Promise<{ producerId: number; producerEpoch: number }> {
    this.#producer ??= this.#brokers
      .request(Apis.InitProducerId, { transactionalId: null, transactionTimeoutMs: -1, producerId: -1, producerEpoch: -1 })
      .catch((err: unknown) => {
        this.#producer = undefined; // ask again on the next send
        throw err;
      });
    return this.#producer;
  }

  /**
   * The next epoch of this producer id (one request however many partitions need it), asked for
   * within `timeoutMs` (the request timeout, or less when a waiting batch's delivery timeout is
   * nearer).
   */
  #bumpEpoch(timeoutMs: number): Promise<{ producerId: number; producerEpoch: number }> {
    this.#epochBump ??= (async () => {
      const current = await this.#producerId();
      const next = await this.#brokers.request(Apis.InitProducerId, { transactionalId: null, transactionTimeoutMs: -1, ...current }, { timeoutMs });
      this.#producer = Promise.resolve(next);
      return next;
    })().finally(() => (this.#epochBump = undefined));
    return this.#epochBump;
  }

  /** Builds (once: retries reuse the bytes), sends one request, and settles what came back. */
  async #request(group: Sent[]): Promise<void> {
    const built: Sent[] = [];
    try {
      const producer = this.#o.idempotent ? await this.#producerId() : undefined;
      for (const s of group) {
        try {
          if (!s.records) {
            const p = this.#state(s.batch.topic, s.batch.partition);
            if (producer && p.epoch < 0) p.epoch = producer.producerEpoch;
            s.epoch = producer ? p.epoch : -1;
            s.records = s.batch.builder.build(
              producer ? { producerId: producer.producerId, producerEpoch: s.epoch, baseSequence: s.seq } : {},
            );
          }
          built.push(s);
        } catch (err) {
          this.#settle(s, { error: err, retriable: false });
        }
      }
    } catch (err) {
      for (const s of group) this.#settle(s, { error: err, retriable: isRetriable(err) });
      return;
    }
    if (built.length === 0) return;
    for (const s of built) s.attempts++;
    // Each partition's batches go to its leader: one Produce per leader connection.
    const routes = new Map<Connection, Sent[]>();
    const route = (s: Sent, conn: Connection): void => {
      const list = routes.get(conn);
      if (list) list.push(s);
      else routes.set(conn, [s]);
    };
    const slow = built.filter((s) => {
      // A retry looks the leader up afresh (after a refresh if metadata is stale): the last
      // attempt may have failed because the leader moved.
      const conn = s.attempts > 1 ? undefined : this.#brokers.leaderNow(s.batch.topic, s.batch.partition);
      if (conn) route(s, conn);
      return !conn;
    });
    await Promise.all(
      slow.map(async (s) => {
        try {
          route(s, (await this.#brokers.leaderFor(s.batch.topic, s.batch.partition, this.#attemptTimeout([s]))).conn);
        } catch (err) {
          if (isEddyError(err, 'UNKNOWN_TOPIC_OR_PARTITION')) this.#o.onUnknownPartition(s.batch.topic);
          this.#settle(s, { error: err, retriable: isRetriable(err) });
        }
      }),
    );
    for (const [conn, sents] of routes) void this.#produce(conn, sents);
  }

  /**
   * How long an attempt may take: never beyond its batches' delivery deadline, which is the bound
   * the caller was promised, even when it is shorter than requestTimeoutMs.
   */
  #attemptTimeout(sents: readonly Sent[]): number {
    const left = Math.min(...sents.map((s) => s.deadline)) - Date.now();
    return Math.max(1, Math.min(this.#o.requestTimeoutMs, left));
  }

  /** Sends one Produce to a leader and settles what came back. */
  async #produce(conn: Connection, built: Sent[]): Promise<void> {
    const body: ProduceRequest = {
      acks: this.#o.acks,
      timeoutMs: this.#o.requestTimeoutMs,
      topics: [...groupByTopic(built.map((s) => ({ topic: s.batch.topic, s })))].map(([name, items]) => ({
        name,
        partitions: items.map(({ s }) => ({ partition: s.batch.partition, records: s.records! })),
      })),
    };
    let res: ProduceResponse;
    try {
      const sizeHint = built.reduce((n, s) => n + s.records!.length + 64, 256);
      res = await conn.request(Apis.Produce, body, { expectResponse: this.#o.acks !== 0, sizeHint, timeoutMs: this.#attemptTimeout(built) });
    } catch (err) {
      // The leader's connection failed or was lost: it may have moved, ask metadata again.
      if (isRetriable(err)) this.#brokers.invalidate();
      for (const s of built) this.#settle(s, { error: err, retriable: isRetriable(err) });
      return;
    }
    for (const s of built) {
      if (this.#o.acks === 0) {
        this.#settle(s, { baseOffset: -1 });
        continue;
      }
      const r = res.topics.find((t) => t.name === s.batch.topic)?.partitions.find((x) => x.partition === s.batch.partition);
      if (!r) {
        this.#settle(s, { error: new EddyError('UNKNOWN_SERVER_ERROR', `Produce response omitted ${s.batch.topic}-${s.batch.partition}`), retriable: false });
      } else if (r.errorCode === 0) {
        this.#settle(s, { baseOffset: r.baseOffset });
      } else {
        const err = serverError(r.errorCode, r.errorMessage, `${s.batch.topic}-${s.batch.partition}`);
        if (err.errorName === 'UNKNOWN_TOPIC_OR_PARTITION') this.#o.onUnknownPartition(s.batch.topic);
        if (LEADER_MOVED.has(err.errorName)) this.#brokers.invalidate();
        // A retried batch the node stored long ago: stored once, no offset to report.
        if (err.errorName === 'DUPLICATE_SEQUENCE_NUMBER') this.#settle(s, { baseOffset: -1 });
        // A gap: an earlier batch of ours failed and will be resent first (or, if none is
        // outstanding, the node lost track of us: start a new epoch).
        else if (err.errorName === 'OUT_OF_ORDER_SEQUENCE_NUMBER') this.#settle(s, { error: err, retriable: true, gap: true });
        else this.#settle(s, { error: err, retriable: err.retriable });
      }
    }
  }

  #settle(s: Sent, outcome: { baseOffset: number } | { error: unknown; retriable: boolean; gap?: boolean }): void {
    const p = this.#state(s.batch.topic, s.batch.partition);
    // Only a partition that was at its limit can have batches waiting for this one's slot: the
    // others' ready batches went out already (or go on the linger timer).
    const wasFull = p.inFlight.length >= this.#o.maxInFlightPerPartition;
    const i = p.inFlight.indexOf(s);
    if (i >= 0) p.inFlight.splice(i, 1);
    if ('baseOffset' in outcome) {
      this.#o.complete(s.batch, outcome.baseOffset);
      this.#done();
    } else if (outcome.retriable && Date.now() < s.deadline && this.#o.acks !== 0) {
      if (outcome.gap && this.#o.idempotent && !this.#hasEarlier(p, s)) p.resetPending = true;
      s.lastError = outcome.error;
      p.retry.push(s);
      p.retry.sort((a, b) => a.order - b.order);
    } else {
      this.#o.fail(s.batch, outcome.error);
      if (this.#o.idempotent) {
        // Nothing sent after it: the node still expects its sequence, so the next batch takes
        // it. Otherwise the later ones are refused (a gap) and must move to a new epoch.
        if (p.inFlight.length === 0 && p.retry.length === 0 && s.epoch === p.epoch) p.nextSeq = s.seq;
        else p.resetPending = true;
      }
      this.#done();
    }
    if (p.inFlight.length === 0 && (p.retry.length > 0 || p.resetPending)) void this.#resend(p);
    else if (wasFull && p.inFlight.length < this.#o.maxInFlightPerPartition) this.#o.onCapacity();
  }

  /** Whether a batch of the partition sent before `s` is still outstanding. */
  #hasEarlier(p: PartitionState, s: Sent): boolean {
    return [...p.inFlight, ...p.retry].some((o) => o.order < s.order);
  }

  /** After a backoff, resends the partition's failed batches in order (renumbered under a new epoch if needed). */
  async #resend(p: PartitionState): Promise<void> {
    if (p.resending) return;
    p.resending = true;
    try {
      const attempts = Math.max(0, ...p.retry.map((s) => s.attempts));
      await new Promise((r) => setTimeout(r, backoffDelay(Math.max(0, attempts - 1), { initialMs: this.#o.retryBackoffMs, maxMs: this.#o.retryBackoffMaxMs })));
      if (p.resetPending) {
        try {
          const nearest = Math.min(...p.retry.map((s) => s.deadline)) - Date.now();
          const next = await this.#bumpEpoch(Math.max(1, Math.min(this.#o.requestTimeoutMs, nearest)));
          p.epoch = next.producerEpoch;
          p.nextSeq = 0;
          for (const s of p.retry) {
            s.seq = p.nextSeq;
            p.nextSeq = nextSequence(p.nextSeq, s.batch.builder.count);
            s.records = null; // rebuilt with the new epoch and sequence
          }
          p.resetPending = false;
        } catch (err) {
          if (!isRetriable(err)) {
            for (const s of p.retry.splice(0)) {
              this.#o.fail(s.batch, err);
              this.#done();
            }
            p.resetPending = false;
            return;
          }
          // The node is unreachable. Waiting for the new epoch does not stretch the delivery
          // timeout: batches past it fail now (with why the node is unreachable), as they would
          // between attempts.
          const now = Date.now();
          for (const s of p.retry.splice(0)) {
            s.lastError = err;
            if (now < s.deadline) p.retry.push(s);
            else {
              this.#o.fail(s.batch, this.#timedOut(s));
              this.#done();
            }
          }
          if (p.retry.length === 0) {
            // Nothing is waiting for the new epoch, and the node is unreachable: stop asking.
            // Retrying here would keep flush() and close() waiting for as long as the node is
            // down. The next batch goes out under the old epoch; the node answers
            // OUT_OF_ORDER_SEQUENCE_NUMBER (the failed batches left a gap), and the gap path
            // bumps the epoch then.
            p.resetPending = false;
          }
          return; // else retried on the next round (the finally below schedules it)
        }
      }
      const now = Date.now();
      const due = p.retry.splice(0);
      for (const s of due) {
        if (now >= s.deadline) {
          this.#o.fail(s.batch, this.#timedOut(s));
          this.#done();
          if (this.#o.idempotent) p.resetPending = true;
          continue;
        }
        p.inFlight.push(s);
        void this.#request([s]);
      }
    } finally {
      p.resending = false;
      if (p.inFlight.length === 0 && (p.retry.length > 0 || p.resetPending)) void this.#resend(p);
      else {
        this.#o.onCapacity();
        this.#notifyIdle();
      }
    }
  }

  /** What a batch whose delivery timeout passed fails with: its last attempt's error, if any. */
  #timedOut(s: Sent): unknown {
    return (
      s.lastError ??
      new EddyError('REQUEST_TIMED_OUT', `${s.batch.topic}-${s.batch.partition}: not delivered within deliveryTimeoutMs ${this.#o.deliveryTimeoutMs} (${s.attempts} attempts)`)
    );
  }

  #done(): void {
    this.#outstanding--;
    this.#notifyIdle();
  }
}
