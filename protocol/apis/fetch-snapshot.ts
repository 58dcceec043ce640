import { bytes, int16, int32, int64, nullableString, struct, type Infer } from '../wire/schema.js';
import { LeaderIdAndEpoch, SnapshotId } from './epoch-types.js';

/**
 * FetchSnapshot (key 59, KIP-630), peer only: a follower whose Fetch answer named a snapshotId
 * (its fetch offset is below the leader's log start) reads that snapshot in pieces, from
 * position, at most maxBytes per request, then fetches the log from snapshotId.endOffset. Kafka's
 * topics/partitions nesting is dropped: the snapshot is of the one metadata log.
 */
export const FetchSnapshotRequestV0 = struct({
  clusterId: nullableString,
  /** The follower's node id. */
  replicaId: int32,
  maxBytes: int32,
  currentLeaderEpoch: int32,
  snapshotId: SnapshotId,
  /** Byte offset in the snapshot to read from. */
  position: int64,
});

export const FetchSnapshotResponseV0 = struct({
  errorCode: int16,
  errorMessage: nullableString,
  snapshotId: SnapshotId,
  currentLeader: LeaderIdAndEpoch,
  /** The whole snapshot's size in bytes. */
  size: int64,
  /** Where these bytes start in the snapshot. */
  position: int64,
  /** The snapshot's bytes from position (Kafka's UnalignedRecords: not cut at batch boundaries). */
  unalignedRecords: bytes,
});

export type FetchSnapshotRequest = Infer<typeof FetchSnapshotRequestV0>;
export type FetchSnapshotResponse = Infer<typeof FetchSnapshotResponseV0>;
