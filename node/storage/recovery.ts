/**
 * The tail check run when a partition is opened after an unclean shutdown. Pure logic over the
 * stored rows: the caller reads them and acts on the verdict.
 *
 * SQLite's WAL already makes each commit atomic, so a torn *SQLite* write cannot surface; what
 * this guards against is a damaged file (bad sector, SD-card bit rot, a copy made mid-write)
 * and bugs: every batch must still validate, sit at the offset and position its row claims,
 * and follow its predecessor (with gaps where compaction removed records).
 */
import { isEddyError } from '../../protocol/errors.js';
import { lastOffsetOf, validateBatch } from '../../protocol/record-batch.js';

export interface StoredBatchRow {
  baseOffset: number;
  lastOffset: number;
  position: number;
  batch: Uint8Array;
}

export interface TailVerdict {
  /** The first row that failed, or null if all passed. It and every later row must go. */
  firstBad: StoredBatchRow | null;
  reason: string | null;
  /** Rows that passed. */
  verified: number;
}

/**
 * Checks rows in offset order. `before` is the row preceding the first one (null at the log
 * start), for the continuity checks.
 */
export function checkTail(
  rows: Iterable<StoredBatchRow>,
  before: { lastOffset: number; endPosition: number } | null,
  maxDecompressedBytes: number,
): TailVerdict {
  let prev = before;
  let verified = 0;
  for (const row of rows) {
    const reason = checkRow(row, prev, maxDecompressedBytes);
    if (reason) return { firstBad: row, reason, verified };
    prev = { lastOffset: row.lastOffset, endPosition: row.position + row.batch.length };
    verified++;
  }
  return { firstBad: null, reason: null, verified };
}

function checkRow(
  row: StoredBatchRow,
  prev: { lastOffset: number; endPosition: number } | null,
  maxDecompressedBytes: number,
): string | null {
  let header;
  try {
    header = validateBatch(row.batch, { maxBatchBytes: Infinity, maxDecompressedBytes, denseOffsets: false });
  } catch (err) {
    if (isEddyError(err)) return err.detail;
    throw err;
  }
  if (header.baseOffset !== row.baseOffset) {
    return `row key ${row.baseOffset} but the batch says base offset ${header.baseOffset}`;
  }
  if (lastOffsetOf(header) !== row.lastOffset) {
    return `row says last offset ${row.lastOffset} but the batch ends at ${lastOffsetOf(header)}`;
  }
  if (prev && row.baseOffset <= prev.lastOffset) {
    return `base offset ${row.baseOffset} overlaps the previous batch ending at ${prev.lastOffset}`;
  }
  // Compaction shrinks or removes batches in place and leaves later positions as they were, so
  // positions may jump forward; they must never go back.
  if (prev && row.position < prev.endPosition) {
    return `byte position ${row.position} overlaps the previous batch, which ends at ${prev.endPosition}`;
  }
  return null;
}

/** The rows and the continuity facts the tail check needs, read from a partition's table. */
interface TailSource {
  floor(offset: number): [baseOffset: number, lastOffset: number, runningMaxTs: number, position: number, length: number] | undefined;
  rowsFrom(from: number): Generator<StoredBatchRow>;
}

/**
 * Checks a partition's stored batches from the one holding `from` to the end. On failure,
 * `before` is the last good row before the first bad one (null: none), where the log now ends.
 */
export function verifyTail(
  table: TailSource,
  from: number,
  logStartOffset: number,
  maxDecompressedBytes: number,
): TailVerdict & { before: ReturnType<TailSource['floor']> | null } {
  const startOffset = table.floor(from)?.[0] ?? logStartOffset;
  const beforeRow = table.floor(startOffset - 1);
  const rows = table.rowsFrom(startOffset);
  try {
    const verdict = checkTail(rows, beforeRow ? { lastOffset: beforeRow[1], endPosition: beforeRow[3] + beforeRow[4] } : null, maxDecompressedBytes);
    const before = verdict.firstBad ? (table.floor(verdict.firstBad.baseOffset - 1) ?? null) : null;
    return { ...verdict, before };
  } finally {
    rows.return(undefined);
  }
}
