/**
 * The leader's answer to a Fetch (KIP-595 pull replication), as a pure function of its log:
 * records from the fetch offset when the fetcher's log matches ours, the diverging epoch and
 * its end offset when it does not (the follower truncates, then fetches again), or the
 * snapshot id when the fetcher needs what only the snapshot still holds (KIP-630).
 */
import type { RaftLog } from './raft-log.js';
import type { FetchRequest, SnapshotId } from './raft-messages.js';

export type FetchAnswer =
  | { readonly kind: 'records'; readonly records: ReturnType<RaftLog['slice']> }
  | { readonly kind: 'diverging'; readonly epoch: number; readonly endOffset: number }
  | { readonly kind: 'snapshot'; readonly snapshotId: SnapshotId };

/** What the leader sends back for `req`; `records` answers also mean the fetch offset is valid. */
export function answerFetch(log: RaftLog, req: FetchRequest, maxRecords: number, snapshot: SnapshotId | null): FetchAnswer {
  const start = log.logStartOffset;
  const needSnapshot = (): FetchAnswer => ({ kind: 'snapshot', snapshotId: snapshot ?? log.startSnapshot });
  if (req.fetchOffset < start) return needSnapshot();
  if (req.fetchOffset > 0) {
    const ours = log.endOffsetForEpoch(req.lastFetchedEpoch);
    // The point where the logs part lies inside the snapshot: only the snapshot can repair it.
    if (ours === undefined) return needSnapshot();
    if (ours.epoch !== req.lastFetchedEpoch || ours.endOffset < req.fetchOffset) {
      if (ours.endOffset < start) return needSnapshot();
      return { kind: 'diverging', epoch: ours.epoch, endOffset: Math.min(ours.endOffset, req.fetchOffset) };
    }
  }
  return { kind: 'records', records: log.slice(req.fetchOffset, req.fetchOffset + maxRecords) };
}
