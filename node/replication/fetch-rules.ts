/**
 * The rules of a follower's fetch, both ends, as pure logic over leader epoch caches (KIP-101,
 * KIP-279, KIP-320, with the diverging-epoch answer of KIP-595 that Kafka's Fetch has carried
 * since 2.7):
 *
 * - The leader checks the epoch the follower believes current (a stale leader or follower gets
 *   FENCED_LEADER_EPOCH, one ahead UNKNOWN_LEADER_EPOCH), then whether the follower's log
 *   diverged: the end of the follower's last fetched epoch in the leader's log is before the
 *   fetch offset (or the leader's log has that epoch only as an older one). Then it answers with
 *   a diverging epoch and end offset instead of records; a fetch offset outside the log is
 *   OFFSET_OUT_OF_RANGE.
 * - The follower truncates to where its own log and the leader's agree on that epoch: the
 *   smaller of the leader's end offset and its own end of that epoch. If it does not hold that
 *   epoch itself the truncation is not known to be complete: it fetches again with the epoch it
 *   now ends in, and the leader answers again.
 */
import type { LeaderEpochCache } from '../storage/leader-epoch-cache.js';
import { UNDEFINED_EPOCH } from '../storage/leader-epoch-cache.js';

export interface LeaderLogView {
  readonly leaderEpoch: number;
  readonly cache: LeaderEpochCache;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
}

export interface ReplicaFetch {
  /** The leader epoch the follower believes current; -1: not checked. */
  readonly currentLeaderEpoch: number;
  readonly fetchOffset: number;
  /** The epoch of the follower's last record; -1: not known (then no divergence check). */
  readonly lastFetchedEpoch: number;
}

export type FetchCheck =
  | { readonly kind: 'read' }
  | { readonly kind: 'diverging'; readonly epoch: number; readonly endOffset: number }
  | { readonly kind: 'error'; readonly error: 'FENCED_LEADER_EPOCH' | 'UNKNOWN_LEADER_EPOCH' | 'OFFSET_OUT_OF_RANGE'; readonly detail: string };

export function checkReplicaFetch(leader: LeaderLogView, req: ReplicaFetch): FetchCheck {
  if (req.currentLeaderEpoch >= 0 && req.currentLeaderEpoch < leader.leaderEpoch) {
    return { kind: 'error', error: 'FENCED_LEADER_EPOCH', detail: `the fetch names leader epoch ${req.currentLeaderEpoch}; the partition is in epoch ${leader.leaderEpoch}` };
  }
  if (req.currentLeaderEpoch > leader.leaderEpoch) {
    return { kind: 'error', error: 'UNKNOWN_LEADER_EPOCH', detail: `the fetch names leader epoch ${req.currentLeaderEpoch}, newer than this leader's ${leader.leaderEpoch}` };
  }
  if (req.lastFetchedEpoch >= 0) {
    const end = leader.cache.endOffsetFor(req.lastFetchedEpoch, leader.logEndOffset);
    if (end.epoch === UNDEFINED_EPOCH || end.epoch < req.lastFetchedEpoch || end.endOffset < req.fetchOffset) {
      return { kind: 'diverging', epoch: end.epoch, endOffset: end.endOffset };
    }
  }
  if (req.fetchOffset < leader.logStartOffset || req.fetchOffset > leader.logEndOffset) {
    return { kind: 'error', error: 'OFFSET_OUT_OF_RANGE', detail: `offset ${req.fetchOffset} is outside the log (${leader.logStartOffset} to ${leader.logEndOffset})` };
  }
  return { kind: 'read' };
}

export interface FollowerLogView {
  readonly cache: LeaderEpochCache;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly highWatermark: number;
}

/**
 * Where the follower truncates on a diverging answer, and whether that is known to be the
 * divergence point (`complete`), or it must fetch again with its new last epoch to find out.
 * Never below its log start; with no epoch in common (epoch -1), back to its high watermark.
 */
export function truncationPoint(follower: FollowerLogView, diverging: { epoch: number; endOffset: number }): { offset: number; complete: boolean } {
  const floor = (o: number) => Math.max(follower.logStartOffset, Math.min(o, follower.logEndOffset));
  if (diverging.epoch === UNDEFINED_EPOCH) return { offset: floor(follower.highWatermark), complete: false };
  const own = follower.cache.endOffsetFor(diverging.epoch, follower.logEndOffset);
  if (own.epoch === UNDEFINED_EPOCH) return { offset: floor(Math.min(diverging.endOffset, follower.highWatermark)), complete: false };
  return { offset: floor(Math.min(diverging.endOffset, own.endOffset)), complete: own.epoch === diverging.epoch };
}
