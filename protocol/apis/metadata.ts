import { array, bool, int16, int32, nullableArray, nullableString, string, struct, type Infer } from '../wire/schema.js';

/** Metadata (key 3). topics null = all topics. */
export const MetadataRequestV0 = struct({ topics: nullableArray(string) });

export const MetadataResponseV0 = struct({
  brokers: array(struct({ nodeId: int32, host: string, port: int32 })),
  controllerId: int32,
  topics: array(
    struct({
      errorCode: int16,
      errorMessage: nullableString,
      name: string,
      isInternal: bool,
      partitions: array(
        struct({
          errorCode: int16,
          partition: int32,
          leader: int32,
          leaderEpoch: int32,
          replicas: array(int32),
          isr: array(int32),
        }),
      ),
    }),
  ),
});

export type MetadataRequest = Infer<typeof MetadataRequestV0>;
export type MetadataResponse = Infer<typeof MetadataResponseV0>;
