import { array, int16, int32, int64, nullableArray, nullableString, string, struct, type Infer } from '../wire/schema.js';

/**
 * OffsetFetch (key 9): the group's committed offsets. topics null: every committed partition.
 * committedOffset -1: nothing committed for that partition.
 */
export const OffsetFetchRequestV0 = struct({
  groupId: string,
  topics: nullableArray(struct({ name: string, partitions: array(int32) })),
});

export const OffsetFetchResponseV0 = struct({
  topics: array(
    struct({
      name: string,
      partitions: array(
        struct({ partition: int32, committedOffset: int64, metadata: nullableString, errorCode: int16, errorMessage: nullableString }),
      ),
    }),
  ),
});

export type OffsetFetchRequest = Infer<typeof OffsetFetchRequestV0>;
export type OffsetFetchResponse = Infer<typeof OffsetFetchResponseV0>;
