/**
 * Log compaction decisions (cleanup.policy=compact), pure: given the decoded batches below the
 * cleaning point, the clock and delete.retention.ms, which records survive. The log cleaner
 * (log-cleaner.ts) reads the batches, asks here, and writes the answer. The rules are Kafka's:
 *
 * - Only batches wholly below the cleaning point (the first uncleanable offset) are cleaned;
 *   everything at or after it, and every control batch, is left as it is.
 * - A key's latest record below the cleaning point wins, by offset; every older record with the
 *   same key goes. Records after the cleaning point do not count (Kafka's offset map stops there
 *   too), so a key's latest record below the point survives until the next pass.
 * - A tombstone (null value) that wins stays until delete.retention.ms has passed since its
 *   timestamp, so that a consumer that has read the old value gets to see the deletion. (Kafka
 *   counts from when the cleaner first kept it; the record timestamp is simpler and close.)
 * - Records without a key are removed (Kafka's cleaner does the same; produce refuses them).
 * - Surviving records keep their offsets; a batch keeps its base offset and lastOffsetDelta.
 * - A batch left without records is deleted, unless it is the last batch of an active producer:
 *   then it stays as an empty batch, so the producer's last sequence survives (Kafka's
 *   RETAIN_EMPTY rule for idempotent producers).
 */

/** The fields of a decoded record that compaction looks at. */
export interface CleanerRecord {
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
}

export interface CleanerBatch {
  baseOffset: number;
  lastOffset: number;
  /** -1 when not idempotent. */
  producerId: number;
  isControl: boolean;
  records: readonly CleanerRecord[];
}

export interface CompactionPolicy {
  /** Batches with lastOffset < cleaningPoint may be cleaned. */
  cleaningPoint: number;
  /** Now, from the injected clock (ms). */
  now: number;
  /** delete.retention.ms: how long a winning tombstone stays. */
  deleteRetentionMs: number;
  /** producer id → last offset of its last batch, for active producers (see above). */
  activeProducers?: ReadonlyMap<number, number>;
}

export type BatchDecision =
  /** Nothing to remove (or not cleanable): leave the stored bytes alone. */
  | { kind: 'untouched' }
  /** Rewrite with only these offsets (ascending, non-empty, a strict subset). */
  | { kind: 'rewrite'; keep: number[] }
  /** No record survives, but the batch stays, empty (an active producer's last batch). */
  | { kind: 'empty' }
  /** No record survives: remove the batch. */
  | { kind: 'delete' };

/** Map keys: the key bytes as a latin1 string (one char per byte, so distinct bytes, distinct strings). */
export function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/** Whether the cleaner may touch this batch at all. */
export function isCleanable(batch: Pick<CleanerBatch, 'lastOffset' | 'isControl'>, cleaningPoint: number): boolean {
  return !batch.isControl && batch.lastOffset < cleaningPoint;
}

/**
 * Pass 1: the latest offset of every key among cleanable batches (Kafka's OffsetMap, exact
 * instead of hashed). Feed batches in offset order.
 */
export class LatestOffsets {
  readonly #latest = new Map<string, number>();
  readonly #cleaningPoint: number;

  constructor(cleaningPoint: number) {
    this.#cleaningPoint = cleaningPoint;
  }

  get size(): number {
    return this.#latest.size;
  }

  observe(batch: CleanerBatch): void {
    if (!isCleanable(batch, this.#cleaningPoint)) return;
    for (const r of batch.records) if (r.key !== null) this.#latest.set(keyString(r.key), r.offset);
  }

  /** The latest offset of `key` seen, or undefined. */
  get(key: Uint8Array): number | undefined {
    return this.#latest.get(keyString(key));
  }
}

/** Why a record of a cleanable batch goes, or null if it stays. */
export function removalReason(
  r: CleanerRecord,
  latest: LatestOffsets,
  policy: Pick<CompactionPolicy, 'now' | 'deleteRetentionMs'>,
): 'no-key' | 'superseded' | 'expired-tombstone' | null {
  if (r.key === null) return 'no-key';
  if (latest.get(r.key) !== r.offset) return 'superseded';
  if (r.value === null && policy.now - r.timestamp >= policy.deleteRetentionMs) return 'expired-tombstone';
  return null;
}

export interface DecisionStats {
  removed: number;
  tombstonesRemoved: number;
  /** Earliest time a kept tombstone of this batch expires (ms), or null if it keeps none. */
  nextTombstoneExpiry: number | null;
}

/** Pass 2: what to do with one batch, given the latest offsets of pass 1. */
export function decideBatch(batch: CleanerBatch, latest: LatestOffsets, policy: CompactionPolicy): BatchDecision & DecisionStats {
  if (!isCleanable(batch, policy.cleaningPoint)) return { kind: 'untouched', removed: 0, tombstonesRemoved: 0, nextTombstoneExpiry: null };
  const keep: number[] = [];
  let tombstonesRemoved = 0;
  let nextTombstoneExpiry: number | null = null;
  for (const r of batch.records) {
    const why = removalReason(r, latest, policy);
    if (why === null) {
      keep.push(r.offset);
      if (r.value === null) {
        const expiry = r.timestamp + policy.deleteRetentionMs;
        if (nextTombstoneExpiry === null || expiry < nextTombstoneExpiry) nextTombstoneExpiry = expiry;
      }
    } else if (why === 'expired-tombstone') {
      tombstonesRemoved++;
    }
  }
  const stats = { removed: batch.records.length - keep.length, tombstonesRemoved, nextTombstoneExpiry };
  if (keep.length > 0 && keep.length === batch.records.length) return { kind: 'untouched', ...stats };
  if (keep.length > 0) return { kind: 'rewrite', keep, ...stats };
  const producerLast = batch.producerId >= 0 ? policy.activeProducers?.get(batch.producerId) : undefined;
  if (producerLast === batch.lastOffset) {
    // Already empty and retained: nothing changes.
    return { kind: batch.records.length === 0 ? 'untouched' : 'empty', ...stats };
  }
  return { kind: 'delete', ...stats };
}

export interface CompactionPlan {
  /** base offset → decision, for every batch that changes. */
  changes: Map<number, Exclude<BatchDecision, { kind: 'untouched' }>>;
  removed: number;
  tombstonesRemoved: number;
  nextTombstoneExpiry: number | null;
}

/** Both passes over batches held in memory (tests, and small logs). */
export function planCompaction(batches: readonly CleanerBatch[], policy: CompactionPolicy): CompactionPlan {
  const latest = new LatestOffsets(policy.cleaningPoint);
  for (const b of batches) latest.observe(b);
  const plan: CompactionPlan = { changes: new Map(), removed: 0, tombstonesRemoved: 0, nextTombstoneExpiry: null };
  for (const b of batches) {
    const d = decideBatch(b, latest, policy);
    plan.removed += d.removed;
    plan.tombstonesRemoved += d.tombstonesRemoved;
    plan.nextTombstoneExpiry = minOrNull(plan.nextTombstoneExpiry, d.nextTombstoneExpiry);
    if (d.kind === 'rewrite') plan.changes.set(b.baseOffset, { kind: 'rewrite', keep: d.keep });
    else if (d.kind !== 'untouched') plan.changes.set(b.baseOffset, { kind: d.kind });
  }
  return plan;
}

export function minOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}

/**
 * Producers whose last batch must not vanish: each producer id's last batch in the log, for
 * producers that wrote within `expirationMs` (Kafka's producer.id.expiration.ms, 1 day by
 * default; an idle producer's state expires, and then its batches are cleaned like any other).
 * Feed every batch header of the log in offset order.
 */
export class ProducerLastBatches {
  readonly #last = new Map<number, { lastOffset: number; maxTimestamp: number }>();

  observe(h: { producerId: number; lastOffset: number; maxTimestamp: number }): void {
    if (h.producerId >= 0) this.#last.set(h.producerId, { lastOffset: h.lastOffset, maxTimestamp: h.maxTimestamp });
  }

  active(now: number, expirationMs: number): Map<number, number> {
    const out = new Map<number, number>();
    for (const [pid, b] of this.#last) if (now - b.maxTimestamp < expirationMs) out.set(pid, b.lastOffset);
    return out;
  }
}

/** Kafka's producer.id.expiration.ms default. */
export const PRODUCER_ID_EXPIRATION_MS = 86_400_000;
