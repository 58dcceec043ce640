/**
 * The log cleaner: a background task that compacts the partitions of compacted topics. A thin
 * shell: it reads batches, asks compaction.ts which records survive, re-encodes the batches that
 * change (batch-rewrite.ts) and hands them to `PartitionLog.replaceBatches`, one transaction per
 * partition pass. Then it returns the freed pages to the file system.
 *
 * When: every `intervalMs` it looks at each compacted partition and cleans those with at least
 * `minDirtyBatches` batches appended below the cleaning point since their last pass (the first
 * pass after a start counts every batch as dirty), and those holding a tombstone whose
 * delete.retention.ms has run out. A pass reads the cleanable part of the log twice (latest
 * offset per key, then the decisions), in chunks, yielding to the event loop between them.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isEddyError } from '../../protocol/errors.js';
import { encodeEmptyBatch, rewriteBatch } from '../../protocol/batch-rewrite.js';
import { decodeRecords, lastOffsetOf, readBatchHeader, type BatchHeader, type DecodedRecord } from '../../protocol/record-batch.js';
import { silentLogger, type Logger } from '../logger.js';
import {
  decideBatch,
  LatestOffsets,
  minOrNull,
  ProducerLastBatches,
  PRODUCER_ID_EXPIRATION_MS,
  type CleanerBatch,
  type CompactionPolicy,
} from './compaction.js';
import type { LogStore } from './log-store.js';
import { storedBatchIdentity, type BatchReplacement } from './batch-replacement.js';
import type { PartitionLog } from './partition-log.js';

/** A partition to keep compacted, with its topic's settings. */
export interface CleanerTarget {
  log: PartitionLog;
  deleteRetentionMs: number;
  /** Internal topics' passes are logged at debug level. */
  internal?: boolean;
}

export interface LogCleanerOptions {
  store: LogStore;
  /** The compacted partitions, asked afresh every round (topics come and go). */
  targets: () => Iterable<CleanerTarget>;
  logger?: Logger;
  clock?: () => number;
  /** Time between rounds. Default 15 s (Kafka's log.cleaner.backoff.ms). */
  intervalMs?: number;
  /** Batches appended below the cleaning point since the last pass that make a partition due. Default 100. */
  minDirtyBatches?: number;
  /** Kafka's producer.id.expiration.ms: how long an idle producer's last batch is kept (empty). */
  producerIdExpirationMs?: number;
  /** Bytes read per chunk, between yields to the event loop. Default 128 KiB (a few ms of decoding). */
  chunkBytes?: number;
  /** Rewritten bytes one pass may hold; the rest waits for the next pass. Default 16 MiB. */
  maxPassBytes?: number;
}

export interface CleanResult {
  topic: string;
  partition: number;
  /** The cleaning point of this pass (first uncleanable offset). */
  cleanedTo: number;
  batchesRewritten: number;
  /** Batches kept empty: an active producer's last batch. */
  batchesEmptied: number;
  batchesDeleted: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  /** Stored bytes of the changed batches before and after. */
  bytesBefore: number;
  bytesAfter: number;
  /** False when the pass stopped at maxPassBytes; the partition stays due. */
  complete: boolean;
}

interface PartitionState {
  cleanedTo: number;
  nextTombstoneExpiry: number | null;
}

export class LogCleaner {
  readonly #store: LogStore;
  readonly #targets: () => Iterable<CleanerTarget>;
  readonly #logger: Logger;
  readonly #clock: () => number;
  readonly #intervalMs: number;
  readonly #minDirtyBatches: number;
  readonly #producerIdExpirationMs: number;
  readonly #chunkBytes: number;
  readonly #maxPassBytes: number;
  readonly #state = new WeakMap<PartitionLog, PartitionState>();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<CleanResult[]> | undefined;
  #stopped = false;

  constructor(opts: LogCleanerOptions) {
    this.#store = opts.store;
    this.#targets = opts.targets;
    this.#logger = opts.logger ?? silentLogger;
    this.#clock = opts.clock ?? Date.now;
    this.#intervalMs = opts.intervalMs ?? 15_000;
    this.#minDirtyBatches = Math.max(1, opts.minDirtyBatches ?? 100);
    this.#producerIdExpirationMs = opts.producerIdExpirationMs ?? PRODUCER_ID_EXPIRATION_MS;
    this.#chunkBytes = opts.chunkBytes ?? 128 * 1024;
    this.#maxPassBytes = opts.maxPassBytes ?? 16 * 1024 * 1024;
  }

  /** Starts the rounds (timer unref'd: it never keeps the process alive). */
  start(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setInterval(() => void this.runOnce().catch(() => {}), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops the rounds and waits for a pass in progress (call before closing the store). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#round?.catch(() => {});
  }

  /**
   * One round: cleans every due partition (or every one, with `force`), one at a time. Rounds do
   * not overlap: a call during a round waits for it and returns its results.
   */
  runOnce(opts: { force?: boolean } = {}): Promise<CleanResult[]> {
    if (this.#round) return this.#round;
    const round = this.#runRound(opts.force ?? false).finally(() => {
      if (this.#round === round) this.#round = undefined;
    });
    this.#round = round;
    return round;
  }

  async #runRound(force: boolean): Promise<CleanResult[]> {
    const results: CleanResult[] = [];
    for (const target of [...this.#targets()]) {
      if (this.#stopped) break;
      const { log } = target;
      try {
        if (!force && !this.isDue(target)) continue;
        const r = await this.#clean(target);
        if (r.bytesBefore > 0) results.push(r);
      } catch (err) {
        // Deleted topics, retention or truncation racing with the pass: the next round retries.
        const benign = isEddyError(err) && ['UNKNOWN_TOPIC_OR_PARTITION', 'OFFSET_OUT_OF_RANGE', 'INVALID_REQUEST'].includes(err.errorName);
        this.#logger[benign ? 'debug' : 'warn'](
          { topic: log.topic, partition: log.partition, err: isEddyError(err) ? err.detail : String(err) },
          `could not compact ${log.topic}-${log.partition}: ${isEddyError(err) ? err.detail : String(err)}; ` +
            `the cleaner retries in ${Math.round(this.#intervalMs / 1000)} s. If this repeats, check the disk and the log (eddy topics describe).`,
        );
      }
    }
    if (results.some((r) => r.batchesDeleted + r.batchesRewritten + r.batchesEmptied > 0)) {
      // Compaction left free pages inside the file; give them back so the file shrinks.
      try {
        await this.#store.releaseFreePages();
      } catch (err) {
        this.#logger.warn(
          { err: isEddyError(err) ? err.detail : String(err) },
          'compaction freed pages in the log file but could not return them to the file system; the file keeps its size until the next round',
        );
      }
    }
    return results;
  }

  /** Whether `target` has enough new batches, or an expired tombstone, to be worth a pass. */
  isDue(target: CleanerTarget): boolean {
    const { log } = target;
    const state = this.#state.get(log);
    if (state?.nextTombstoneExpiry != null && state.nextTombstoneExpiry <= this.#clock()) return true;
    const range = log.cleanableRange();
    const from = Math.max(state?.cleanedTo ?? range.from, range.from);
    return from < range.to && log.countBatches(from, range.to) >= this.#minDirtyBatches;
  }

  /** Cleans one partition now, due or not. */
  clean(target: CleanerTarget): Promise<CleanResult> {
    return this.#clean(target);
  }

  async #clean(target: CleanerTarget): Promise<CleanResult> {
    const { log } = target;
    const range = log.cleanableRange();
    const now = this.#clock();
    const result: CleanResult = {
      topic: log.topic,
      partition: log.partition,
      cleanedTo: range.to,
      batchesRewritten: 0,
      batchesEmptied: 0,
      batchesDeleted: 0,
      recordsRemoved: 0,
      tombstonesRemoved: 0,
      bytesBefore: 0,
      bytesAfter: 0,
      complete: true,
    };
    if (range.to <= range.from) return result;

    // Pass 1: every key's latest offset below the cleaning point; every producer's last batch.
    const latest = new LatestOffsets(range.to);
    const producers = new ProducerLastBatches();
    await this.#scan(log, range.from, log.highWatermark, (batch, header) => {
      producers.observe({ producerId: header.producerId, lastOffset: lastOffsetOf(header), maxTimestamp: header.maxTimestamp });
      if (lastOffsetOf(header) < range.to) latest.observe(cleanerBatch(header, decodeRecords(batch, log.config.maxDecompressedBytes)));
    });

    // Pass 2: decide, and re-encode what changes.
    const policy: CompactionPolicy = {
      cleaningPoint: range.to,
      now,
      deleteRetentionMs: target.deleteRetentionMs,
      activeProducers: producers.active(now, this.#producerIdExpirationMs),
    };
    const changes: BatchReplacement[] = [];
    let nextTombstoneExpiry: number | null = null;
    let held = 0;
    await this.#scan(log, range.from, range.to, (batch, header) => {
      if (!result.complete || lastOffsetOf(header) >= range.to) return;
      const records = decodeRecords(batch, log.config.maxDecompressedBytes);
      const d = decideBatch(cleanerBatch(header, records), latest, policy);
      nextTombstoneExpiry = minOrNull(nextTombstoneExpiry, d.nextTombstoneExpiry);
      if (d.kind === 'untouched') return;
      let replacement: Uint8Array | null = null;
      if (d.kind === 'rewrite') {
        const keep = new Set(d.keep);
        replacement = rewriteBatch(batch, (offset) => keep.has(offset), { records });
        result.batchesRewritten++;
      } else if (d.kind === 'empty') {
        replacement = encodeEmptyBatch(header);
        result.batchesEmptied++;
      } else {
        result.batchesDeleted++;
      }
      changes.push({ original: storedBatchIdentity(batch), replacement });
      result.recordsRemoved += d.removed;
      result.tombstonesRemoved += d.tombstonesRemoved;
      result.bytesBefore += batch.length;
      result.bytesAfter += replacement?.length ?? 0;
      held += replacement?.length ?? 0;
      if (held >= this.#maxPassBytes) result.complete = false;
    });

    if (changes.length > 0) await log.replaceBatches(range, changes);
    this.#state.set(log, {
      // An incomplete pass leaves the partition due. The next pass finds the batches this one
      // rewrote clean (nothing left to remove), so it gets further.
      cleanedTo: result.complete ? range.to : range.from,
      nextTombstoneExpiry,
    });
    if (changes.length > 0) {
      this.#logger[target.internal ? 'debug' : 'info'](
        { ...result },
        `compacted ${log.topic}-${log.partition} below offset ${range.to}: removed ${result.recordsRemoved} record(s) ` +
          `(${result.tombstonesRemoved} expired tombstone(s)); ${result.bytesBefore} → ${result.bytesAfter} bytes in ${changes.length} batch(es)`,
      );
    }
    return result;
  }

  /** Calls `visit` for every stored batch from `from` until `to`, reading in chunks. */
  async #scan(log: PartitionLog, from: number, to: number, visit: (batch: Uint8Array, header: BatchHeader) => void): Promise<void> {
    let offset = from;
    while (offset < to) {
      const r = log.read(offset, this.#chunkBytes);
      if (r.batches.length === 0) return;
      for (const batch of r.batches) {
        const header = readBatchHeader(batch);
        if (header.baseOffset >= to) return;
        if (lastOffsetOf(header) < offset) continue;
        visit(batch, header);
      }
      offset = r.nextOffset;
      await nextTurn();
    }
  }
}

function cleanerBatch(header: BatchHeader, records: readonly DecodedRecord[]): CleanerBatch {
  return { baseOffset: header.baseOffset, lastOffset: lastOffsetOf(header), producerId: header.producerId, isControl: header.isControl, records };
}
