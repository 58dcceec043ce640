/**
 * The leader epoch cache of one partition (Kafka's LeaderEpochFileCache, KIP-101/KIP-279): for
 * each leader epoch seen in the log, the offset of its first batch. A follower that returns after
 * a leader change asks the leader for the end offset of its own latest epoch and truncates there,
 * so no record of an old epoch survives above the point where the logs diverged.
 *
 * Invariants: epochs and start offsets both strictly increase; every start offset is below the
 * log end and not below the log start (truncateFromEnd / truncateFromStart keep it so).
 *
 * Pure logic; the partition log persists the entries in the same transaction as the batches that
 * change them (`epochSteps`), and loads or rebuilds them at open (`loadEpochs`).
 */
import type Database from 'better-sqlite3';
import type { TxStep } from './store-types.js';

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

/** Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET: the asked epoch is older than the log. */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_OFFSET = -1;

export class LeaderEpochCache {
  #entries: EpochEntry[];

  constructor(entries: readonly EpochEntry[] = []) {
    this.#entries = entries.map((e) => ({ ...e }));
  }

  get entries(): readonly EpochEntry[] {
    return this.#entries;
  }

  /** The newest epoch in the log, or UNDEFINED_EPOCH for an empty cache. */
  get latestEpoch(): number {
    return this.#entries.at(-1)?.epoch ?? UNDEFINED_EPOCH;
  }

  /**
   * Records that `epoch` starts at `startOffset` (a batch of that epoch was appended there).
   * Returns whether anything changed. Entries that the new one contradicts (an epoch ≥ it, or a
   * start ≥ its start) go first, as Kafka's assign does: they can only come from a log that was
   * truncated and is being rewritten.
   */
  assign(epoch: number, startOffset: number): boolean {
    const last = this.#entries.at(-1);
    if (last && last.epoch === epoch && last.startOffset <= startOffset) return false;
    this.#entries = this.#entries.filter((e) => e.epoch < epoch && e.startOffset < startOffset);
    this.#entries.push({ epoch, startOffset });
    return true;
  }

  /** The log was truncated to end at `endOffset`: epochs starting at or after it are gone. */
  truncateFromEnd(endOffset: number): boolean {
    const kept = this.#entries.filter((e) => e.startOffset < endOffset);
    const changed = kept.length !== this.#entries.length;
    this.#entries = kept;
    return changed;
  }

  /**
   * The log now starts at `startOffset`: epochs wholly before it go, and the epoch holding it
   * starts there (Kafka's truncateFromStart).
   */
  truncateFromStart(startOffset: number): boolean {
    let holding = -1;
    for (let i = 0; i < this.#entries.length && this.#entries[i]!.startOffset <= startOffset; i++) holding = i;
    if (holding < 0 || (holding === 0 && this.#entries[0]!.startOffset === startOffset)) return false;
    this.#entries = this.#entries.slice(holding);
    this.#entries[0] = { epoch: this.#entries[0]!.epoch, startOffset };
    return true;
  }

  /** Every entry goes (the log was emptied and starts afresh). */
  clear(): boolean {
    const changed = this.#entries.length > 0;
    this.#entries = [];
    return changed;
  }

  /**
   * Kafka's endOffsetFor (OffsetForLeaderEpoch): the largest epoch ≤ `requested` and where it
   * ends: the start of the next epoch, or the log end for the latest. UNDEFINED for both when the
   * requested epoch is older than anything in the log (or the log has no epochs).
   */
  endOffsetFor(requested: number, logEndOffset: number): { epoch: number; endOffset: number } {
    let i = this.#entries.length - 1;
    while (i >= 0 && this.#entries[i]!.epoch > requested) i--;
    if (i < 0) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_OFFSET };
    const next = this.#entries[i + 1];
    return { epoch: this.#entries[i]!.epoch, endOffset: next ? next.startOffset : logEndOffset };
  }
}

// ---------------------------------------------------------------------------------------------
// Persistence: table eddy_leader_epochs (created with the store's schema)
// ---------------------------------------------------------------------------------------------

export const LEADER_EPOCHS_TABLE_SQL = `CREATE TABLE IF NOT EXISTS eddy_leader_epochs (
  partition_id INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  start_offset INTEGER NOT NULL,
  PRIMARY KEY (partition_id, epoch)) WITHOUT ROWID`;

/** Steps that make the stored entries of a partition exactly `entries` (there are few: one per leader change). */
export function epochSteps(partitionId: number, entries: readonly EpochEntry[]): TxStep[] {
  return [
    { sql: 'DELETE FROM eddy_leader_epochs WHERE partition_id = ?', args: [partitionId] },
    ...entries.map((e) => ({ sql: 'INSERT INTO eddy_leader_epochs (partition_id, epoch, start_offset) VALUES (?, ?, ?)', args: [partitionId, e.epoch, e.startOffset] })),
  ];
}

export function loadEpochs(reader: Database.Database, partitionId: number): EpochEntry[] {
  return reader
    .prepare('SELECT epoch, start_offset AS startOffset FROM eddy_leader_epochs WHERE partition_id = ? ORDER BY epoch')
    .all(partitionId) as EpochEntry[];
}
