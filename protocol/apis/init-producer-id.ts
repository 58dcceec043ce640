import { int16, int32, int64, nullableString, struct, type Infer } from '../wire/schema.js';

/**
 * Batches a partition remembers per idempotent producer, so the most one may have in flight per
 * partition. Kafka's is five; Eddy's group commit turns more appends in flight into fewer syncs.
 */
export const IDEMPOTENT_MAX_IN_FLIGHT = 16;

/**
 * InitProducerId (key 22): a producer id and epoch for an idempotent producer. producerId -1
 * asks for a new id (epoch 0); an existing id and epoch ask for the next epoch of that id
 * (KIP-360: after an error, so that partitions fence the old one). Transactions are not
 * supported: transactionalId must be null (INVALID_REQUEST otherwise).
 */
export const InitProducerIdRequestV0 = struct({
  transactionalId: nullableString,
  transactionTimeoutMs: int32,
  producerId: int64,
  producerEpoch: int16,
});

export const InitProducerIdResponseV0 = struct({ producerId: int64, producerEpoch: int16 });

export type InitProducerIdRequest = Infer<typeof InitProducerIdRequestV0>;
export type InitProducerIdResponse = Infer<typeof InitProducerIdResponseV0>;
