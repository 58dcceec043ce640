import { array, bool, int16, int32, nullableString, string, struct, type Infer } from '../wire/schema.js';

/**
 * CreatePartitions (key 37): raise a topic's partition count to `count` (the new total, as in
 * Kafka). Partitions are never removed. validateOnly checks without changing anything.
 */
export const CreatePartitionsRequestV0 = struct({
  topics: array(struct({ name: string, count: int32 })),
  timeoutMs: int32,
  validateOnly: bool,
});

export const CreatePartitionsResponseV0 = struct({
  topics: array(struct({ name: string, errorCode: int16, errorMessage: nullableString })),
});

export type CreatePartitionsRequest = Infer<typeof CreatePartitionsRequestV0>;
export type CreatePartitionsResponse = Infer<typeof CreatePartitionsResponseV0>;
