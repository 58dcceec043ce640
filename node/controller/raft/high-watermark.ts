/**
 * The leader's high watermark rule (KIP-595): the largest offset held durably by a majority of
 * voters, counting the leader only up to its own durable end, and only once that offset lies in
 * the leader's own epoch (Raft §5.4.2: an entry of an older epoch is committed only indirectly).
 * Observers never count. The caller keeps the result monotonic: the HW never moves backwards.
 */
import { majority } from './quorum-state.js';

export interface HighWatermarkInput {
  /** Durable end offset per voter (the leader's own, and each follower's last valid fetch offset; -1 unknown). */
  readonly voterEndOffsets: readonly number[];
  /** Offset of the leader's first entry in its epoch (its LeaderChange record). */
  readonly epochStartOffset: number;
  readonly currentHighWatermark: number;
  /** Deliberate bug for the simulation's self-test: take the best single voter instead of a majority. */
  readonly minorityCommit?: boolean;
}

/** The new high watermark, or the current one when the majority end has not reached the leader's epoch. */
export function nextHighWatermark(input: HighWatermarkInput): number {
  const sorted = [...input.voterEndOffsets].sort((a, b) => b - a);
  const need = input.minorityCommit ? 1 : majority(sorted.length);
  const candidate = sorted[need - 1] ?? -1;
  // Only an offset past the leader's first own-epoch entry commits: that entry is then
  // committed, and with it every earlier entry (Log Matching).
  if (candidate <= input.epochStartOffset) return input.currentHighWatermark;
  return Math.max(input.currentHighWatermark, candidate);
}
