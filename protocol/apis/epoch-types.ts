/**
 * Structs that several APIs share, with Kafka's names: the leader as a node knows it, a snapshot
 * id, and an epoch's end offset. −1 in every field means "none" or "unknown", as in Kafka.
 */
import { int32, int64, struct } from '../wire/schema.js';

/** Kafka's "no epoch" / "no offset" / "no node". */
export const NO_EPOCH = -1;
export const NO_OFFSET = -1;
export const NO_NODE = -1;

/** Kafka's LeaderIdAndEpoch: the leader a node knows and that leader's epoch. */
export const LeaderIdAndEpoch = struct({ leaderId: int32, leaderEpoch: int32 });

/** Kafka's SnapshotId (KIP-630): a snapshot holds the log up to endOffset (exclusive) as of epoch. */
export const SnapshotId = struct({ endOffset: int64, epoch: int32 });

/** Kafka's EpochEndOffset (KIP-320, KIP-595): where an epoch's log ends. */
export const EpochEndOffset = struct({ epoch: int32, endOffset: int64 });
