/**
 * One partition's log: an ordered, immutable sequence of record batches with dense offsets,
 * stored one SQLite row per batch in table `log_<id>` of a LogStore.
 *
 * Offsets are assigned here, on the calling thread, when an append is accepted (so appends
 * pipeline and share group commits); they become visible (log end offset) once committed.
 *
 * Invariants:
 * - logStartOffset ≤ highWatermark ≤ logEndOffset ≤ nextOffset.
 * - The high watermark never moves backwards, except by truncateTo (a follower discarding a
 *   divergent tail, as in Kafka).
 * - Rows are gapless in offset and byte position except where compaction removes records
 *   (replaceBatches); a failed write never leaves a hole (see LogStore's rejection of queued
 *   writes).
 */
import type Database from 'better-sqlite3';
import { EddyError } from '../../protocol/errors.js';
import { decodeRecords, Field, lastOffsetOf, readBatchHeader, stampBatch, validateBatch, type BatchHeader } from '../../protocol/record-batch.js';
import type { LogStore, TxStep } from './log-store.js';
import { DEFAULT_PRODUCER_ID_EXPIRATION_MS, isIdempotent, producerBatchAt, ProducerStateTable, type ProducerBatch } from './producer-state.js';
import { firstBaseOffsetReaching } from './offset-search.js';
import { checkTail, type StoredBatchRow } from './recovery.js';

export interface PartitionConfig {
  /** Largest accepted batch in bytes (Kafka's max.message.bytes; default 1 MiB + overhead). */
  maxBatchBytes: number;
  /** Bound on a compressed batch's decompressed size. */
  maxDecompressedBytes: number;
  /** An idempotent producer idle this long is forgotten (Kafka's producer.id.expiration.ms). */
  producerIdExpirationMs: number;
}

export const DEFAULT_PARTITION_CONFIG: PartitionConfig = {
  maxBatchBytes: 1_048_588,
  maxDecompressedBytes: 64 * 1024 * 1024,
  producerIdExpirationMs: DEFAULT_PRODUCER_ID_EXPIRATION_MS,
};

export interface AppendOptions {
  /** Force (true) or skip (false) the fsync of this append; default: the store's policy. */
  sync?: boolean;
  /** Leader epoch stamped into the batches (leader appends). */
  leaderEpoch?: number;
  /** Refuse records without a key with INVALID_RECORD (compacted topics). */
  requireKeys?: boolean;
}

/**
 * One change the log cleaner makes: the stored batch identified by `original` (as the cleaner
 * read it) becomes `replacement`, or goes (null).
 */
export interface BatchReplacement {
  original: StoredBatchIdentity;
  replacement: Uint8Array | null;
}

/** Enough to recognise a stored batch without keeping its bytes: offsets, length and CRC. */
export interface StoredBatchIdentity {
  baseOffset: number;
  lastOffset: number;
  byteLength: number;
  /** The 4 CRC bytes as stored. */
  crc: Uint8Array;
}

export function storedBatchIdentity(batch: Uint8Array): StoredBatchIdentity {
  const h = readBatchHeader(batch);
  return { baseOffset: h.baseOffset, lastOffset: lastOffsetOf(h), byteLength: batch.length, crc: batch.slice(Field.crc, Field.crc + 4) };
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** True if the commit that made these batches visible was fsynced. */
  synced: boolean;
  batches: { baseOffset: number; lastOffset: number }[];
  /** True for an idempotent producer's retry of a batch already stored: nothing new was written. */
  duplicate?: boolean;
}

/** Kafka's FetchIsolation: FetchHighWatermark or FetchLogEnd (replica fetches). */
export type ReadLimit = 'high-watermark' | 'log-end';

export interface ReadOptions {
  /**
   * How far a read may go, as Kafka's FetchIsolation: `high-watermark` (default; every consumer,
   * whatever its isolation level, since there are no transactions yet) or `log-end` (replicas
   * copying the log, and the node's own loaders of internal topics).
   */
  upTo?: ReadLimit;
  /**
   * Never exceed maxBytes, not even with the first batch. A fetch spanning partitions sets it
   * once it has returned something: only the response's first batch may be oversized (KIP-74).
   */
  strictMaxBytes?: boolean;
}

export interface ReadResult {
  /** Whole stored batches, bytes as appended. The first may start before the fetch offset. */
  batches: Uint8Array[];
  bytes: number;
  /** Offset after the last returned batch (the next fetch offset), or the fetch offset if none. */
  nextOffset: number;
  logStartOffset: number;
  highWatermark: number;
  logEndOffset: number;
}

interface PartitionIdentity {
  id: number;
  topic: string;
  partition: number;
  log_start_offset: number;
  recovery_point: number;
}

type Row = [baseOffset: number, lastOffset: number, runningMaxTs: number, position: number, length: number];

export class PartitionLog {
  readonly id: number;
  readonly topic: string;
  readonly partition: number;
  readonly config: PartitionConfig;
  readonly #store: LogStore;
  readonly #table: string;
  readonly #stmt: {
    range: Database.Statement;
    floor: Database.Statement;
    first: Database.Statement;
  };
  readonly #insertSql: string;

  #logStartOffset: number;
  #logEndOffset: number;
  #highWatermark: number;
  /** Next offset to assign: the log end offset plus appends accepted but not yet committed. */
  #nextOffset: number;
  #nextPosition: number;
  #runningMaxTs: number;
  /** Byte position of the first stored batch and the end of the last committed one. */
  #startPosition: number;
  #endPosition: number;
  #committedRunningMaxTs: number;
  #recoveryPoint: number;
  /** Bumped when the sequencer rewinds (truncation, failed write); stale completions are ignored. */
  #generation = 0;
  #barrier: Promise<void> | null = null;
  #dropped = false;
  #hwFollowsLeo = true;
  #listeners = new Set<() => void>();
  #endListeners = new Set<() => void>();
  /** Idempotent producers' last batches (see producer-state.ts), rebuilt from the log at open. */
  readonly #producers = new ProducerStateTable();
  /** Idempotent appends not yet committed: a retry of one waits for the original's outcome. */
  readonly #pendingProducerBatches = new Map<ProducerBatch, Promise<AppendResult>>();
  #lastProducerExpiry = 0;
  #countStmt: Database.Statement | undefined;

  private constructor(store: LogStore, row: PartitionIdentity, config: PartitionConfig) {
    this.#store = store;
    this.id = row.id;
    this.topic = row.topic;
    this.partition = row.partition;
    this.config = config;
    const t = (this.#table = PartitionLog.tableName(row.id));
    const r = store.reader;
    this.#stmt = {
      range: r
        .prepare(
          `SELECT base_offset, last_offset, batch FROM ${t}
           WHERE base_offset >= coalesce((SELECT max(base_offset) FROM ${t} WHERE base_offset <= @from), @from)
             AND base_offset < @limit
           ORDER BY base_offset`,
        )
        .raw(true),
      floor: r
        .prepare(
          `SELECT base_offset, last_offset, running_max_timestamp, position, length(batch) FROM ${t}
           WHERE base_offset <= ? ORDER BY base_offset DESC LIMIT 1`,
        )
        .raw(true),
      first: r
        .prepare(`SELECT base_offset, last_offset, running_max_timestamp, position, length(batch) FROM ${t} ORDER BY base_offset LIMIT 1`)
        .raw(true),
    };
    this.#insertSql = `INSERT INTO ${t} (base_offset, last_offset, max_timestamp, running_max_timestamp, leader_epoch, position, producer_id, producer_epoch, base_sequence, batch)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

    const last = this.#stmt.floor.get(Number.MAX_SAFE_INTEGER) as Row | undefined;
    const first = this.#stmt.first.get() as Row | undefined;
    this.#logStartOffset = row.log_start_offset;
    this.#logEndOffset = last ? last[1] + 1 : row.log_start_offset;
    this.#startPosition = first ? first[3] : 0;
    this.#endPosition = last ? last[3] + last[4] : 0;
    this.#committedRunningMaxTs = last ? last[2] : -1;
    this.#nextOffset = this.#logEndOffset;
    this.#nextPosition = this.#endPosition;
    this.#runningMaxTs = this.#committedRunningMaxTs;
    this.#highWatermark = this.#logEndOffset;
    this.#recoveryPoint = row.recovery_point;
  }

  static tableName(id: number): string {
    if (!Number.isSafeInteger(id) || id < 1) throw new RangeError(`bad partition table id ${id}`);
    return `log_${id}`;
  }

  /**
   * One row per batch. base_offset is the rowid, so a batch is one B-tree entry (its blob in
   * overflow pages) and reads by offset are rowid range scans. Small columns come before the
   * blob so that queries on them never touch the blob's pages. No secondary index: lookups by
   * time search the rowid B-tree (offset-search.ts), so an append rewrites one B-tree's pages.
   */
  static createTableSteps(id: number): TxStep[] {
    const t = PartitionLog.tableName(id);
    return [
      {
        sql: `CREATE TABLE IF NOT EXISTS ${t} (
          base_offset INTEGER PRIMARY KEY,
          last_offset INTEGER NOT NULL,
          max_timestamp INTEGER NOT NULL,
          running_max_timestamp INTEGER NOT NULL,
          leader_epoch INTEGER NOT NULL,
          position INTEGER NOT NULL,
          producer_id INTEGER NOT NULL DEFAULT -1,
          producer_epoch INTEGER NOT NULL DEFAULT -1,
          base_sequence INTEGER NOT NULL DEFAULT -1,
          batch BLOB NOT NULL)`,
        args: [],
      },
    ];
  }

  /** Opens a partition and, after an unclean shutdown, verifies its tail (see recovery.ts). */
  static async open(store: LogStore, row: PartitionIdentity, config: PartitionConfig): Promise<PartitionLog> {
    await PartitionLog.#migrate(store, row.id);
    const log = new PartitionLog(store, row, config);
    await log.#recover();
    log.#rebuildProducerState();
    return log;
  }

  /**
   * Brings tables made by earlier versions to the current layout, once: tables created before
   * idempotent producers get the producer columns; tables created with the running-max-timestamp
   * index lose it (time lookups no longer use it, and it cost a page write per append).
   */
  static async #migrate(store: LogStore, id: number): Promise<void> {
    const t = PartitionLog.tableName(id);
    const cols = store.reader.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[];
    if (cols.length === 0) return;
    const steps: TxStep[] = [];
    if (!cols.some((c) => c.name === 'producer_id')) {
      steps.push(...['producer_id', 'producer_epoch', 'base_sequence'].map((c) => ({ sql: `ALTER TABLE ${t} ADD COLUMN ${c} INTEGER NOT NULL DEFAULT -1`, args: [] })));
    }
    const timeIndex = store.reader.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?`).get(`${t}_time`);
    if (timeIndex) steps.push({ sql: `DROP INDEX IF EXISTS ${t}_time`, args: [] });
    if (steps.length > 0) await store.submit(steps, { sync: true });
  }

  /**
   * Producer state survives restarts (kill -9 too) because it is rebuilt from the stored batches'
   * producer columns: only batches newer than the expiration horizon matter, found by a search
   * on the running maximum timestamp, then read without their batch bytes.
   */
  #rebuildProducerState(): void {
    const now = Date.now();
    const from = this.firstBaseOffsetAtTime(now - this.config.producerIdExpirationMs, this.#logEndOffset);
    if (from === null) return;
    const rows = this.#store.reader
      .prepare(
        `SELECT base_offset, last_offset, producer_id, producer_epoch, base_sequence, max_timestamp FROM ${this.#table}
         WHERE base_offset >= ? AND producer_id >= 0 ORDER BY base_offset`,
      )
      .raw(true)
      .iterate(from) as IterableIterator<[number, number, number, number, number, number]>;
    for (const [baseOffset, lastOffset, producerId, epoch, baseSequence, maxTs] of rows) {
      if (baseSequence < 0) continue; // producer_id >= 0 is in the query
      this.#producers.record(producerId, epoch, producerBatchAt(baseSequence, baseOffset, lastOffset), Math.min(now, maxTs));
    }
    this.#producers.expire(now, this.config.producerIdExpirationMs);
  }

  /**
   * The first stored batch below `to` whose running maximum timestamp is ≥ `timestamp`: every
   * batch before it is older. A binary search on the rowid (offset-search.ts).
   */
  firstBaseOffsetAtTime(timestamp: number, to: number): number | null {
    return this.#firstBaseOffsetWhere(to, () => (r) => r[2] >= timestamp);
  }

  /** The first stored batch below `to` that starts `bytes` or more after the first one (retention by size). */
  firstBaseOffsetFromByte(bytes: number, to: number): number | null {
    return this.#firstBaseOffsetWhere(to, (first) => (r) => r[3] >= first[3] + bytes);
  }

  /** Binary search below `to` for the first batch `reached(first)` holds for, given the first stored batch. */
  #firstBaseOffsetWhere(to: number, reached: (first: Row) => (r: Row) => boolean): number | null {
    const first = this.#stmt.first.get() as Row | undefined;
    if (!first) return null;
    return firstBaseOffsetReaching((o) => this.#stmt.floor.get(o) as Row | undefined, first[0], to, reached(first));
  }

  /**
   * Where a cut at `offset` falls when batches go whole: the base offset of the stored batch
   * holding `offset`, or `offset` itself when none does.
   */
  batchStartOf(offset: number): number {
    const holding = this.#stmt.floor.get(offset) as Row | undefined;
    return holding && holding[1] >= offset ? holding[0] : offset;
  }

  get logStartOffset(): number {
    return this.#logStartOffset;
  }
  get logEndOffset(): number {
    return this.#logEndOffset;
  }
  get highWatermark(): number {
    return this.#highWatermark;
  }
  /** Bytes of the stored batches. */
  get sizeBytes(): number {
    return this.#endPosition - this.#startPosition;
  }

  /** A new max.message.bytes (the topic was altered): applies to appends from now on. */
  setMaxBatchBytes(bytes: number): void {
    this.config.maxBatchBytes = bytes;
  }

  // -------------------------------------------------------------------------------------------
  // Recovery
  // -------------------------------------------------------------------------------------------

  async #recover(): Promise<void> {
    // After a clean shutdown everything up to the log end was synced and verified at some
    // start; check only the last batch. Otherwise check everything after the recovery point.
    const from = this.#store.cleanStart ? Math.max(this.#logEndOffset - 1, this.#logStartOffset) : this.#recoveryPoint;
    const startRow = this.#stmt.floor.get(from) as Row | undefined;
    const startOffset = startRow ? startRow[0] : this.#logStartOffset;
    const beforeRow = this.#stmt.floor.get(startOffset - 1) as Row | undefined;
    const rows = this.#store.reader
      .prepare(`SELECT base_offset, last_offset, position, batch FROM ${this.#table} WHERE base_offset >= ? ORDER BY base_offset`)
      .raw(true)
      .iterate(startOffset) as IterableIterator<[number, number, number, Uint8Array]>;
    const mapped = (function* () {
      for (const [baseOffset, lastOffset, position, batch] of rows) yield { baseOffset, lastOffset, position, batch } as StoredBatchRow;
    })();
    const verdict = checkTail(
      mapped,
      beforeRow ? { lastOffset: beforeRow[1], endPosition: beforeRow[3] + beforeRow[4] } : null,
      this.config.maxDecompressedBytes,
    );
    rows.return?.();
    if (verdict.firstBad) {
      const bad = verdict.firstBad;
      const lostTo = this.#logEndOffset - 1;
      this.#store.logger.warn(
        { topic: this.topic, partition: this.partition, fromOffset: bad.baseOffset, toOffset: lostTo, reason: verdict.reason },
        `partition ${this.topic}-${this.partition}: the batch at offset ${bad.baseOffset} failed its check on recovery ` +
          `(${verdict.reason}); dropping offsets ${bad.baseOffset}..${lostTo}. The log now ends at ${bad.baseOffset}. ` +
          'If this repeats, check the disk (dmesg, SMART) and restore the partition from a replica.',
      );
      this.#rewindTo(bad.baseOffset, beforeRow ?? null);
      await this.#store.submit([{ sql: `DELETE FROM ${this.#table} WHERE base_offset >= ?`, args: [bad.baseOffset] }], {
        sync: true,
      });
    }
    const rp = this.recoveryPointStep();
    if (rp) await this.#store.submit([rp.step], { sync: true, onCommit: rp.committed });
  }

  /**
   * The write that persists the recovery point (every offset below it is synced and verified),
   * or null if it has not moved. The store runs it with sync and calls `committed` after.
   */
  recoveryPointStep(): { step: TxStep; committed(): void } | null {
    const offset = this.#logEndOffset;
    if (this.#dropped || this.#recoveryPoint === offset) return null;
    return {
      step: { sql: 'UPDATE eddy_partitions SET recovery_point = ? WHERE id = ?', args: [offset, this.id] },
      committed: () => {
        this.#recoveryPoint = offset;
      },
    };
  }

  // -------------------------------------------------------------------------------------------
  // Append
  // -------------------------------------------------------------------------------------------

  /**
   * Appends producer batches as the leader: validates each (nothing is written if any fails),
   * assigns offsets, stamps base offset and leader epoch in place, and resolves once committed
   * (and synced, per the store policy or `opts.sync`).
   */
  async append(batches: readonly Uint8Array[], opts: AppendOptions = {}): Promise<AppendResult> {
    if (this.#barrier) await this.#barrier;
    this.#checkOpen();
    const headers = batches.map((b) =>
      validateBatch(b, {
        maxBatchBytes: this.config.maxBatchBytes,
        maxDecompressedBytes: this.config.maxDecompressedBytes,
        denseOffsets: true,
        ...(opts.requireKeys ? { requireKeys: true } : {}),
      }),
    );
    if (batches.length > 1 && headers.some(isIdempotent)) {
      throw new EddyError('INVALID_RECORD', `an idempotent producer sends one batch per partition per request; got ${batches.length} for ${this.topic}-${this.partition}`);
    }
    const idempotent = headers.length === 1 && isIdempotent(headers[0]!);
    let bytes = 0;
    for (const b of batches) bytes += b.length;
    this.#store.admitAppend(this.topic, bytes); // the disk guard: may refuse, retriable
    const epoch = opts.leaderEpoch ?? 0;
    let producerBatch: ProducerBatch | undefined;
    if (idempotent) {
      // Synchronous from here to the write's submit: the check and the offsets it relies on
      // cannot be overtaken by another append.
      const h = headers[0]!;
      const now = Date.now();
      this.#expireProducers(now);
      producerBatch = producerBatchAt(h.baseSequence, this.#nextOffset, this.#nextOffset + h.lastOffsetDelta);
      const verdict = this.#producers.check(h.producerId, h.producerEpoch, h.baseSequence, producerBatch.lastSeq, `${this.topic}-${this.partition}`);
      if (verdict.kind === 'duplicate') return this.#duplicateResult(verdict.batch);
      this.#producers.record(h.producerId, h.producerEpoch, producerBatch, now);
    }
    let offset = this.#nextOffset;
    for (let i = 0; i < batches.length; i++) {
      stampBatch(batches[i]!, offset, epoch);
      headers[i]!.baseOffset = offset;
      headers[i]!.partitionLeaderEpoch = epoch;
      offset += headers[i]!.lastOffsetDelta + 1;
    }
    const written = this.#write(batches, headers, opts.sync);
    if (producerBatch) {
      const pb = producerBatch;
      this.#pendingProducerBatches.set(pb, written);
      written.then(
        () => this.#pendingProducerBatches.delete(pb),
        () => this.#pendingProducerBatches.delete(pb),
      );
    }
    return written;
  }

  /** A retried batch: the original's outcome (waiting for it if it is still being written). */
  async #duplicateResult(b: ProducerBatch): Promise<AppendResult> {
    const pending = this.#pendingProducerBatches.get(b);
    if (pending) return { ...(await pending), duplicate: true };
    return { baseOffset: b.firstOffset, lastOffset: b.lastOffset, synced: false, batches: [{ baseOffset: b.firstOffset, lastOffset: b.lastOffset }], duplicate: true };
  }

  #expireProducers(now: number): void {
    const every = Math.min(60_000, this.config.producerIdExpirationMs);
    if (now - this.#lastProducerExpiry < every) return;
    this.#lastProducerExpiry = now;
    this.#producers.expire(now, this.config.producerIdExpirationMs);
  }

  /**
   * Appends batches that already carry offsets (a follower copying its leader). Offsets must
   * increase past the log end; gaps are allowed (a compacted leader log has them).
   */
  async appendAsFollower(batches: readonly Uint8Array[], opts: { sync?: boolean } = {}): Promise<AppendResult> {
    if (this.#barrier) await this.#barrier;
    this.#checkOpen();
    let next = this.#nextOffset;
    const headers = batches.map((b) => {
      const h = validateBatch(b, {
        maxBatchBytes: Math.max(this.config.maxBatchBytes, b.length),
        maxDecompressedBytes: this.config.maxDecompressedBytes,
        denseOffsets: false,
      });
      if (h.baseOffset < next) {
        throw new EddyError(
          'INVALID_RECORD',
          `follower append out of order: batch base offset ${h.baseOffset} is below the expected ${next} on ${this.topic}-${this.partition}`,
        );
      }
      next = lastOffsetOf(h) + 1;
      return h;
    });
    // A follower keeps the same producer state as its leader, to take over as leader.
    const now = Date.now();
    for (const h of headers) {
      if (isIdempotent(h)) this.#producers.record(h.producerId, h.producerEpoch, producerBatchAt(h.baseSequence, h.baseOffset, lastOffsetOf(h)), now);
    }
    return this.#write(batches, headers, opts.sync);
  }

  async #write(batches: readonly Uint8Array[], headers: BatchHeader[], sync: boolean | undefined): Promise<AppendResult> {
    if (batches.length === 0) throw new EddyError('INVALID_REQUEST', 'append needs at least one batch');
    const steps: TxStep[] = [];
    const spans: AppendResult['batches'] = [];
    let position = this.#nextPosition;
    let runMax = this.#runningMaxTs;
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!;
      const h = headers[i]!;
      const last = lastOffsetOf(h);
      runMax = Math.max(runMax, h.maxTimestamp);
      steps.push({
        sql: this.#insertSql,
        args: [h.baseOffset, last, h.maxTimestamp, runMax, h.partitionLeaderEpoch, position, h.producerId, h.producerEpoch, h.baseSequence, b],
      });
      spans.push({ baseOffset: h.baseOffset, lastOffset: last });
      position += b.length;
    }
    const end = spans[spans.length - 1]!.lastOffset + 1;
    this.#nextOffset = end;
    this.#nextPosition = position;
    this.#runningMaxTs = runMax;
    // State moves in the store's synchronous hooks, in commit order, so that a rewind after a
    // failed write always starts from exactly what is committed.
    const generation = this.#generation;
    const { synced } = await this.#store.submit(steps, {
      ...(sync === undefined ? {} : { sync }),
      onCommit: () => {
        if (generation !== this.#generation) return;
        this.#logEndOffset = end;
        this.#endPosition = position;
        this.#committedRunningMaxTs = runMax;
        if (this.#hwFollowsLeo) this.#setHighWatermark(end);
        for (const l of this.#endListeners) l();
      },
      onFail: () => {
        // Everything sequenced after this append was refused too (see LogStore): rewind the
        // sequencer to what is committed so the next append continues without a hole.
        if (generation !== this.#generation) return;
        this.#generation++;
        this.#nextOffset = this.#logEndOffset;
        this.#nextPosition = this.#endPosition;
        this.#runningMaxTs = this.#committedRunningMaxTs;
        this.#producers.truncateFrom(this.#logEndOffset); // their retries must be written again
      },
    });
    return { baseOffset: spans[0]!.baseOffset, lastOffset: end - 1, synced, batches: spans };
  }

  // -------------------------------------------------------------------------------------------
  // High watermark
  // -------------------------------------------------------------------------------------------

  /**
   * Hands the high watermark to replication: from now on it moves only by
   * `updateHighWatermark`. Until then (a single replica) it follows the log end offset.
   */
  setReplicated(replicated: boolean): void {
    this.#hwFollowsLeo = !replicated;
    if (!replicated) this.#setHighWatermark(this.#logEndOffset);
  }

  /** Advances the high watermark (never backwards, never past the log end). */
  updateHighWatermark(offset: number): void {
    this.#setHighWatermark(Math.min(offset, this.#logEndOffset));
  }

  #setHighWatermark(offset: number): void {
    if (offset <= this.#highWatermark) return;
    this.#highWatermark = offset;
    for (const l of this.#listeners) l();
  }

  /** Calls `listener` whenever the high watermark advances (long-poll fetches wait on this). */
  onHighWatermark(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Calls `listener` whenever appends commit and the log end offset moves: replica fetches wait on
   * this (they read to the log end), consumers on the high watermark.
   */
  onLogEndOffset(listener: () => void): () => void {
    this.#endListeners.add(listener);
    return () => this.#endListeners.delete(listener);
  }

  // -------------------------------------------------------------------------------------------
  // Read
  // -------------------------------------------------------------------------------------------

  /**
   * Reads whole batches from `fromOffset`, up to `maxBytes` (unless `strictMaxBytes`, at least
   * one batch is returned if any is available, as in Kafka, so a large batch cannot stall a
   * consumer). Throws
   * OFFSET_OUT_OF_RANGE below the log start or past the log end.
   */
  read(fromOffset: number, maxBytes: number, opts: ReadOptions = {}): ReadResult {
    this.#checkOpen();
    if (!Number.isSafeInteger(fromOffset) || fromOffset < this.#logStartOffset || fromOffset > this.#logEndOffset) {
      throw new EddyError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${fromOffset} is outside ${this.topic}-${this.partition}'s range [${this.#logStartOffset}, ${this.#logEndOffset}]`,
      );
    }
    const limit = opts.upTo === 'log-end' ? this.#logEndOffset : this.#highWatermark;
    const batches: Uint8Array[] = [];
    let bytes = 0;
    let nextOffset = fromOffset;
    if (fromOffset < limit) {
      for (const [, last, batch] of this.#stmt.range.iterate({ from: fromOffset, limit }) as IterableIterator<
        [number, number, Uint8Array]
      >) {
        if (last < fromOffset) continue; // a gap (compaction) between this batch and fromOffset
        if ((batches.length > 0 || opts.strictMaxBytes) && bytes + batch.length > maxBytes) break;
        batches.push(batch);
        bytes += batch.length;
        nextOffset = last + 1;
        if (bytes >= maxBytes) break;
      }
    }
    return {
      batches,
      bytes,
      nextOffset,
      logStartOffset: this.#logStartOffset,
      highWatermark: this.#highWatermark,
      logEndOffset: this.#logEndOffset,
    };
  }

  /**
   * The first record with timestamp ≥ `timestamp` (Kafka's ListOffsets by time), or null if
   * every record is older. Uses the running maximum of batch timestamps, which is monotonic in
   * offset, so the answer is a binary search on the rowid plus decoding one batch.
   */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } | null {
    this.#checkOpen();
    const base = this.firstBaseOffsetAtTime(timestamp, this.#highWatermark);
    if (base === null) return null;
    // Usually the first batch decoded holds the answer; only a batch straddling the log start
    // can hold qualifying records below it, and then the answer is further on.
    const from = Math.max(base, this.#logStartOffset);
    for (const [, , batch] of this.#stmt.range.iterate({ from, limit: this.#highWatermark }) as IterableIterator<
      [number, number, Uint8Array]
    >) {
      for (const rec of decodeRecords(batch, this.config.maxDecompressedBytes)) {
        if (rec.timestamp >= timestamp && rec.offset >= this.#logStartOffset) return { offset: rec.offset, timestamp: rec.timestamp };
      }
    }
    return null;
  }

  // -------------------------------------------------------------------------------------------
  // Truncation and retention
  // -------------------------------------------------------------------------------------------

  /**
   * Removes every batch that holds an offset ≥ `offset` (a follower discarding a divergent
   * tail). A batch that straddles `offset` goes whole, so the log may end below `offset`.
   * Appends made while this runs wait for it.
   */
  async truncateTo(offset: number): Promise<void> {
    this.#checkOpen();
    if (!Number.isSafeInteger(offset) || offset < this.#logStartOffset) {
      throw new EddyError('OFFSET_OUT_OF_RANGE', `cannot truncate ${this.topic}-${this.partition} to ${offset}, below its log start ${this.#logStartOffset}`);
    }
    while (this.#barrier) await this.#barrier;
    let release!: () => void;
    this.#barrier = new Promise<void>((r) => (release = r));
    try {
      await this.#store.flush(); // every append accepted so far is committed and visible
      if (offset >= this.#logEndOffset) return;
      const cut = this.batchStartOf(offset);
      const before = this.#stmt.floor.get(cut - 1) as Row | undefined;
      this.#rewindTo(cut, before ?? null);
      await this.#store.submit([{ sql: `DELETE FROM ${this.#table} WHERE base_offset >= ?`, args: [cut] }], { sync: true });
      this.#recoveryPoint = Math.min(this.#recoveryPoint, cut);
    } finally {
      this.#barrier = null;
      release();
    }
  }

  /** Sets all sequencing state to end at `offset`, right after the stored row `before` (null: none). */
  #rewindTo(offset: number, before: Row | null): void {
    this.#generation++;
    this.#logEndOffset = this.#nextOffset = Math.max(offset, this.#logStartOffset);
    this.#endPosition = this.#nextPosition = before === null ? this.#startPosition : before[3] + before[4];
    this.#committedRunningMaxTs = this.#runningMaxTs = before === null ? -1 : before[2];
    // Truncation is the one place the high watermark may go back (Kafka follower semantics).
    this.#highWatermark = Math.min(this.#highWatermark, this.#logEndOffset);
    this.#producers.truncateFrom(this.#logEndOffset);
  }

  /**
   * Retention: deletes every batch that lies wholly below `offset` and moves the log start to
   * `offset` (≤ high watermark). Reads below it fail with OFFSET_OUT_OF_RANGE at once.
   */
  async deleteBefore(offset: number): Promise<void> {
    this.#checkOpen();
    if (!Number.isSafeInteger(offset) || offset > this.#highWatermark) {
      throw new EddyError(
        'OFFSET_OUT_OF_RANGE',
        `cannot delete ${this.topic}-${this.partition} below ${offset}: it is beyond the high watermark ${this.#highWatermark}`,
      );
    }
    if (offset <= this.#logStartOffset) return;
    this.#logStartOffset = offset;
    const cut = this.batchStartOf(offset);
    const { results } = await this.#store.submit(
      [
        { sql: `DELETE FROM ${this.#table} WHERE base_offset < ?`, args: [cut] },
        { sql: 'UPDATE eddy_partitions SET log_start_offset = ? WHERE id = ?', args: [offset, this.id] },
        { sql: `SELECT position FROM ${this.#table} ORDER BY base_offset LIMIT 1`, args: [] },
      ],
      { sync: true },
    );
    const first = results[2] as number[][];
    this.#startPosition = first.length > 0 ? first[0]![0]! : this.#endPosition;
  }

  /** The idempotent producers' cached batches (diagnostics and tests). */
  producerBatches(producerId: number): readonly ProducerBatch[] {
    return this.#producers.batchesOf(producerId);
  }

  // -------------------------------------------------------------------------------------------
  // Compaction (the log cleaner: log-cleaner.ts, its decisions: compaction.ts)
  // -------------------------------------------------------------------------------------------

  /**
   * What the cleaner may rewrite: batches wholly in [from, to). `to` is Kafka's first
   * uncleanable offset: the high watermark, and never the last stored batch (the active tail),
   * so appends never meet the cleaner and the log end offset survives any reopen. `epoch`
   * changes when the log is truncated or rewound; a plan made before is then refused.
   */
  cleanableRange(): { from: number; to: number; epoch: number } {
    this.#checkOpen();
    const last = this.#stmt.floor.get(this.#logEndOffset - 1) as Row | undefined;
    const to = last ? Math.max(this.#logStartOffset, Math.min(this.#highWatermark, last[0])) : this.#logStartOffset;
    return { from: this.#logStartOffset, to, epoch: this.#generation };
  }

  /** Stored batches with base offset in [from, to): the cleaner's measure of dirt. */
  countBatches(from: number, to: number): number {
    this.#checkOpen();
    this.#countStmt ??= this.#store.reader.prepare(`SELECT count(*) FROM ${this.#table} WHERE base_offset >= ? AND base_offset < ?`).pluck();
    return this.#countStmt.get(from, to) as number;
  }

  /**
   * Replaces or deletes stored batches below the cleanable range's end, all in one transaction
   * (a crash leaves either the old or the new batches). A replacement must keep its original's
   * base and last offset, so the log start, log end, high watermark and every offset stay as
   * they are; rows keep their byte position (positions then have gaps, as offsets do). Each
   * change applies only if the stored row is still the `original` (base, last offset, length,
   * CRC): a batch that retention deleted meanwhile stays deleted. Refused (INVALID_REQUEST) if the
   * log was truncated since `range` was taken, or a change reaches beyond it. Resolves with the
   * number of rows changed.
   */
  async replaceBatches(range: { to: number; epoch: number }, changes: readonly BatchReplacement[]): Promise<number> {
    this.#checkOpen();
    if (range.epoch !== this.#generation) {
      throw new EddyError('INVALID_REQUEST', `${this.topic}-${this.partition} was truncated or rewound (a failed write) while it was being cleaned; this pass is dropped and the next one starts afresh`);
    }
    const steps: TxStep[] = [];
    const match = `base_offset = ? AND last_offset = ? AND length(batch) = ? AND substr(batch, ${Field.crc + 1}, 4) = ?`;
    const deleteSql = `DELETE FROM ${this.#table} WHERE ${match}`;
    const updateSql = `UPDATE ${this.#table} SET batch = ?, max_timestamp = ? WHERE ${match}`;
    for (const { original: o, replacement } of changes) {
      const last = o.lastOffset;
      if (last >= range.to) {
        throw new EddyError('INVALID_REQUEST', `cannot rewrite the batch at ${o.baseOffset}..${last} of ${this.topic}-${this.partition}: it reaches the uncleanable offset ${range.to}`);
      }
      const identity = [o.baseOffset, last, o.byteLength, o.crc];
      if (replacement === null) {
        steps.push({ sql: deleteSql, args: identity });
        continue;
      }
      const r = validateBatch(replacement, { maxBatchBytes: Infinity, maxDecompressedBytes: this.config.maxDecompressedBytes, denseOffsets: false });
      if (r.baseOffset !== o.baseOffset || lastOffsetOf(r) !== last) {
        throw new EddyError('INVALID_REQUEST', `a rewritten batch must span ${o.baseOffset}..${last}; it spans ${r.baseOffset}..${lastOffsetOf(r)}`);
      }
      steps.push({ sql: updateSql, args: [replacement, r.maxTimestamp, ...identity] });
    }
    if (steps.length === 0) return 0;
    steps.push({ sql: `SELECT position FROM ${this.#table} ORDER BY base_offset LIMIT 1`, args: [] });
    const { results } = await this.#store.submit(steps, {
      onCommit: ({ results }) => {
        // The first row may have gone; positions only grow, so never move the start back.
        const first = results[results.length - 1] as number[][];
        if (first.length > 0) this.#startPosition = Math.max(this.#startPosition, first[0]![0]!);
      },
    });
    return (results.slice(0, -1) as number[]).reduce((n, c) => n + c, 0);
  }

  /** Resolves when every append accepted so far has committed. */
  flush(): Promise<void> {
    return this.#store.flush();
  }

  /** Called by the store when the partition is dropped or the store closes. */
  markDropped(): void {
    this.#dropped = true;
    this.#listeners.clear();
    this.#endListeners.clear();
  }

  #checkOpen(): void {
    if (this.#dropped) {
      throw new EddyError('UNKNOWN_TOPIC_OR_PARTITION', `partition ${this.topic}-${this.partition} was deleted or its store closed`);
    }
  }
}
