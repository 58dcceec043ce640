/**
 * The idempotent producers of one partition as its log uses them: the state table
 * (producer-state.ts, pure rules) plus what the append path needs around it — expiry on a
 * schedule, the rebuild from stored batches at open, and the appends still being written, so a
 * retry of one waits for the original's outcome instead of being written twice.
 */
import { lastOffsetOf, type BatchHeader } from '../../protocol/record-batch.js';
import type { AppendResult } from './partition-types.js';
import { isIdempotent, producerBatchAt, ProducerStateTable, type ProducerBatch } from './producer-state.js';

export class PartitionProducers {
  readonly #table = new ProducerStateTable();
  readonly #pending = new Map<ProducerBatch, Promise<AppendResult>>();
  readonly #expirationMs: () => number;
  #lastExpiry = 0;

  constructor(expirationMs: () => number) {
    this.#expirationMs = expirationMs;
  }

  /** Rebuilds the state from stored producer batches (offset order), at open. */
  rebuild(rows: Iterable<[baseOffset: number, lastOffset: number, producerId: number, epoch: number, baseSequence: number, maxTs: number]>, now: number): void {
    for (const [baseOffset, lastOffset, producerId, epoch, baseSequence, maxTs] of rows) {
      if (baseSequence < 0) continue;
      this.#table.record(producerId, epoch, producerBatchAt(baseSequence, baseOffset, lastOffset), Math.min(now, maxTs));
    }
    this.#table.expire(now, this.#expirationMs());
  }

  /**
   * A leader append of the idempotent batch `h` at `firstOffset`: either the original's outcome
   * (a retry: nothing is written) or the batch to record, which the caller writes and hands to
   * `track`. Throws the sequence errors of producer-state.ts. Synchronous, so that nothing
   * overtakes the check between it and the write's submit.
   */
  check(h: BatchHeader, firstOffset: number, where: string): { duplicate: Promise<AppendResult> } | { batch: ProducerBatch } {
    const now = Date.now();
    this.#expire(now);
    const batch = producerBatchAt(h.baseSequence, firstOffset, firstOffset + h.lastOffsetDelta);
    const verdict = this.#table.check(h.producerId, h.producerEpoch, h.baseSequence, batch.lastSeq, where);
    if (verdict.kind === 'duplicate') return { duplicate: this.#duplicateResult(verdict.batch) };
    this.#table.record(h.producerId, h.producerEpoch, batch, now);
    return { batch };
  }

  /** Remembers the write of a checked batch until it settles. */
  track(batch: ProducerBatch, written: Promise<AppendResult>): void {
    this.#pending.set(batch, written);
    const forget = () => this.#pending.delete(batch);
    written.then(forget, forget);
  }

  /** A follower keeps the same producer state as its leader, to take over as leader. */
  recordCopied(headers: readonly BatchHeader[]): void {
    const now = Date.now();
    for (const h of headers) {
      if (isIdempotent(h)) this.#table.record(h.producerId, h.producerEpoch, producerBatchAt(h.baseSequence, h.baseOffset, lastOffsetOf(h)), now);
    }
  }

  /** Forgets batches at or after `offset` (a failed write, a truncation; 0: everything). */
  truncateFrom(offset: number): void {
    this.#table.truncateFrom(offset);
  }

  batchesOf(producerId: number): readonly ProducerBatch[] {
    return this.#table.batchesOf(producerId);
  }

  /** A retried batch: the original's outcome (waiting for it if it is still being written). */
  async #duplicateResult(b: ProducerBatch): Promise<AppendResult> {
    const pending = this.#pending.get(b);
    if (pending) return { ...(await pending), duplicate: true };
    return { baseOffset: b.firstOffset, lastOffset: b.lastOffset, synced: false, batches: [{ baseOffset: b.firstOffset, lastOffset: b.lastOffset }], duplicate: true };
  }

  #expire(now: number): void {
    const idle = this.#expirationMs();
    if (now - this.#lastExpiry < Math.min(60_000, idle)) return;
    this.#lastExpiry = now;
    this.#table.expire(now, idle);
  }
}
