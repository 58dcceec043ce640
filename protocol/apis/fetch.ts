import { array, bytes, int16, int32, int64, int8, nullableString, string, struct, type Infer } from '../wire/schema.js';

/**
 * Fetch (key 1). Waits up to maxWaitMs for minBytes to accumulate. isolation 0 reads up to the
 * high watermark (consumers); 1 up to the log end offset (replicas, tools).
 */
export const FetchRequestV0 = struct({
  maxWaitMs: int32,
  minBytes: int32,
  maxBytes: int32,
  isolation: int8,
  topics: array(
    struct({
      name: string,
      partitions: array(struct({ partition: int32, fetchOffset: int64, partitionMaxBytes: int32 })),
    }),
  ),
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

export type FetchRequest = Infer<typeof FetchRequestV0>;
export type FetchResponse = Infer<typeof FetchResponseV0>;
