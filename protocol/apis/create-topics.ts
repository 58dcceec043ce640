import { array, bool, int16, int32, nullableString, string, struct, type Infer } from '../wire/schema.js';

/** CreateTopics (key 19). numPartitions ≥ 1; replicationFactor 1 until replication lands. */
export const CreateTopicsRequestV0 = struct({
  topics: array(
    struct({
      name: string,
      numPartitions: int32,
      replicationFactor: int16,
      configs: array(struct({ name: string, value: string })),
    }),
  ),
  timeoutMs: int32,
  validateOnly: bool,
});

export const CreateTopicsResponseV0 = struct({
  topics: array(struct({ name: string, errorCode: int16, errorMessage: nullableString })),
});

export type CreateTopicsRequest = Infer<typeof CreateTopicsRequestV0>;
export type CreateTopicsResponse = Infer<typeof CreateTopicsResponseV0>;
