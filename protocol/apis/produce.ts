import { array, bytes, int16, int32, int64, nullableString, string, struct, type Infer } from '../wire/schema.js';

/** Produce (key 0). acks: 0 = no response is sent; 1 = leader durable; -1 (all) = ISR durable. */
export const ProduceRequestV0 = struct({
  acks: int16,
  timeoutMs: int32,
  topics: array(
    struct({
      name: string,
      partitions: array(struct({ partition: int32, records: bytes })),
    }),
  ),
});

export const ProduceResponseV0 = struct({
  topics: array(
    struct({
      name: string,
      partitions: array(
        struct({
          partition: int32,
          errorCode: int16,
          errorMessage: nullableString,
          baseOffset: int64,
          logAppendTimeMs: int64,
          logStartOffset: int64,
        }),
      ),
    }),
  ),
});

export type ProduceRequest = Infer<typeof ProduceRequestV0>;
export type ProduceResponse = Infer<typeof ProduceResponseV0>;
