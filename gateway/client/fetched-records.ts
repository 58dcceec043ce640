/**
 * Turning one partition's Fetch `records` bytes into consumer records. Pure, so the offset rules
 * are unit-tested without a node:
 * - the first batch may start before the fetch position (the node serves whole batches): records
 *   below the position are skipped;
 * - a trailing partial batch (cut by maxBytes) is ignored, and fetched again next time;
 * - the position moves past the last whole batch, even where records inside it are missing
 *   (compaction leaves gaps), so the consumer never refetches the same batch forever.
 */
import { crc32c } from '../../protocol/crc32c.js';
import { EddyError } from '../../protocol/errors.js';
import type { FetchResponse } from '../../protocol/apis/fetch.js';
import { tpKey } from './topic-partition.js';
import {
  forEachRecord,
  Field,
  lastOffsetOf,
  readBatchHeader,
  splitBatches,
  type RecordHeader,
} from '../../protocol/record-batch.js';

/** A record as the consumer returns it. Key and value are raw bytes (null when absent). */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: number;
  /** Milliseconds since the epoch (CreateTime, or LogAppendTime if the topic uses it). */
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}

export interface FetchedRecords {
  records: ConsumedRecord[];
  /** The position after these bytes: where the next fetch starts. */
  nextPosition: number;
  /** Bytes were returned but not one whole batch: the first batch is larger than the fetch limit. */
  stalled: boolean;
}

export function recordsFromFetch(
  topic: string,
  partition: number,
  bytes: Uint8Array,
  position: number,
  checkCrcs = true,
): FetchedRecords {
  const records: ConsumedRecord[] = [];
  let nextPosition = position;
  const batches = splitBatches(bytes);
  for (const batch of batches) {
    const header = readBatchHeader(batch);
    const last = lastOffsetOf(header);
    if (last < nextPosition) continue;
    // Kafka's check.crcs: a damaged stored batch must not turn into wrong records silently.
    if (checkCrcs && crc32c(batch, Field.attributes) !== header.crc) {
      throw new EddyError('CORRUPT_MESSAGE', `${topic}-${partition}: batch at offset ${header.baseOffset} fails its CRC`);
    }
    if (!header.isControl) {
      const from = nextPosition;
      forEachRecord(batch, (offset, timestamp, key, value, headers) => {
        if (offset >= from) records.push({ topic, partition, offset, timestamp, key, value, headers });
      });
    }
    nextPosition = last + 1;
  }
  return { records, nextPosition, stalled: bytes.length > 0 && batches.length === 0 };
}

/**
 * Where each fetched partition's position will be once this response is applied, read from the
 * batch headers only (no decoding), or null when the response holds an error or no records: then
 * no prefetch, and the normal path decides.
 */
export function positionsAfter(sent: ReadonlyMap<string, number>, res: FetchResponse | null): Map<string, number> | null {
  if (!res) return null;
  const out = new Map(sent);
  let any = false;
  for (const t of res.topics) {
    for (const p of t.partitions) {
      if (p.errorCode !== 0) return null;
      const key = tpKey(t.name, p.partition);
      let next = sent.get(key);
      if (next === undefined) return null;
      for (const b of splitBatches(p.records)) next = Math.max(next, lastOffsetOf(readBatchHeader(b)) + 1);
      if (next !== sent.get(key)) any = true;
      out.set(key, next);
    }
  }
  return any ? out : null;
}
