import { array, int16, int32, int64, nullableString, string, struct, type Infer } from '../wire/schema.js';

/** Special timestamps, as in Kafka. */
export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;

/**
 * ListOffsets (key 2). timestamp -1: the high watermark (next offset a consumer will see);
 * -2: the log start offset; otherwise the first offset whose record timestamp is ≥ timestamp
 * (offset -1 if there is none).
 */
export const ListOffsetsRequestV0 = struct({
  topics: array(struct({ name: string, partitions: array(struct({ partition: int32, timestamp: int64 })) })),
});

export const ListOffsetsResponseV0 = struct({
  topics: array(
    struct({
      name: string,
      partitions: array(
        struct({ partition: int32, errorCode: int16, errorMessage: nullableString, timestamp: int64, offset: int64 }),
      ),
    }),
  ),
});

export type ListOffsetsRequest = Infer<typeof ListOffsetsRequestV0>;
export type ListOffsetsResponse = Infer<typeof ListOffsetsResponseV0>;
