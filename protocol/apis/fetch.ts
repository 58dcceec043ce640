import { array, bytes, int16, int32, int64, int8, nullableString, string, struct, type Infer } from '../wire/schema.js';

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

export type FetchRequestV0 = Infer<typeof FetchRequestV0>;
/** The newest request: what handlers receive, whatever version arrived. */
export type FetchRequest = Infer<typeof FetchRequestV1>;
export type FetchResponse = Infer<typeof FetchResponseV1>;

/** A v0 request as v1: it came from a consumer. */
export const upgradeFetchV0 = (req: FetchRequestV0): FetchRequest => ({ replicaId: CONSUMER_REPLICA_ID, ...req });
