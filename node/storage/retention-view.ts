/**
 * Answers retention's questions (retention.ts) about one partition from its SQLite table, on the
 * read connection, without scanning: both are binary searches over offsets with rowid point
 * reads, since running maximum timestamps and byte positions grow with offsets (STORAGE.md,
 * offset-search.ts). A 1 GB partition costs a few dozen page reads per check.
 */
import type Database from 'better-sqlite3';
import { firstBaseOffsetReaching } from './offset-search.js';
import { PartitionLog } from './partition-log.js';
import type { RetentionView } from './retention.js';

interface Statements {
  floor: Database.Statement;
  floorLast: Database.Statement;
  first: Database.Statement;
}

/** base_offset, position, running_max_timestamp. */
type Row = [number, number, number];

const prepared = new WeakMap<PartitionLog, Statements>();

function statements(reader: Database.Database, log: PartitionLog): Statements {
  let s = prepared.get(log);
  if (!s) {
    const t = PartitionLog.tableName(log.id);
    s = {
      floor: reader.prepare(`SELECT base_offset, position, running_max_timestamp FROM ${t} WHERE base_offset <= ? ORDER BY base_offset DESC LIMIT 1`).raw(true),
      floorLast: reader.prepare(`SELECT base_offset, last_offset FROM ${t} WHERE base_offset <= ? ORDER BY base_offset DESC LIMIT 1`).raw(true),
      first: reader.prepare(`SELECT base_offset, position, running_max_timestamp FROM ${t} ORDER BY base_offset LIMIT 1`).raw(true),
    };
    prepared.set(log, s);
  }
  return s;
}

/** A snapshot of `log` for one retention decision; `reader` is its store's read connection. */
export function retentionView(reader: Database.Database, log: PartitionLog): RetentionView {
  const s = statements(reader, log);
  const highWatermark = log.highWatermark;
  const floor = (offset: number) => s.floor.get(offset) as Row | undefined;
  const holdingHw = s.floorLast.get(highWatermark) as [number, number] | undefined;
  return {
    logStartOffset: log.logStartOffset,
    deletableEnd: holdingHw && holdingHw[1] >= highWatermark ? holdingHw[0] : highWatermark,
    sizeBytes: log.sizeBytes,
    firstBatchWithTimestampAtLeast(timestamp) {
      const first = s.first.get() as Row | undefined;
      return first ? firstBaseOffsetReaching(floor, first[0], highWatermark, (r) => r[2] >= timestamp) : null;
    },
    firstBatchFromByte(bytes) {
      const first = s.first.get() as Row | undefined;
      if (!first) return null;
      // The first batch that starts at or after the first one's position + bytes.
      const target = first[1] + bytes;
      return firstBaseOffsetReaching(floor, first[0], highWatermark, (r) => r[1] >= target);
    },
  };
}
