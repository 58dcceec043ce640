/**
 * One partition's log: an ordered, immutable sequence of record batches with dense offsets,
 * stored one SQLite row per batch in table `log_<id>` (partition-table.ts) of a store.
 *
 * Offsets are assigned here, on the calling thread, when an append is accepted (so appends
 * pipeline and share group commits); they become visible (log end offset) once committed.
 *
 * Invariants:
 * - logStartOffset ≤ highWatermark ≤ logEndOffset ≤ nextOffset.
 * - The high watermark never moves backwards, except by truncateTo (a follower discarding a
 *   divergent tail, as in Kafka). It is checkpointed with the recovery point, and a replicated
 *   partition reopens at its checkpoint (never at the log end: what lies above was not known to
 *   be on the ISR).
 * - The leader epoch cache (leader-epoch-cache.ts) changes in the same transaction as the
 *   batches that change it, so after a crash it matches the log.
 * - Rows are gapless in offset and byte position except where compaction removes records
 *   (replaceBatches); a failed write never leaves a hole (see LogStore's rejection of queued
 *   writes).
 */
import { EddyError } from '../../protocol/errors.js';
import { decodeRecords, lastOffsetOf, stampBatch, validateBatch, type BatchHeader } from '../../protocol/record-batch.js';
import { replacementSteps, type BatchReplacement } from './batch-replacement.js';
import { epochSteps, LeaderEpochCache, loadEpochs, type EpochEntry } from './leader-epoch-cache.js';
import { LogOffsets } from './log-offsets.js';
import { firstBaseOffsetReaching } from './offset-search.js';
import { migrateTable, PartitionTable, type Row } from './partition-table.js';
import { PartitionProducers } from './partition-producers.js';
import type { AppendOptions, AppendResult, PartitionConfig, PartitionIdentity, ReadOptions, ReadResult } from './partition-types.js';
import { isIdempotent, type ProducerBatch } from './producer-state.js';
import { verifyTail } from './recovery.js';
import type { PartitionStore, TxStep } from './store-types.js';

export { DEFAULT_PARTITION_CONFIG, type AppendOptions, type AppendResult, type PartitionConfig, type PartitionIdentity, type ReadLimit, type ReadOptions, type ReadResult } from './partition-types.js';

export class PartitionLog {
  readonly id: number;
  readonly topic: string;
  readonly partition: number;
  readonly config: PartitionConfig;
  readonly #store: PartitionStore;
  readonly #table: PartitionTable;

  /** Offsets, positions and the high watermark, and the rules that move them (log-offsets.ts). */
  readonly #o: LogOffsets;
  /** What eddy_partitions holds: offsets below the recovery point are synced and verified. */
  #recoveryPoint: number;
  #checkpointedHighWatermark: number;
  #barrier: Promise<void> | null = null;
  #dropped = false;
  /** As sequenced (like the next offset); reloaded from the table when a write fails. */
  #epochs: LeaderEpochCache;
  /** Idempotent producers' last batches, rebuilt from the log at open. */
  readonly #producers: PartitionProducers;

  private constructor(store: PartitionStore, row: PartitionIdentity, config: PartitionConfig) {
    this.#store = store;
    this.id = row.id;
    this.topic = row.topic;
    this.partition = row.partition;
    this.config = config;
    this.#table = new PartitionTable(store.reader, row.id);
    const last = this.#table.last();
    const first = this.#table.first();
    // A single replica's log is all committed. A replicated one resumes at its checkpoint: the
    // records above it are re-confirmed by the ISR (or truncated) before consumers see them.
    const checkpoint = row.high_watermark;
    const end = last ? { offset: last[1] + 1, position: last[3] + last[4], runningMaxTs: last[2] } : { offset: row.log_start_offset, position: 0, runningMaxTs: -1 };
    this.#o = new LogOffsets({
      logStartOffset: row.log_start_offset,
      startPosition: first ? first[3] : 0,
      end,
      highWatermark: checkpoint < 0 ? end.offset : checkpoint,
      replicated: config.replicated,
    });
    this.#checkpointedHighWatermark = checkpoint;
    this.#recoveryPoint = row.recovery_point;
    this.#epochs = new LeaderEpochCache(loadEpochs(store.reader, row.id));
    this.#producers = new PartitionProducers(() => this.config.producerIdExpirationMs);
  }

  /** Opens a partition and, after an unclean shutdown, verifies its tail (see recovery.ts). */
  static async open(store: PartitionStore, row: PartitionIdentity, config: PartitionConfig): Promise<PartitionLog> {
    await migrateTable(store, row.id);
    const log = new PartitionLog(store, row, config);
    await log.#recover();
    await log.#reconcileEpochs();
    log.#rebuildProducerState();
    return log;
  }

  /**
   * Producer state survives restarts (kill -9 too) because it is rebuilt from the stored batches'
   * producer columns: only batches newer than the expiration horizon matter, found by a search
   * on the running maximum timestamp, then read without their batch bytes.
   */
  #rebuildProducerState(): void {
    const now = Date.now();
    const from = this.firstBaseOffsetAtTime(now - this.config.producerIdExpirationMs, this.#o.logEndOffset);
    if (from !== null) this.#producers.rebuild(this.#table.producerRows(from), now);
  }

  /**
   * The leader epoch cache must describe exactly the stored log: rebuilt from the batches when a
   * store written before the cache existed has none. Every change to the log's bounds (appends,
   * truncation, retention, a torn tail dropped at recovery) writes the cache in its own
   * transaction, so the cuts here find nothing to do unless the file was changed behind the
   * node's back; they keep the cache within the log all the same.
   */
  async #reconcileEpochs(): Promise<void> {
    let changed = false;
    if (this.#epochs.entries.length === 0 && this.#o.logEndOffset > this.#o.logStartOffset) {
      for (const e of this.#table.epochsFromBatches()) changed = this.#epochs.assign(e.epoch, e.startOffset) || changed;
    }
    changed = this.#epochs.truncateFromEnd(this.#o.logEndOffset) || changed;
    changed = this.#epochs.truncateFromStart(this.#o.logStartOffset) || changed;
    if (changed) await this.#store.submit(epochSteps(this.id, this.#epochs.entries), { sync: true });
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
    const first = this.#table.first();
    if (!first) return null;
    return firstBaseOffsetReaching((o) => this.#table.floor(o), first[0], to, reached(first));
  }

  /**
   * Where a cut at `offset` falls when batches go whole: the base offset of the stored batch
   * holding `offset`, or `offset` itself when none does.
   */
  batchStartOf(offset: number): number {
    return this.#table.batchStartOf(offset);
  }

  get logStartOffset(): number {
    return this.#o.logStartOffset;
  }
  get logEndOffset(): number {
    return this.#o.logEndOffset;
  }
  get highWatermark(): number {
    return this.#o.highWatermark;
  }
  /** Bytes of the stored batches. */
  get sizeBytes(): number {
    return this.#o.endPosition - this.#o.startPosition;
  }

  /** A new max.message.bytes (the topic was altered): applies to appends from now on. */
  setMaxBatchBytes(bytes: number): void {
    this.config.maxBatchBytes = bytes;
  }

  // -------------------------------------------------------------------------------------------
  // Recovery and checkpoints
  // -------------------------------------------------------------------------------------------

  async #recover(): Promise<void> {
    // After a clean shutdown everything up to the log end was synced and verified at some
    // start; check only the last batch. Otherwise check everything after the recovery point.
    const from = this.#store.cleanStart ? Math.max(this.#o.logEndOffset - 1, this.#o.logStartOffset) : this.#recoveryPoint;
    const verdict = verifyTail(this.#table, from, this.#o.logStartOffset, this.config.maxDecompressedBytes);
    if (verdict.firstBad) {
      const bad = verdict.firstBad;
      const lostTo = this.#o.logEndOffset - 1;
      this.#store.logger.warn(
        { topic: this.topic, partition: this.partition, fromOffset: bad.baseOffset, toOffset: lostTo, reason: verdict.reason },
        `partition ${this.topic}-${this.partition}: the batch at offset ${bad.baseOffset} failed its check on recovery ` +
          `(${verdict.reason}); dropping offsets ${bad.baseOffset}..${lostTo}. The log now ends at ${bad.baseOffset}. ` +
          'If this repeats, check the disk (dmesg, SMART) and restore the partition from a replica.',
      );
      this.#rewindTo(bad.baseOffset, verdict.before ?? null);
      await this.#store.submit([this.#table.deleteFromStep(bad.baseOffset), ...this.#epochStepsIf(this.#epochs.truncateFromEnd(bad.baseOffset))], { sync: true });
    }
    const cp = this.checkpointStep();
    if (cp) await this.#store.submit([cp.step], { sync: true, onCommit: cp.committed });
  }

  /**
   * The write that persists the recovery point (every offset below it is synced and verified)
   * and the high watermark, or null if neither moved. The store runs it with sync (Kafka's
   * recovery-point and replication-offset checkpoints) and calls `committed` after.
   */
  checkpointStep(): { step: TxStep; committed(): void } | null {
    const offset = this.#o.logEndOffset;
    const hw = this.#o.highWatermark;
    if (this.#dropped || (this.#recoveryPoint === offset && this.#checkpointedHighWatermark === hw)) return null;
    return {
      step: { sql: 'UPDATE eddy_partitions SET recovery_point = ?, high_watermark = ? WHERE id = ?', args: [offset, hw, this.id] },
      committed: () => {
        this.#recoveryPoint = offset;
        this.#checkpointedHighWatermark = hw;
      },
    };
  }

  // -------------------------------------------------------------------------------------------
  // Leader epochs
  // -------------------------------------------------------------------------------------------

  /** Epoch → start offset, oldest first (diagnostics, tests, and the replication fetch path). */
  get leaderEpochs(): readonly EpochEntry[] {
    return this.#epochs.entries;
  }

  /** The newest leader epoch in the log (-1 when empty). */
  get latestEpoch(): number {
    return this.#epochs.latestEpoch;
  }

  /** Kafka's OffsetForLeaderEpoch answer for this log (see LeaderEpochCache.endOffsetFor). */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    return this.#epochs.endOffsetFor(epoch, this.#o.logEndOffset);
  }

  #epochStepsIf(changed: boolean): TxStep[] {
    return changed ? epochSteps(this.id, this.#epochs.entries) : [];
  }

  // -------------------------------------------------------------------------------------------
  // Append
  // -------------------------------------------------------------------------------------------

  /**
   * Appends producer batches as the leader: validates each (nothing is written if any fails),
   * assigns offsets, stamps base offset and leader epoch in place, and resolves once committed
   * (and synced, per the store policy or `opts.sync`). Topic policy (keys for compacted topics,
   * internal topics, the disk guard, acks) is the replica manager's, in front of this.
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
    const epoch = opts.leaderEpoch ?? 0;
    let producerBatch: ProducerBatch | undefined;
    if (idempotent) {
      const checked = this.#producers.check(headers[0]!, this.#o.next.offset, `${this.topic}-${this.partition}`);
      if ('duplicate' in checked) return checked.duplicate;
      producerBatch = checked.batch;
    }
    let offset = this.#o.next.offset;
    for (let i = 0; i < batches.length; i++) {
      stampBatch(batches[i]!, offset, epoch);
      headers[i]!.baseOffset = offset;
      headers[i]!.partitionLeaderEpoch = epoch;
      offset += headers[i]!.lastOffsetDelta + 1;
    }
    const written = this.#write(batches, headers, opts.sync);
    if (producerBatch) this.#producers.track(producerBatch, written);
    return written;
  }

  /**
   * Appends batches that already carry offsets (a follower copying its leader). Offsets must
   * increase past the log end; gaps are allowed (a compacted leader log has them).
   */
  async appendAsFollower(batches: readonly Uint8Array[], opts: { sync?: boolean } = {}): Promise<AppendResult> {
    if (this.#barrier) await this.#barrier;
    this.#checkOpen();
    let next = this.#o.next.offset;
    const headers = batches.map((b) => {
      const h = validateBatch(b, {
        maxBatchBytes: Math.max(this.config.maxBatchBytes, b.length),
        maxDecompressedBytes: this.config.maxDecompressedBytes,
        denseOffsets: false,
      });
      if (h.baseOffset < next) {
        throw new EddyError('INVALID_RECORD', `follower append out of order: batch base offset ${h.baseOffset} is below the expected ${next} on ${this.topic}-${this.partition}`);
      }
      next = lastOffsetOf(h) + 1;
      return h;
    });
    this.#producers.recordCopied(headers);
    return this.#write(batches, headers, opts.sync);
  }

  async #write(batches: readonly Uint8Array[], headers: BatchHeader[], sync: boolean | undefined): Promise<AppendResult> {
    if (batches.length === 0) throw new EddyError('INVALID_REQUEST', 'append needs at least one batch');
    const steps: TxStep[] = [];
    const spans: AppendResult['batches'] = [];
    let { position, runningMaxTs: runMax } = this.#o.next;
    let epochsChanged = false;
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!;
      const h = headers[i]!;
      const last = lastOffsetOf(h);
      runMax = Math.max(runMax, h.maxTimestamp);
      steps.push({
        sql: this.#table.insertSql,
        args: [h.baseOffset, last, h.maxTimestamp, runMax, h.partitionLeaderEpoch, position, h.producerId, h.producerEpoch, h.baseSequence, b],
      });
      epochsChanged = this.#epochs.assign(h.partitionLeaderEpoch, h.baseOffset) || epochsChanged;
      spans.push({ baseOffset: h.baseOffset, lastOffset: last });
      position += b.length;
    }
    // A new epoch is written with its first batch, in one transaction: the cache never runs ahead of the log.
    steps.push(...this.#epochStepsIf(epochsChanged));
    const end = spans[spans.length - 1]!.lastOffset + 1;
    const committedEnd = { offset: end, position, runningMaxTs: runMax };
    this.#o.sequenced(committedEnd);
    // State moves in the store's synchronous hooks, in commit order, so that a rewind after a
    // failed write always starts from exactly what is committed.
    const generation = this.#o.generation;
    const { synced } = await this.#store.submit(steps, {
      ...(sync === undefined ? {} : { sync }),
      onCommit: () => {
        if (generation === this.#o.generation) this.#o.committed(committedEnd);
      },
      onFail: () => {
        // Everything sequenced after this append was refused too (see LogStore): rewind the
        // sequencer to what is committed so the next append continues without a hole.
        if (generation !== this.#o.generation) return;
        this.#o.rewindToCommitted();
        this.#producers.truncateFrom(this.#o.logEndOffset); // their retries must be written again
        this.#epochs = new LeaderEpochCache(loadEpochs(this.#store.reader, this.id));
      },
    });
    return { baseOffset: spans[0]!.baseOffset, lastOffset: end - 1, synced, batches: spans };
  }

  // -------------------------------------------------------------------------------------------
  // High watermark and log end listeners
  // -------------------------------------------------------------------------------------------

  /**
   * Hands the high watermark to replication: from now on it moves only by
   * `updateHighWatermark`. Until then (a single replica) it follows the log end offset.
   */
  setReplicated(replicated: boolean): void {
    this.#o.setReplicated(replicated);
  }

  /** Advances the high watermark (never backwards, never past the log end). */
  updateHighWatermark(offset: number): void {
    this.#o.updateHighWatermark(offset);
  }

  /** Calls `listener` whenever the high watermark advances (consumers' long-poll fetches wait on this). */
  onHighWatermark(listener: () => void): () => void {
    return this.#o.onHighWatermark(listener);
  }

  /**
   * Calls `listener` whenever appends commit and the log end offset moves: replica fetches wait on
   * this (they read to the log end), consumers on the high watermark.
   */
  onLogEndOffset(listener: () => void): () => void {
    return this.#o.onLogEndOffset(listener);
  }

  // -------------------------------------------------------------------------------------------
  // Read
  // -------------------------------------------------------------------------------------------

  /**
   * Reads whole batches from `fromOffset`, up to `maxBytes` (unless `strictMaxBytes`, at least
   * one batch is returned if any is available, as in Kafka, so a large batch cannot stall a
   * consumer). Throws OFFSET_OUT_OF_RANGE below the log start or past the log end.
   */
  read(fromOffset: number, maxBytes: number, opts: ReadOptions = {}): ReadResult {
    this.#checkOpen();
    if (!Number.isSafeInteger(fromOffset) || fromOffset < this.#o.logStartOffset || fromOffset > this.#o.logEndOffset) {
      throw new EddyError('OFFSET_OUT_OF_RANGE', `offset ${fromOffset} is outside ${this.topic}-${this.partition}'s range [${this.#o.logStartOffset}, ${this.#o.logEndOffset}]`);
    }
    const limit = opts.upTo === 'log-end' ? this.#o.logEndOffset : this.#o.highWatermark;
    const batches: Uint8Array[] = [];
    let bytes = 0;
    let nextOffset = fromOffset;
    if (fromOffset < limit) {
      for (const [, last, batch] of this.#table.range(fromOffset, limit)) {
        if (last < fromOffset) continue; // a gap (compaction) between this batch and fromOffset
        if ((batches.length > 0 || opts.strictMaxBytes) && bytes + batch.length > maxBytes) break;
        batches.push(batch);
        bytes += batch.length;
        nextOffset = last + 1;
        if (bytes >= maxBytes) break;
      }
    }
    return { batches, bytes, nextOffset, logStartOffset: this.#o.logStartOffset, highWatermark: this.#o.highWatermark, logEndOffset: this.#o.logEndOffset };
  }

  /**
   * The first record with timestamp ≥ `timestamp` (Kafka's ListOffsets by time), or null if
   * every record is older. Uses the running maximum of batch timestamps, which is monotonic in
   * offset, so the answer is a binary search on the rowid plus decoding one batch.
   */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } | null {
    this.#checkOpen();
    const base = this.firstBaseOffsetAtTime(timestamp, this.#o.highWatermark);
    if (base === null) return null;
    // Usually the first batch decoded holds the answer; only a batch straddling the log start
    // can hold qualifying records below it, and then the answer is further on.
    for (const [, , batch] of this.#table.range(Math.max(base, this.#o.logStartOffset), this.#o.highWatermark)) {
      for (const rec of decodeRecords(batch, this.config.maxDecompressedBytes)) {
        if (rec.timestamp >= timestamp && rec.offset >= this.#o.logStartOffset) return { offset: rec.offset, timestamp: rec.timestamp };
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
    if (!Number.isSafeInteger(offset) || offset < this.#o.logStartOffset) {
      throw new EddyError('OFFSET_OUT_OF_RANGE', `cannot truncate ${this.topic}-${this.partition} to ${offset}, below its log start ${this.#o.logStartOffset}`);
    }
    await this.#exclusive(async () => {
      if (offset >= this.#o.logEndOffset) return;
      const cut = this.batchStartOf(offset);
      this.#rewindTo(cut, this.#table.floor(cut - 1) ?? null);
      const epochs = this.#epochStepsIf(this.#epochs.truncateFromEnd(cut));
      // The lowered high watermark is checkpointed with the cut: a reopen never serves above it.
      const hw = { sql: 'UPDATE eddy_partitions SET high_watermark = ? WHERE id = ?', args: [this.#o.highWatermark, this.id] };
      await this.#store.submit([this.#table.deleteFromStep(cut), ...epochs, hw], { sync: true });
      this.#checkpointedHighWatermark = this.#o.highWatermark;
      this.#recoveryPoint = Math.min(this.#recoveryPoint, cut);
    });
  }

  /** Runs `fn` once every append accepted so far has committed, with new appends held until it ends. */
  async #exclusive(fn: () => Promise<void>): Promise<void> {
    while (this.#barrier) await this.#barrier;
    let release!: () => void;
    this.#barrier = new Promise<void>((r) => (release = r));
    try {
      await this.#store.flush();
      await fn();
    } finally {
      this.#barrier = null;
      release();
    }
  }

  /** Ends the log at `offset`, right after the stored row `before` (null: none). */
  #rewindTo(offset: number, before: Row | null): void {
    this.#o.rewindTo(offset, before);
    this.#producers.truncateFrom(this.#o.logEndOffset);
  }

  /**
   * Moves the log start to `offset`, deleting every batch that lies wholly below it. Reads below
   * it fail with OFFSET_OUT_OF_RANGE at once.
   * - Retention on the leader (default): `offset` may not pass the high watermark.
   * - A follower following its leader's log start (`asFollower`): `offset` may pass the high
   *   watermark (which rises with it) and even the log end: then the whole log goes and it
   *   starts afresh, empty, at `offset` (Kafka's truncateFullyAndStartAt).
   */
  async deleteBefore(offset: number, opts: { asFollower?: boolean } = {}): Promise<void> {
    this.#checkOpen();
    if (!Number.isSafeInteger(offset) || offset < 0 || (!opts.asFollower && offset > this.#o.highWatermark)) {
      throw new EddyError('OFFSET_OUT_OF_RANGE', `cannot delete ${this.topic}-${this.partition} below ${offset}: it is beyond the high watermark ${this.#o.highWatermark}`);
    }
    if (offset <= this.#o.logStartOffset) return;
    if (offset > this.#o.logEndOffset) return this.#exclusive(() => this.#startAfresh(offset));
    this.#o.advanceLogStart(offset);
    const cut = this.batchStartOf(offset);
    const epochs = this.#epochStepsIf(this.#epochs.truncateFromStart(offset));
    const { results } = await this.#store.submit(
      [this.#table.deleteBelowStep(cut), { sql: 'UPDATE eddy_partitions SET log_start_offset = ? WHERE id = ?', args: [offset, this.id] }, ...epochs, this.#table.firstPositionStep()],
      { sync: true },
    );
    const first = results[results.length - 1] as number[][];
    this.#o.startPosition = first.length > 0 ? first[0]![0]! : this.#o.endPosition;
  }

  /** Empties the log and starts it at `offset`, past its old end (positions keep growing). */
  async #startAfresh(offset: number): Promise<void> {
    if (offset <= this.#o.logEndOffset) return this.deleteBefore(offset, { asFollower: true }); // appends committed meanwhile
    this.#o.startAt(offset);
    this.#producers.truncateFrom(0);
    this.#epochs.clear();
    await this.#store.submit(
      [
        this.#table.deleteBelowStep(Number.MAX_SAFE_INTEGER),
        { sql: 'UPDATE eddy_partitions SET log_start_offset = ?, recovery_point = ?, high_watermark = ? WHERE id = ?', args: [offset, offset, offset, this.id] },
        ...epochSteps(this.id, []),
      ],
      { sync: true },
    );
    this.#recoveryPoint = this.#checkpointedHighWatermark = offset;
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
    const last = this.#table.floor(this.#o.logEndOffset - 1);
    const to = last ? Math.max(this.#o.logStartOffset, Math.min(this.#o.highWatermark, last[0])) : this.#o.logStartOffset;
    return { from: this.#o.logStartOffset, to, epoch: this.#o.generation };
  }

  /** Stored batches with base offset in [from, to): the cleaner's measure of dirt. */
  countBatches(from: number, to: number): number {
    this.#checkOpen();
    return this.#table.count(from, to);
  }

  /**
   * Replaces or deletes stored batches below the cleanable range's end, all in one transaction
   * (a crash leaves either the old or the new batches); see batch-replacement.ts for what each
   * change must satisfy. Offsets, the log start, log end and high watermark stay as they are;
   * rows keep their byte position (positions then have gaps, as offsets do). Refused
   * (INVALID_REQUEST) if the log was truncated since `range` was taken. Resolves with the number
   * of rows changed.
   */
  async replaceBatches(range: { to: number; epoch: number }, changes: readonly BatchReplacement[]): Promise<number> {
    this.#checkOpen();
    if (range.epoch !== this.#o.generation) {
      throw new EddyError('INVALID_REQUEST', `${this.topic}-${this.partition} was truncated or rewound (a failed write) while it was being cleaned; this pass is dropped and the next one starts afresh`);
    }
    const steps = replacementSteps(this.#table.name, range.to, changes, this.config.maxDecompressedBytes, `${this.topic}-${this.partition}`);
    if (steps.length === 0) return 0;
    steps.push(this.#table.firstPositionStep());
    const { results } = await this.#store.submit(steps, {
      onCommit: ({ results }) => {
        // The first row may have gone; positions only grow, so never move the start back.
        const first = results[results.length - 1] as number[][];
        if (first.length > 0) this.#o.startPosition = Math.max(this.#o.startPosition, first[0]![0]!);
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
    this.#o.clearListeners();
  }

  #checkOpen(): void {
    if (this.#dropped) {
      throw new EddyError('UNKNOWN_TOPIC_OR_PARTITION', `partition ${this.topic}-${this.partition} was deleted or its store closed`);
    }
  }
}
