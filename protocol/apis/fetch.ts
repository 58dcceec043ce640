import { array, bytes, int16, int32, int64, int8, nullableString, string, struct, type Infer } from '../wire/schema.js';
import { EpochEndOffset, LeaderIdAndEpoch, NO_EPOCH, NO_NODE, NO_OFFSET, SnapshotId } from './epoch-types.js';

export { NO_EPOCH, NO_OFFSET } from './epoch-types.js';

/** Kafka's ReplicaId of an ordinary consumer (and of every v0 request). */
export const CONSUMER_REPLICA_ID = -1;

/**
 * Kafka's isolation_level. READ_COMMITTED reads up to the last stable offset, which equals the
 * high watermark until Eddy has transactions; neither ever reads past the high watermark.
 */
export const IsolationLevel = { READ_UNCOMMITTED: 0, READ_COMMITTED: 1 } as const;

const FetchTopics = array(
  struct({
    name: string,
    partitions: array(struct({ partition: int32, fetchOffset: int64, partitionMaxBytes: int32 })),
  }),
);

/**
 * Fetch (key 1) v0. Waits up to maxWaitMs for minBytes to accumulate. No replicaId: the sender
 * is a consumer (replicaId −1).
 */
export const FetchRequestV0 = struct({
  maxWaitMs: int32,
  minBytes: int32,
  maxBytes: int32,
  isolation: int8,
  topics: FetchTopics,
});

/**
 * Fetch v1: Kafka's ReplicaId first (−1 for consumers; a broker's node id for a follower
 * fetch, which reads to the log end offset), then the v0 fields.
 */
export const FetchRequestV1 = struct({
  replicaId: int32,
  ...FetchRequestV0.fields,
});

export const FetchResponseV0 = struct({
  topics: array(
    struct({
      name: string,
      partitions: array(
        struct({
          partition: int32,
          errorCode: int16,
          errorMessage: nullableString,
          highWatermark: int64,
          logStartOffset: int64,
          logEndOffset: int64,
          /** Whole record batches, concatenated, bytes as stored. */
          records: bytes,
        }),
      ),
    }),
  ),
});

/** v1 answers as v0 does. */
export const FetchResponseV1 = FetchResponseV0;

/**
 * Fetch v2: v1 plus Kafka's per-partition epoch fields (KIP-320, KIP-595), in Kafka's order:
 * currentLeaderEpoch (the leader epoch the sender believes current, −1 unknown), lastFetchedEpoch
 * (a follower's epoch of its last fetched batch, −1 none) and logStartOffset (a follower's log
 * start, −1 for consumers).
 */
export const FetchRequestV2 = struct({
  replicaId: int32,
  maxWaitMs: int32,
  minBytes: int32,
  maxBytes: int32,
  isolation: int8,
  topics: array(
    struct({
      name: string,
      partitions: array(
        struct({
          partition: int32,
          currentLeaderEpoch: int32,
          fetchOffset: int64,
          lastFetchedEpoch: int32,
          logStartOffset: int64,
          partitionMaxBytes: int32,
        }),
      ),
    }),
  ),
});

/**
 * Fetch v2 response: v0's partition fields plus divergingEpoch (where a follower's log leaves the
 * leader's: truncate to endOffset before fetching again; −1/−1 none), currentLeader (the leader
 * as this node knows it) and snapshotId (fetch this snapshot first; −1/−1 none), before records.
 */
export const FetchResponseV2 = struct({
  topics: array(
    struct({
      name: string,
      partitions: array(
        struct({
          partition: int32,
          errorCode: int16,
          errorMessage: nullableString,
          highWatermark: int64,
          logStartOffset: int64,
          logEndOffset: int64,
          divergingEpoch: EpochEndOffset,
          currentLeader: LeaderIdAndEpoch,
          snapshotId: SnapshotId,
          /** Whole record batches, concatenated, bytes as stored. */
          records: bytes,
        }),
      ),
    }),
  ),
});

export type FetchRequestV0 = Infer<typeof FetchRequestV0>;
export type FetchRequestV1 = Infer<typeof FetchRequestV1>;
/** The newest request: what handlers receive, whatever version arrived. */
export type FetchRequest = Infer<typeof FetchRequestV2>;
export type FetchResponse = Infer<typeof FetchResponseV2>;

/** The v2 response fields that say "nothing to report": no divergence, no snapshot. */
export const NO_DIVERGING_EPOCH = { epoch: NO_EPOCH, endOffset: NO_OFFSET } as const;
export const NO_SNAPSHOT_ID = { endOffset: NO_OFFSET, epoch: NO_EPOCH } as const;

/**
 * A v2 partition answer's epoch fields with nothing to report: no divergence, no snapshot, and
 * currentLeader −1/−1 (Kafka's "unknown": keep the leader you had). What the node sends until
 * replication fills them.
 */
export const NO_FETCH_EPOCHS = { divergingEpoch: NO_DIVERGING_EPOCH, currentLeader: { leaderId: NO_NODE, leaderEpoch: NO_EPOCH }, snapshotId: NO_SNAPSHOT_ID } as const;

/** A consumer's v2 partition fields: it knows no leader epoch and has no log of its own (Kafka's −1s). */
export const CONSUMER_PARTITION_EPOCHS = { currentLeaderEpoch: NO_EPOCH, lastFetchedEpoch: NO_EPOCH, logStartOffset: NO_OFFSET } as const;

/** A v1 request as v2: no leader epoch known, nothing fetched before, no log start (a consumer's values). */
export const upgradeFetchV1 = (req: FetchRequestV1): FetchRequest => ({
  ...req,
  topics: req.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => ({ ...p, ...CONSUMER_PARTITION_EPOCHS })),
  })),
});

/** A v0 request as v2: it came from a consumer. */
export const upgradeFetchV0 = (req: FetchRequestV0): FetchRequest => upgradeFetchV1({ replicaId: CONSUMER_REPLICA_ID, ...req });
