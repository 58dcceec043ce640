/**
 * The log cleaner's writes (compaction): stored batches rewritten in place or deleted, each only
 * if the row is still the batch the cleaner read. The decisions are in compaction.ts and
 * log-cleaner.ts; this file turns them into SQL for PartitionLog.replaceBatches.
 */
import { EddyError } from '../../protocol/errors.js';
import { Field, lastOffsetOf, readBatchHeader, validateBatch } from '../../protocol/record-batch.js';
import type { TxStep } from './store-types.js';

/**
 * One change the log cleaner makes: the stored batch identified by `original` (as the cleaner
 * read it) becomes `replacement`, or goes (null).
 */
export interface BatchReplacement {
  original: StoredBatchIdentity;
  replacement: Uint8Array | null;
}

/** Enough to recognise a stored batch without keeping its bytes: offsets, length and CRC. */
export interface StoredBatchIdentity {
  baseOffset: number;
  lastOffset: number;
  byteLength: number;
  /** The 4 CRC bytes as stored. */
  crc: Uint8Array;
}

export function storedBatchIdentity(batch: Uint8Array): StoredBatchIdentity {
  const h = readBatchHeader(batch);
  return { baseOffset: h.baseOffset, lastOffset: lastOffsetOf(h), byteLength: batch.length, crc: batch.slice(Field.crc, Field.crc + 4) };
}

/**
 * The steps applying `changes` to table `table`, below the uncleanable offset `to`. A
 * replacement must keep its original's base and last offset (so every offset stays where it is);
 * each step matches the row by base, last offset, length and CRC, so a batch that retention
 * deleted meanwhile stays deleted. Throws INVALID_REQUEST for a change beyond `to` or a
 * replacement spanning other offsets.
 */
export function replacementSteps(table: string, to: number, changes: readonly BatchReplacement[], maxDecompressedBytes: number, label: string): TxStep[] {
  const steps: TxStep[] = [];
  const match = `base_offset = ? AND last_offset = ? AND length(batch) = ? AND substr(batch, ${Field.crc + 1}, 4) = ?`;
  const deleteSql = `DELETE FROM ${table} WHERE ${match}`;
  const updateSql = `UPDATE ${table} SET batch = ?, max_timestamp = ? WHERE ${match}`;
  for (const { original: o, replacement } of changes) {
    const last = o.lastOffset;
    if (last >= to) {
      throw new EddyError('INVALID_REQUEST', `cannot rewrite the batch at ${o.baseOffset}..${last} of ${label}: it reaches the uncleanable offset ${to}`);
    }
    const identity = [o.baseOffset, last, o.byteLength, o.crc];
    if (replacement === null) {
      steps.push({ sql: deleteSql, args: identity });
      continue;
    }
    const r = validateBatch(replacement, { maxBatchBytes: Infinity, maxDecompressedBytes, denseOffsets: false });
    if (r.baseOffset !== o.baseOffset || lastOffsetOf(r) !== last) {
      throw new EddyError('INVALID_REQUEST', `a rewritten batch must span ${o.baseOffset}..${last}; it spans ${r.baseOffset}..${lastOffsetOf(r)}`);
    }
    steps.push({ sql: updateSql, args: [replacement, r.maxTimestamp, ...identity] });
  }
  return steps;
}
