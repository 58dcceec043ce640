/**
 * Answers retention's questions (retention.ts) about one partition from its log, without
 * scanning: both are binary searches over offsets with rowid point reads, since running maximum
 * timestamps and byte positions grow with offsets (STORAGE.md, offset-search.ts). A 1 GB
 * partition costs a few dozen page reads per check.
 */
import type { PartitionLog } from './partition-log.js';
import type { RetentionView } from './retention.js';

/** A snapshot of `log` (its high watermark now) for one retention decision. */
export function retentionView(log: PartitionLog): RetentionView {
  const highWatermark = log.highWatermark;
  return {
    logStartOffset: log.logStartOffset,
    deletableEnd: log.batchStartOf(highWatermark),
    sizeBytes: log.sizeBytes,
    firstBatchWithTimestampAtLeast: (timestamp) => log.firstBaseOffsetAtTime(timestamp, highWatermark),
    firstBatchFromByte: (bytes) => log.firstBaseOffsetFromByte(bytes, highWatermark),
  };
}
