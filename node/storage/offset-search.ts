/**
 * Binary search over a partition's offsets with rowid point reads: how the log answers "where
 * does time T start" and "where does byte B start" without an index.
 *
 * Both questions ask for the first batch whose running maximum timestamp (or byte position)
 * reaches a value. Both columns only grow with the offset, so the answer is found with
 * O(log n) floor lookups (the batch at or before an offset), each a descent of the rowid B-tree.
 * A secondary index would answer the time question in one lookup, but every append would then
 * rewrite an index page as well as the table's: on a gateway producing small batches that was
 * more than a third of the pages written per commit (see STORAGE.md, Write amplification).
 */

/**
 * The smallest base offset o in [from, to) whose batch satisfies `reached`, or null if none;
 * `from` is the first stored batch's base offset.
 * `floor(o)` returns the stored batch holding or preceding offset o (undefined below the first);
 * `reached` must be monotonic in offset (false, then true). Gaps in offsets (compaction) are
 * fine: the predicate only changes at a batch's base offset, so the answer is one.
 */
export function firstBaseOffsetReaching<Row>(floor: (offset: number) => Row | undefined, from: number, to: number, reached: (row: Row) => boolean): number | null {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const row = floor(mid);
    if (row !== undefined && reached(row)) hi = mid;
    else lo = mid + 1;
  }
  return lo < to ? lo : null;
}
