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
 * Once a spell of refusals has begun, writes of that kind resume only when 1 MiB (at most 5 % of
 * a small budget) is free below the limit again, i.e. after retention or a deleted topic has
 * freed space: no flicker of small batches admitted between large ones refused, and one warning
 * per spell in the log.
 *
 * The store's size is the WAL file plus the larger of the database file and the database's
 * logical size (page count × page size, read from SQLite): pages committed to the WAL reach the
 * file only at the next checkpoint, and once the WAL file has reached its working size new
 * appends would otherwise stay invisible to `stat` until the file jumps by megabytes at once.
 *
 * Sizes are sampled (stat and statfs calls) every 500 ms, and appends admitted since the last
 * sample are added to it. A byte appended costs more than a byte on disk for a while (the WAL
 * holds a copy of each page until a checkpoint, plus B-tree and pointer-map pages), so the guard
 * also samples again whenever a quarter of the headroom it last saw has been admitted: far from the
 * limit that is rare, near it frequent, and the files cannot outrun the estimate by the
 * remaining headroom unless one append writes four times its size.
 * The decisions (`diskRefusal`, `recordHeadroom`) are pure; the class samples and logs.
 */
import { statfsSync, statSync } from 'node:fs';
import type { Logger } from '../logger.js';
import { EddyError } from '../../protocol/errors.js';

/** Records are refused from this fraction of --max-disk-bytes. */
export const SOFT_LIMIT_RATIO = 0.95;
/** Free space the node keeps on its file system: the larger of these two. */
export const MIN_FREE_BYTES = 64 * 1024 * 1024;
export const MIN_FREE_RATIO = 0.05;
export const SAMPLE_INTERVAL_MS = 500;
/** Never sample more often than once per this many admitted bytes. */
export const MIN_RESAMPLE_BYTES = 64 * 1024;
/**
 * Once refusing, keep refusing until this much below the limit is free again (1 MiB, a full
 * default-sized batch; at most 5 % of a small budget): a producer sees one clear spell of
 * refusals, not small batches slipping in between large ones refused, and the log gets one
 * warning per spell. Small on purpose: any retention run that frees more ends the spell.
 */
export const RESUME_MARGIN_BYTES = 1024 * 1024;

const budgetMargin = (budget: number) => Math.min(RESUME_MARGIN_BYTES, Math.ceil(budget * 0.05));

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
 * it. The reason names the limit, how full it is, and what to do. `refusing`: writes of this
 * kind are already being refused, so they resume only with the resume margin free below the limit.
 */
export function diskRefusal(usage: DiskUsage, bytes: number, maxDiskBytes: number | null, kind: WriteKind, refusing = false): string | null {
  if (maxDiskBytes !== null) {
    const limit = kind === 'records' ? maxDiskBytes * SOFT_LIMIT_RATIO : maxDiskBytes;
    const used = usage.storeBytes + bytes;
    if (used + (refusing ? budgetMargin(maxDiskBytes) : 0) >= limit) {
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
    if (free - (refusing ? RESUME_MARGIN_BYTES : 0) < keep) {
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

/** Bytes of records that may be appended before `usage` reaches a limit for records (Infinity with none). */
export function recordHeadroom(usage: DiskUsage, maxDiskBytes: number | null): number {
  let room = Infinity;
  if (maxDiskBytes !== null) room = Math.min(room, maxDiskBytes * SOFT_LIMIT_RATIO - usage.storeBytes);
  if (usage.fs !== null) room = Math.min(room, usage.fs.freeBytes - freeSpaceReserve(usage.fs.totalBytes));
  return Math.max(0, room);
}

export interface DiskGuardOptions {
  /** The data directory: its file system is checked for free space. */
  dataDir: string;
  /** Files whose sizes count against the budget: the log store file and its WAL. */
  files: string[];
  /**
   * The database's logical size in bytes (what the file will be after the next checkpoint);
   * it counts instead of the first file's size when larger.
   */
  databaseBytes?: () => number;
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
  /** Sample again once this much has been admitted (a quarter of the headroom last seen). */
  #resampleAfter = 0;
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

  /** True while new records are refused: a spell of refusals has begun and space has not been freed since. */
  get refusingRecords(): boolean {
    return this.#refusing.records !== null;
  }

  /** Why new records are refused (what an operator should do included), or null while they are taken. */
  get recordRefusal(): string | null {
    return this.#refusing.records;
  }

  /**
   * Measures the files and the file system now, without changing what the guard decides
   * (metrics read this; sampling for decisions is `refresh`).
   */
  measure(): DiskUsage {
    return { storeBytes: this.storeBytes(), fs: this.fileSystem() };
  }

  /** The store's bytes on disk now (its files, or the database's pages if more). */
  storeBytes(): number {
    const sizes = this.#opts.files.map((f) => statSync(f, { throwIfNoEntry: false })?.size ?? 0);
    if (this.#opts.databaseBytes && sizes.length > 0) sizes[0] = Math.max(sizes[0]!, this.#opts.databaseBytes());
    return sizes.reduce((a, b) => a + b, 0);
  }

  /** The data directory's file system now, or null if statfs fails (logged once). */
  fileSystem(): FileSystemSpace | null {
    try {
      return this.#statfs(this.#opts.dataDir);
    } catch (err) {
      if (!this.#statfsFailed) {
        this.#opts.logger.warn(
          { dataDir: this.#opts.dataDir, err: (err as Error).message },
          `cannot read the free space of the file system holding ${this.#opts.dataDir}; the disk guard checks only --max-disk-bytes`,
        );
      }
      this.#statfsFailed = true;
      return null;
    }
  }

  /** Samples the files and the file system now (retention calls this after freeing space). */
  refresh(): DiskUsage {
    const { storeBytes, fs } = this.measure();
    this.#usage = { storeBytes, fs };
    this.#sampledAt = this.#now();
    this.#admitted = 0;
    this.#resampleAfter = Math.max(MIN_RESAMPLE_BYTES, recordHeadroom(this.#usage, this.maxDiskBytes) / 4);
    for (const kind of ['records', 'internal'] as const) {
      if (this.#refusing[kind] !== null && diskRefusal(this.#usage, 0, this.maxDiskBytes, kind, true) === null) {
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
    const stale = this.#now() - this.#sampledAt >= (this.#opts.sampleIntervalMs ?? SAMPLE_INTERVAL_MS);
    if (stale || this.#admitted >= this.#resampleAfter) this.refresh();
    const why = diskRefusal(this.#usage, this.#admitted + bytes, this.maxDiskBytes, kind, this.#refusing[kind] !== null);
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
