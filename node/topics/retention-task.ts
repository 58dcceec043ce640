/**
 * The retention task: every `intervalMs` (Kafka's log.retention.check.interval.ms, 5 min there,
 * 30 s here by default) it applies each topic's retention.ms and retention.bytes to its
 * partitions, deleting whole batches from the log start (PartitionLog.deleteBefore), then
 * returns freed pages to the file system and re-samples the disk guard. The decisions are
 * storage/retention.ts; this is the loop around them, with the clock injected so tests move time
 * instead of waiting.
 *
 * Internal topics (__consumer_offsets) are compact-only and skipped, as are topics whose
 * cleanup.policy lacks `delete`. Runs never overlap: a tick that finds one running is skipped.
 */
import type { Logger } from '../logger.js';
import { isEddyError } from '../../protocol/errors.js';
import { formatBytes, type DiskGuard } from '../storage/disk-guard.js';
import type { LogStore } from '../storage/log-store.js';
import { decideRetention, deletesByRetention, shouldReleaseFreePages } from '../storage/retention.js';
import { retentionView } from '../storage/retention-view.js';
import { resolveTopicConfig } from './topic-config.js';
import type { TopicManager } from './topic-manager.js';

export const DEFAULT_RETENTION_CHECK_INTERVAL_MS = 30_000;

export interface RetentionTaskOptions {
  topics: TopicManager;
  store: LogStore;
  logger: Logger;
  /** The clock retention.ms is measured against (ms since the epoch). */
  now?: () => number;
  intervalMs?: number;
  /** Re-sampled after each run; while it refuses records, every free page is released. */
  diskGuard?: DiskGuard;
}

export interface RetentionDeletion {
  topic: string;
  partition: number;
  /** The old and new log start offsets: offsets fromOffset..toOffset-1 were deleted. */
  fromOffset: number;
  toOffset: number;
  freedBytes: number;
  /** Time retention: records older than this (ms since the epoch) were due. */
  olderThan?: number;
  /** Size retention: the partition held this many bytes, over retention.bytes. */
  sizeBytes?: number;
}

export interface RetentionRun {
  deleted: RetentionDeletion[];
  /** Pages returned to the file system. */
  releasedPages: number;
}

export class RetentionTask {
  readonly intervalMs: number;
  readonly #opts: RetentionTaskOptions;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<RetentionRun> | null = null;
  #stopped = false;

  constructor(opts: RetentionTaskOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.intervalMs = opts.intervalMs ?? DEFAULT_RETENTION_CHECK_INTERVAL_MS;
  }

  /** Runs every intervalMs until stop(). */
  start(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setInterval(() => {
      if (!this.#running) void this.runOnce().catch(() => {}); // logged inside
    }, this.intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a run in progress (it stops between partitions). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => {});
  }

  /** One pass over every topic now (after a run in progress, if any). */
  runOnce(): Promise<RetentionRun> {
    const previous = this.#running ?? Promise.resolve();
    const run: Promise<RetentionRun> = previous
      .catch(() => {})
      .then(() => this.#run())
      .finally(() => {
        if (this.#running === run) this.#running = null;
      });
    this.#running = run;
    return run;
  }

  async #run(): Promise<RetentionRun> {
    const { topics, logger } = this.#opts;
    if (this.#stopped) return { deleted: [], releasedPages: 0 }; // the store may be closing
    const now = this.#now();
    const deleted: RetentionDeletion[] = [];
    for (const info of topics.list()) {
      if (info.internal) continue;
      const config = resolveTopicConfig(info.configs);
      if (!deletesByRetention(config)) continue;
      for (const { partition: p, log } of topics.localLogs(info.name)) {
        if (this.#stopped) break;
        try {
          const decision = decideRetention(retentionView(log), config, now);
          if (!decision) continue;
          const fromOffset = log.logStartOffset;
          const sizeBefore = log.sizeBytes;
          await log.deleteBefore(decision.deleteBefore);
          const d: RetentionDeletion = {
            topic: info.name,
            partition: p,
            fromOffset,
            toOffset: decision.deleteBefore,
            freedBytes: sizeBefore - log.sizeBytes,
            ...(decision.olderThan !== undefined ? { olderThan: decision.olderThan } : {}),
            ...(decision.sizeBytes !== undefined ? { sizeBytes: decision.sizeBytes } : {}),
          };
          deleted.push(d);
          const why = [
            ...(d.olderThan !== undefined ? [`records older than ${new Date(d.olderThan).toISOString()} (retention.ms=${config.retentionMs})`] : []),
            ...(d.sizeBytes !== undefined ? [`the partition held ${formatBytes(d.sizeBytes)}, over retention.bytes=${config.retentionBytes}`] : []),
          ].join('; ');
          logger.info(
            { ...d, retentionMs: config.retentionMs, retentionBytes: config.retentionBytes },
            `retention deleted offsets ${fromOffset}..${d.toOffset - 1} of ${info.name}-${p} (${formatBytes(d.freedBytes)}); ` +
              `the log now starts at ${d.toOffset}. Why: ${why}`,
          );
        } catch (err) {
          if (isEddyError(err, 'UNKNOWN_TOPIC_OR_PARTITION')) continue; // deleted meanwhile
          logger.warn(
            { topic: info.name, partition: p, err: (err as Error).message },
            `retention could not clean ${info.name}-${p}; it tries again in ${this.intervalMs / 1000} s: ${(err as Error).message}`,
          );
        }
      }
    }
    const releasedPages = await this.#releaseFreePages().catch((err: Error) => {
      logger.warn({ err: err.message }, `could not return freed pages to the file system; retrying next run: ${err.message}`);
      return 0;
    });
    return { deleted, releasedPages };
  }

  /**
   * Samples the disk guard (deletes may have changed its view), returns free pages to the file
   * system in chunks, then checkpoints so the files shrink now and samples it again.
   */
  async #releaseFreePages(): Promise<number> {
    const { store, diskGuard } = this.#opts;
    diskGuard?.refresh();
    const { total, free } = store.pageCounts();
    if (!shouldReleaseFreePages(free, total, diskGuard?.refusingRecords ?? false)) return 0;
    const released = await store.releaseFreePages(() => this.#stopped);
    if (released > 0) {
      await store.checkpoint();
      diskGuard?.refresh();
      this.#opts.logger.debug({ releasedPages: released }, `returned ${released} free pages to the file system`);
    }
    return released;
  }
}
