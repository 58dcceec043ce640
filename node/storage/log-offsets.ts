/**
 * The offsets and byte positions of one partition log, and the rules by which they move: pure
 * state, no I/O. PartitionLog owns one and moves it as its writes are sequenced, committed or
 * refused; this file is where the invariants live.
 *
 * - logStartOffset ≤ highWatermark ≤ logEndOffset ≤ nextOffset.
 * - `next*` is what is sequenced (appends accepted, not yet committed); the rest is committed.
 * - The high watermark never moves backwards, except by `rewindTo` (a follower discarding a
 *   divergent tail, as in Kafka). Without replication it follows the log end.
 * - `generation` changes whenever the sequencer rewinds, so completions and cleaner plans made
 *   before a rewind are recognised as stale.
 */
import type { Row } from './partition-table.js';

export interface CommittedEnd {
  offset: number;
  /** Byte position after the last batch. */
  position: number;
  /** Running maximum timestamp at the last batch (-1: none). */
  runningMaxTs: number;
}

export class LogOffsets {
  logStartOffset: number;
  /** Byte position of the first stored batch. */
  startPosition: number;
  // Never changed in place: each move puts in a new object, so they are kept as given.
  #end: Readonly<CommittedEnd>;
  #next: Readonly<CommittedEnd>;
  #highWatermark: number;
  #generation = 0;
  #hwFollowsLeo: boolean;
  readonly #hwListeners = new Set<() => void>();
  readonly #endListeners = new Set<() => void>();

  constructor(init: { logStartOffset: number; startPosition: number; end: CommittedEnd; highWatermark: number; replicated: boolean }) {
    this.logStartOffset = init.logStartOffset;
    this.startPosition = init.startPosition;
    this.#end = this.#next = init.end;
    this.#hwFollowsLeo = !init.replicated;
    this.#highWatermark = this.#hwFollowsLeo ? init.end.offset : Math.max(init.logStartOffset, Math.min(init.highWatermark, init.end.offset));
  }

  get logEndOffset(): number {
    return this.#end.offset;
  }
  get endPosition(): number {
    return this.#end.position;
  }
  get highWatermark(): number {
    return this.#highWatermark;
  }
  /** Where the next accepted append goes. */
  get next(): Readonly<CommittedEnd> {
    return this.#next;
  }
  get generation(): number {
    return this.#generation;
  }
  get replicated(): boolean {
    return !this.#hwFollowsLeo;
  }

  /** An append was accepted up to `end`: later ones go after it. */
  sequenced(end: Readonly<CommittedEnd>): void {
    this.#next = end;
  }

  /** An append committed (in commit order): the log end moves, and listeners hear of it. */
  committed(end: Readonly<CommittedEnd>): void {
    this.#end = end;
    if (this.#hwFollowsLeo) this.#raiseHighWatermark(end.offset);
    for (const l of this.#endListeners) l();
  }

  /** A write failed, and everything sequenced after it with it: continue from what is committed. */
  rewindToCommitted(): void {
    this.#generation++;
    this.#next = this.#end;
  }

  /** Everything ends at `offset`, right after the stored row `before` (null: none) — truncation. */
  rewindTo(offset: number, before: Row | null): void {
    this.#generation++;
    const end = {
      offset: Math.max(offset, this.logStartOffset),
      position: before === null ? this.startPosition : before[3] + before[4],
      runningMaxTs: before === null ? -1 : before[2],
    };
    this.#end = this.#next = end;
    // Truncation is the one place the high watermark may go back (Kafka follower semantics).
    this.#highWatermark = Math.min(this.#highWatermark, end.offset);
  }

  /** An empty log starting at `offset` (Kafka's truncateFullyAndStartAt); positions keep growing. */
  startAt(offset: number): void {
    this.#generation++;
    const end = { offset, position: this.#next.position, runningMaxTs: -1 };
    this.logStartOffset = offset;
    this.startPosition = end.position;
    this.#end = this.#next = end;
    this.#raiseHighWatermark(offset);
  }

  /** The log start moves forward to `offset` (retention, or a follower following its leader). */
  advanceLogStart(offset: number): void {
    this.logStartOffset = offset;
    if (offset > this.#highWatermark) this.#raiseHighWatermark(offset);
  }

  /** Replication takes (true) or gives back (false) the high watermark. */
  setReplicated(replicated: boolean): void {
    this.#hwFollowsLeo = !replicated;
    if (!replicated) this.#raiseHighWatermark(this.#end.offset);
  }

  /** Advances the high watermark (never backwards, never past the log end). */
  updateHighWatermark(offset: number): void {
    this.#raiseHighWatermark(Math.min(offset, this.#end.offset));
  }

  #raiseHighWatermark(offset: number): void {
    if (offset <= this.#highWatermark) return;
    this.#highWatermark = offset;
    for (const l of this.#hwListeners) l();
  }

  onHighWatermark(listener: () => void): () => void {
    this.#hwListeners.add(listener);
    return () => this.#hwListeners.delete(listener);
  }

  onLogEndOffset(listener: () => void): () => void {
    this.#endListeners.add(listener);
    return () => this.#endListeners.delete(listener);
  }

  clearListeners(): void {
    this.#hwListeners.clear();
    this.#endListeners.clear();
  }
}
