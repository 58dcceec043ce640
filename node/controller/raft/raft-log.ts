/**
 * The in-memory view of the metadata log that the Raft core reasons about: a snapshot prefix
 * (log start offset + its epoch) followed by dense entries. Durability is tracked separately
 * (see `DurabilityTracker`): this view may run ahead of the disk.
 */
import type { RaftEntry, SnapshotId } from './raft-messages.js';

/** Answer to "where does epoch E end in this log?" (Kafka's OffsetsForLeaderEpoch). */
export interface EpochEndOffset {
  /** The largest epoch in the log that is <= the one asked for (or -1 when none). */
  readonly epoch: number;
  /** Where that epoch ends: start offset of the next larger epoch, or the log end offset. */
  readonly endOffset: number;
}

export class RaftLog {
  private entries: RaftEntry[];
  /** Offset of entries[0]; everything below is in the snapshot. */
  private start: number;
  private startEpoch: number;

  constructor(snapshot: SnapshotId | null, entries: readonly RaftEntry[]) {
    this.start = snapshot?.endOffset ?? 0;
    this.startEpoch = snapshot?.epoch ?? 0;
    this.entries = [];
    for (const e of entries) {
      if (e.offset < this.start) continue;
      if (e.offset !== this.endOffset) break; // a hole on disk ends the usable log
      this.entries.push(e);
    }
  }

  /** First offset held as an entry (the latest snapshot's end offset). */
  get logStartOffset(): number {
    return this.start;
  }

  /** The snapshot id this log starts after. */
  get startSnapshot(): SnapshotId {
    return { endOffset: this.start, epoch: this.startEpoch };
  }

  /** Log end offset: the next offset to be written. */
  get endOffset(): number {
    return this.start + this.entries.length;
  }

  /** Epoch of the last entry (or of the snapshot when the log is empty). */
  get lastEpoch(): number {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1]!.epoch : this.startEpoch;
  }

  entry(offset: number): RaftEntry | undefined {
    return offset >= this.start ? this.entries[offset - this.start] : undefined;
  }

  /** Epoch of the entry at `offset`; the snapshot epoch for start - 1; undefined when unknown. */
  epochAt(offset: number): number | undefined {
    if (offset === this.start - 1) return this.startEpoch;
    if (offset < 0) return 0;
    return this.entry(offset)?.epoch;
  }

  /** Entries in [from, to), clipped to what the log holds. */
  slice(from: number, to: number): RaftEntry[] {
    const lo = Math.max(from, this.start) - this.start;
    const hi = Math.min(to, this.endOffset) - this.start;
    return lo < hi ? this.entries.slice(lo, hi) : [];
  }

  append(entry: RaftEntry): void {
    if (entry.offset !== this.endOffset) throw new Error(`raft log: append at ${entry.offset}, log end is ${this.endOffset}`);
    this.entries.push(entry);
  }

  /** Drop every entry at or above `offset`. */
  truncateTo(offset: number): void {
    if (offset < this.start) throw new Error(`raft log: truncate to ${offset} is below log start ${this.start}`);
    this.entries.length = Math.max(0, Math.min(this.entries.length, offset - this.start));
  }

  /** Forget the prefix a snapshot now covers (KIP-630); entries above it stay. */
  dropPrefix(snapshot: SnapshotId): void {
    if (snapshot.endOffset <= this.start) return;
    if (snapshot.endOffset > this.endOffset) throw new Error('raft log: snapshot past log end; use reset');
    this.entries = this.entries.slice(snapshot.endOffset - this.start);
    this.start = snapshot.endOffset;
    this.startEpoch = snapshot.epoch;
  }

  /** Replace everything by a snapshot fetched from the leader: the log restarts empty after it. */
  reset(snapshot: SnapshotId): void {
    this.entries = [];
    this.start = snapshot.endOffset;
    this.startEpoch = snapshot.epoch;
  }

  /**
   * Kafka's OffsetsForLeaderEpoch: the largest epoch <= `epoch` and where it ends. Returns
   * undefined when the answer lies inside the snapshot (the caller must send the snapshot).
   */
  endOffsetForEpoch(epoch: number): EpochEndOffset | undefined {
    // Walk back from the tail: the end of the largest epoch <= asked is the first offset above it.
    let end = this.endOffset;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.epoch <= epoch) return { epoch: e.epoch, endOffset: end };
      end = e.offset;
    }
    // No entries of a small enough epoch: before any entry means "nothing in common" at offset 0;
    // the snapshot's epoch is known only as a whole, deeper than that the snapshot must be sent.
    if (this.start === 0) return { epoch: 0, endOffset: 0 };
    if (this.startEpoch <= epoch) return { epoch: this.startEpoch, endOffset: end };
    return undefined;
  }
}
