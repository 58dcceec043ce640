/**
 * Answers retention's questions (retention.ts) about one partition from its SQLite table, on the
 * read connection, without scanning: the time question is one lookup in the running-max-timestamp
 * index, the size question a binary search over offsets with rowid point reads (byte positions
 * grow with offsets, STORAGE.md). A 1 GB partition costs a few dozen page reads per check.
 */
import type Database from 'better-sqlite3';
import { PartitionLog } from './partition-log.js';
import type { RetentionView } from './retention.js';

interface Statements {
  byTime: Database.Statement;
  floor: Database.Statement;
  floorLast: Database.Statement;
  first: Database.Statement;
}

const prepared = new WeakMap<PartitionLog, Statements>();

function statements(reader: Database.Database, log: PartitionLog): Statements {
  let s = prepared.get(log);
  if (!s) {
    const t = PartitionLog.tableName(log.id);
    s = {
      byTime: reader
        .prepare(
          `SELECT base_offset FROM ${t} WHERE running_max_timestamp >= ? AND base_offset < ?
           ORDER BY running_max_timestamp, base_offset LIMIT 1`,
        )
        .raw(true),
      floor: reader.prepare(`SELECT base_offset, position FROM ${t} WHERE base_offset <= ? ORDER BY base_offset DESC LIMIT 1`).raw(true),
      floorLast: reader.prepare(`SELECT base_offset, last_offset FROM ${t} WHERE base_offset <= ? ORDER BY base_offset DESC LIMIT 1`).raw(true),
      first: reader.prepare(`SELECT base_offset, position FROM ${t} ORDER BY base_offset LIMIT 1`).raw(true),
    };
    prepared.set(log, s);
  }
  return s;
}

/** A snapshot of `log` for one retention decision; `reader` is its store's read connection. */
export function retentionView(reader: Database.Database, log: PartitionLog): RetentionView {
  const s = statements(reader, log);
  const highWatermark = log.highWatermark;
  const holdingHw = s.floorLast.get(highWatermark) as [number, number] | undefined;
  return {
    logStartOffset: log.logStartOffset,
    deletableEnd: holdingHw && holdingHw[1] >= highWatermark ? holdingHw[0] : highWatermark,
    sizeBytes: log.sizeBytes,
    firstBatchWithTimestampAtLeast(timestamp) {
      const row = s.byTime.get(timestamp, highWatermark) as [number] | undefined;
      return row ? row[0] : null;
    },
    firstBatchFromByte(bytes) {
      const first = s.first.get() as [number, number] | undefined;
      if (!first) return null;
      const target = first[1] + bytes;
      // The smallest offset o whose batch starts at or after `target`. "The batch holding o
      // starts at or after target" is monotonic in o and changes only at a batch's base offset,
      // so the answer is a base offset.
      let lo = first[0];
      let hi = highWatermark;
      while (lo < hi) {
        const mid = lo + Math.floor((hi - lo) / 2);
        const row = s.floor.get(mid) as [number, number] | undefined;
        if (row !== undefined && row[1] >= target) hi = mid;
        else lo = mid + 1;
      }
      return lo < highWatermark ? lo : null;
    },
  };
}
