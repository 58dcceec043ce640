/**
 * The disk guard: refuses new records with a retriable KAFKA_STORAGE_ERROR *before* the disk or
 * the node's budget (--max-disk-bytes) runs out, so that a full gateway stops taking data
 * cleanly instead of failing writes half-way. Reads are never refused. Once retention (or a
 * deleted topic) has freed space, appends are taken again.
 *
 * Two limits, whichever comes first:
 * - Budget: the log store's files (log.db and its WAL, as `du` counts them) against
 *   --max-disk-bytes. Records are refused from 95 % of it; internal writes (committed offsets)
 *   go on up to 100 %, so consumers can still commit their progress while producers wait. The
 *   store's hard cap (SQLite max_page_count, set to the same budget) is the backstop behind it.
 * - Free space on the file system holding the data directory (statfs): records are refused
 *   when less than a reserve remains, the larger of 64 MiB and 5 % of the file system; internal
 *   writes go on down to half the reserve. This protects the node from other programs filling
 *   the disk too, and SQLite from ever meeting ENOSPC mid-checkpoint.
 *
 * Sizes are sampled at most every 500 ms (three stat calls), and appends admitted since the last
 * sample are added to it, so a burst between samples cannot run past the limit unnoticed.
 * The decision (`diskRefusal`) is pure; the class does the sampling and the logging.
 */
import { statfsSync, statSync } from 'node:fs';
import type { Logger } from '../logger.js';
import { EddyError } from '../protocol/errors.js';

/** Records are refused from this fraction of --max-disk-bytes. */
export const SOFT_LIMIT_RATIO = 0.95;
/** Free space the node keeps on its file system: the larger of these two. */
export const MIN_FREE_BYTES = 64 * 1024 * 1024;
export const MIN_FREE_RATIO = 0.05;
export const SAMPLE_INTERVAL_MS = 500;

/** Leader appends of records (produce, MQTT) or the node's own bookkeeping (offset commits). */
export type WriteKind = 'records' | 'internal';

export interface FileSystemSpace {
  totalBytes: number;
  /** Bytes available to this (unprivileged) process. */
  freeBytes: number;
}

export interface DiskUsage {
  /** Bytes of the log store's files (log.db and its WAL). */
  storeBytes: number;
  /** The data directory's file system, or null if it could not be asked. */
  fs: FileSystemSpace | null;
}

export function freeSpaceReserve(totalBytes: number): number {
  return Math.max(MIN_FREE_BYTES, Math.ceil(totalBytes * MIN_FREE_RATIO));
}

/** Human-readable bytes for operator messages: 1.5 GiB, 200 MiB, 12 KiB, 300 B. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v >= 100 ? Math.round(v) : Number(v.toFixed(1))} ${units[u]}`;
}

const percent = (part: number, whole: number) => `${Math.floor((part / whole) * 1000) / 10} %`;

const WHAT_TO_DO =
  'Lower retention.ms or retention.bytes on the largest topics (eddy topics describe shows partition sizes), ' +
  'delete topics that are no longer needed, or';

/**
 * Why a write of `kind` adding `bytes` to what `usage` shows must be refused, or null to allow
 * it. The reason names the limit, how full it is, and what to do.
 */
export function diskRefusal(usage: DiskUsage, bytes: number, maxDiskBytes: number | null, kind: WriteKind): string | null {
  if (maxDiskBytes !== null) {
    const limit = kind === 'records' ? maxDiskBytes * SOFT_LIMIT_RATIO : maxDiskBytes;
    const used = usage.storeBytes + bytes;
    if (used >= limit) {
      const from = kind === 'records' ? `${Math.round(SOFT_LIMIT_RATIO * 100)} %` : '100 %';
      return (
        `the log store would use ${formatBytes(used)} of its --max-disk-bytes budget of ${formatBytes(maxDiskBytes)} ` +
        `(${percent(used, maxDiskBytes)}; ${kind === 'records' ? 'new records' : 'internal writes'} are refused from ${from}). ` +
        `${WHAT_TO_DO} raise --max-disk-bytes. Writes are taken again as soon as retention has freed space`
      );
    }
  }
  if (usage.fs !== null) {
    const reserve = freeSpaceReserve(usage.fs.totalBytes);
    const keep = kind === 'records' ? reserve : Math.floor(reserve / 2);
    const free = usage.fs.freeBytes - bytes;
    if (free < keep) {
      return (
        `the file system holding the data directory would have ${formatBytes(Math.max(0, free))} free of ${formatBytes(usage.fs.totalBytes)}, ` +
        `below the ${formatBytes(keep)} the node keeps free for ${kind === 'records' ? 'safety (the larger of 64 MiB and 5 % of the file system)' : 'its own bookkeeping'}. ` +
        `Free space on that disk (other files count too). ${WHAT_TO_DO} move --data-dir to a larger disk. ` +
        'Writes are taken again as soon as enough space is free'
      );
    }
  }
  return null;
}

export interface DiskGuardOptions {
  /** The data directory: its file system is checked for free space. */
  dataDir: string;
  /** Files whose sizes count against the budget: the log store file and its WAL. */
  files: string[];
  /** The budget for `files`; null for none (only the free-space check applies). */
  maxDiskBytes: number | null;
  logger: Logger;
  now?: () => number;
  sampleIntervalMs?: number;
  /** The file system's space; default statfs on dataDir. Tests substitute a small disk. */
  statfs?: (dir: string) => FileSystemSpace;
}

function realStatfs(dir: string): FileSystemSpace {
  const s = statfsSync(dir);
  return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
}

export class DiskGuard {
  readonly maxDiskBytes: number | null;
  readonly #opts: DiskGuardOptions;
  readonly #now: () => number;
  readonly #statfs: (dir: string) => FileSystemSpace;
  #usage: DiskUsage = { storeBytes: 0, fs: null };
  #sampledAt = -Infinity;
  /** Bytes admitted since the last sample, counted as if already on disk. */
  #admitted = 0;
  /** The reason records are being refused (logged once when it starts), or null. */
  #refusing: { records: string | null; internal: string | null } = { records: null, internal: null };
  #statfsFailed = false;

  constructor(opts: DiskGuardOptions) {
    this.#opts = opts;
    this.maxDiskBytes = opts.maxDiskBytes;
    this.#now = opts.now ?? Date.now;
    this.#statfs = opts.statfs ?? realStatfs;
  }

  /** The last sample, plus what was admitted since. */
  get usage(): DiskUsage & { admittedBytes: number } {
    return { ...this.#usage, admittedBytes: this.#admitted };
  }

  /** True while new records are refused (as of the last sample and what was admitted since). */
  get refusingRecords(): boolean {
    return diskRefusal(this.#usage, this.#admitted, this.maxDiskBytes, 'records') !== null;
  }

  /** Samples the files and the file system now (retention calls this after freeing space). */
  refresh(): DiskUsage {
    let storeBytes = 0;
    for (const f of this.#opts.files) storeBytes += statSync(f, { throwIfNoEntry: false })?.size ?? 0;
    let fs: FileSystemSpace | null = null;
    try {
      fs = this.#statfs(this.#opts.dataDir);
    } catch (err) {
      if (!this.#statfsFailed) {
        this.#opts.logger.warn(
          { dataDir: this.#opts.dataDir, err: (err as Error).message },
          `cannot read the free space of the file system holding ${this.#opts.dataDir}; the disk guard checks only --max-disk-bytes`,
        );
      }
      this.#statfsFailed = true;
    }
    this.#usage = { storeBytes, fs };
    this.#sampledAt = this.#now();
    this.#admitted = 0;
    for (const kind of ['records', 'internal'] as const) {
      if (this.#refusing[kind] !== null && diskRefusal(this.#usage, 0, this.maxDiskBytes, kind) === null) {
        this.#refusing[kind] = null;
        this.#opts.logger.info(
          { kind, storeBytes, freeBytes: fs?.freeBytes, maxDiskBytes: this.maxDiskBytes },
          `disk guard: taking ${kind === 'records' ? 'new records' : 'internal writes'} again (the log store uses ${formatBytes(storeBytes)}` +
            `${fs ? `, ${formatBytes(fs.freeBytes)} free on the disk` : ''})`,
        );
      }
    }
    return this.#usage;
  }

  /**
   * Allows a write of `bytes`, or throws a retriable KAFKA_STORAGE_ERROR saying which limit is
   * near, how full it is and what to do. The first refusal of a spell is logged as a warning.
   */
  admit(kind: WriteKind, bytes: number): void {
    if (this.#now() - this.#sampledAt >= (this.#opts.sampleIntervalMs ?? SAMPLE_INTERVAL_MS)) this.refresh();
    const why = diskRefusal(this.#usage, this.#admitted + bytes, this.maxDiskBytes, kind);
    if (why === null) {
      this.#admitted += bytes;
      return;
    }
    if (this.#refusing[kind] === null) {
      this.#refusing[kind] = why;
      this.#opts.logger.warn(
        { kind, storeBytes: this.#usage.storeBytes, freeBytes: this.#usage.fs?.freeBytes, maxDiskBytes: this.maxDiskBytes },
        `disk guard: refusing ${kind === 'records' ? 'new records (produce and MQTT)' : 'internal writes (offset commits)'}; reads go on: ${why}`,
      );
    }
    throw new EddyError('KAFKA_STORAGE_ERROR', `${kind === 'records' ? 'new records' : 'this internal write'} refused to keep the disk from filling: ${why}`);
  }
}
