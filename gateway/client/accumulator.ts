/**
 * The producer's record accumulator: per-partition batches, closed when full or when linger
 * expires. Pure: time comes in as `now` arguments, so tests drive it without timers or sockets.
 *
 * Rules (Kafka's RecordAccumulator):
 * - records of one partition keep their send order, across batches too;
 * - a batch is closed when the next record would push it past `batchSizeBytes`; a record larger
 *   than that on its own still gets a batch of its own (the node decides if it is too large);
 * - a batch is ready when it is closed (full) or `lingerMs` have passed since its first record.
 */
import type { CompressionId } from '../../protocol/compression.js';
import { RecordBatchBuilder, type RecordInput } from '../../protocol/record-batch.js';
import { tpKey } from './topic-partition.js';

/** Upper bound on a record's framing: length, attributes, timestamp and offset deltas, 2 lengths, header count. */
const RECORD_OVERHEAD = 5 + 1 + 10 + 5 + 5 + 5 + 5;

/** Estimated encoded size of one record (before compression), to decide before appending whether it still fits. Slightly high, never low. */
export function estimateRecordSize(r: RecordInput): number {
  let size = RECORD_OVERHEAD + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers ?? []) size += 10 + h.key.length * 3 + (h.value?.length ?? 0);
  return size;
}

export interface Batch<T> {
  readonly topic: string;
  readonly partition: number;
  /** The records, already encoded: the batch holds bytes, not one object per record. */
  readonly builder: RecordBatchBuilder;
  /** One per record, in the same order: what to settle when the batch completes. */
  readonly tickets: T[];
  readonly createdAt: number;
  full: boolean;
}

/** How many more batches of a partition may be sent now (the sender's in-flight room). */
export type Room = (topic: string, partition: number) => number;

export interface AppendResult {
  /** A batch of this partition was closed by this append (it is ready to send now). */
  readonly batchClosed: boolean;
  /** This append started a new batch (whose linger deadline may now be the earliest). */
  readonly batchOpened: boolean;
}

// Shared results: append runs once per record, so it allocates none.
const RESULTS: readonly AppendResult[] = [
  { batchClosed: false, batchOpened: false },
  { batchClosed: false, batchOpened: true },
  { batchClosed: true, batchOpened: false },
  { batchClosed: true, batchOpened: true },
].map((r) => Object.freeze(r));

export class RecordAccumulator<T> {
  readonly #batchSizeBytes: number;
  readonly #lingerMs: number;
  readonly #compression: CompressionId;
  /** Per partition, batches oldest first; only the last may be open. */
  readonly #queues = new Map<string, Batch<T>[]>();
  #records = 0;

  constructor(options: { batchSizeBytes: number; lingerMs: number; compression?: CompressionId }) {
    this.#batchSizeBytes = options.batchSizeBytes;
    this.#lingerMs = options.lingerMs;
    this.#compression = options.compression ?? 0;
  }

  /** Records held and not yet drained. */
  get recordCount(): number {
    return this.#records;
  }

  append(topic: string, partition: number, record: RecordInput, ticket: T, now: number): AppendResult {
    const key = tpKey(topic, partition);
    let queue = this.#queues.get(key);
    if (!queue) {
      queue = [];
      this.#queues.set(key, queue);
    }
    const size = estimateRecordSize(record);
    let batchClosed = false;
    let open = queue[queue.length - 1];
    if (open && !open.full && open.builder.sizeBytes + size > this.#batchSizeBytes) {
      open.full = true;
      batchClosed = true;
    }
    let batchOpened = false;
    if (!open || open.full) {
      batchOpened = true;
      const builder = new RecordBatchBuilder({ compression: this.#compression, initialBytes: Math.min(this.#batchSizeBytes + 1024, 1 << 20) });
      open = { topic, partition, builder, tickets: [], createdAt: now, full: false };
      queue.push(open);
    }
    open.builder.append(record);
    open.tickets.push(ticket);
    this.#records++;
    if (open.builder.sizeBytes >= this.#batchSizeBytes) {
      open.full = true;
      batchClosed = true;
    }
    return RESULTS[(batchClosed ? 2 : 0) + (batchOpened ? 1 : 0)]!;
  }

  /**
   * Removes and returns the batches ready at `now` (all of them with `force`, as flush does),
   * oldest first within each partition, at most `room` of a partition's (the rest wait).
   */
  drain(now: number, force = false, room?: Room): Batch<T>[] {
    const out: Batch<T>[] = [];
    for (const [key, queue] of this.#queues) {
      const limit = room && queue.length > 0 ? Math.min(queue.length, room(queue[0]!.topic, queue[0]!.partition)) : queue.length;
      let n = 0;
      while (n < limit && (force || queue[n]!.full || now - queue[n]!.createdAt >= this.#lingerMs)) n++;
      for (const b of queue.splice(0, n)) {
        this.#records -= b.builder.count;
        out.push(b);
      }
      if (queue.length === 0) this.#queues.delete(key);
    }
    return out;
  }

  /**
   * When the earliest batch becomes ready (now-or-past if one is full), or undefined if empty;
   * partitions with no `room` are left out (they are sent when they have some).
   */
  nextReadyAt(room?: Room): number | undefined {
    let at: number | undefined;
    for (const queue of this.#queues.values()) {
      const first = queue[0];
      if (!first || (room && room(first.topic, first.partition) === 0)) continue;
      const t = first.full ? -Infinity : first.createdAt + this.#lingerMs;
      if (at === undefined || t < at) at = t;
    }
    return at;
  }
}

/**
 * Splits batches (or items carrying one: `batchOf`) into Produce requests holding at most one
 * batch per partition, keeping each partition's batches in order across requests (request i
 * carries each partition's i-th batch).
 */
export function groupIntoRequests<B extends { topic: string; partition: number }, I = B>(
  items: readonly I[],
  batchOf: (item: I) => B = (item) => item as unknown as B,
): I[][] {
  const requests: I[][] = [];
  const seen = new Map<string, number>();
  for (const item of items) {
    const b = batchOf(item);
    const key = tpKey(b.topic, b.partition);
    const i = seen.get(key) ?? 0;
    seen.set(key, i + 1);
    (requests[i] ??= []).push(item);
  }
  return requests;
}
