/**
 * Retention decisions: given what a partition holds, its topic's retention configs and the time,
 * the offset below which whole batches go. Pure: no timers, no files; the lookups arrive through
 * a `RetentionView` (retention-view.ts answers them from SQLite with primary-key lookups and short
 * binary searches, the unit tests from an array), and `now` is the caller's clock.
 *
 * The rules, as in Kafka (segments there, batches here):
 * - Time (`retention.ms` ≥ 0): from the log start, batches go while their max timestamp is older
 *   than now − retention.ms. The first batch holding a newer record stops the deletion, even if
 *   older batches follow it (a producer clock in the future holds back retention, as in Kafka).
 *   The newest batch goes too once it is old: the log may become empty.
 * - Size (`retention.bytes` ≥ 0, per partition): the oldest batches go while the partition holds
 *   more than retention.bytes, so afterwards it holds at most that much. Kafka deletes whole
 *   segments and may keep up to one segment more; here the granule is one batch, and a batch
 *   larger than the limit goes whole.
 * - Never past the high watermark: records not yet committed stay, and the log start never
 *   overtakes the high watermark. The log end offset never moves back: offsets are not reused,
 *   and a consumer at the end of an emptied log simply waits for new records.
 * - Only `cleanup.policy` containing `delete`; compact-only topics are left to the cleaner.
 */
/** What the decision needs to know about one partition. */
export interface RetentionView {
  logStartOffset: number;
  /**
   * The high watermark, or the base offset of the batch holding it when it falls inside one:
   * only wholly committed batches may go.
   */
  deletableEnd: number;
  /** Bytes of the stored batches. */
  sizeBytes: number;
  /**
   * Base offset of the first batch below the high watermark that holds a record with timestamp
   * ≥ `timestamp` or follows one that does (the running maximum), or null if there is none.
   */
  firstBatchWithTimestampAtLeast(timestamp: number): number | null;
  /**
   * Base offset of the first batch below the high watermark that starts at least `bytes` after
   * the first stored byte, or null if there is none.
   */
  firstBatchFromByte(bytes: number): number | null;
}

/** A topic's retention configs (TopicConfig has these fields). */
export interface RetentionConfig {
  /** -1: keep forever. */
  retentionMs: number;
  /** Per partition; -1: no limit. */
  retentionBytes: number;
  /** delete, compact, or compact,delete. */
  cleanupPolicy: string;
}

export interface RetentionDecision {
  /** Delete every batch below this offset and make it the log start. */
  deleteBefore: number;
  /** Set when time retention deletes something: records older than this (ms since the epoch) go. */
  olderThan?: number;
  /** Set when size retention deletes something: the partition held this many bytes, over the limit. */
  sizeBytes?: number;
}

/** True when the topic's cleanup policy includes time and size retention. */
export function deletesByRetention(config: Pick<RetentionConfig, 'cleanupPolicy'>): boolean {
  return config.cleanupPolicy.split(',').includes('delete');
}

/** The offset to delete before, and why, or null when nothing is due. */
export function decideRetention(view: RetentionView, config: RetentionConfig, now: number): RetentionDecision | null {
  if (!deletesByRetention(config)) return null;
  const start = view.logStartOffset;
  const hw = view.deletableEnd;
  if (hw <= start) return null;

  let timeCut = start;
  let olderThan: number | undefined;
  if (config.retentionMs >= 0) {
    olderThan = now - config.retentionMs;
    timeCut = view.firstBatchWithTimestampAtLeast(olderThan) ?? hw;
  }
  let sizeCut = start;
  if (config.retentionBytes >= 0 && view.sizeBytes > config.retentionBytes) {
    sizeCut = view.firstBatchFromByte(view.sizeBytes - config.retentionBytes) ?? hw;
  }
  const cut = Math.min(hw, Math.max(timeCut, sizeCut));
  if (cut <= start) return null;
  return {
    deleteBefore: cut,
    ...(timeCut > start && olderThan !== undefined ? { olderThan } : {}),
    ...(sizeCut > start ? { sizeBytes: view.sizeBytes } : {}),
  };
}

/** Free pages are returned to the file system once they are at least this share of the file. */
export const RELEASE_FREE_SHARE = 0.1;

/**
 * Whether to return free pages to the file system now. Releasing moves live pages from the end
 * of the file into the holes (I/O about the size freed), while free pages left in the file are
 * reused by the next appends at no cost. So a steady trickle of retention is left for reuse, and
 * the file is shrunk when much is free (a topic deleted, retention lowered) or the disk guard is
 * refusing records.
 */
export function shouldReleaseFreePages(freePages: number, totalPages: number, diskPressure: boolean): boolean {
  if (freePages <= 0) return false;
  return diskPressure || freePages >= totalPages * RELEASE_FREE_SHARE;
}
