import { int16, int32, int64, nullableString, struct, type Infer } from '../wire/schema.js';

/**
 * AllocateProducerIds (key 67, KIP-730), peer only: a node asks the active controller for a
 * block of producer ids, which it then hands out to InitProducerId without asking again. Blocks
 * never overlap, so producer ids stay unique across the cluster.
 */
export const AllocateProducerIdsRequestV0 = struct({
  brokerId: int32,
  brokerEpoch: int64,
});

export const AllocateProducerIdsResponseV0 = struct({
  errorCode: int16,
  errorMessage: nullableString,
  /** The ids producerIdStart to producerIdStart + producerIdLen − 1 are the node's. */
  producerIdStart: int64,
  producerIdLen: int32,
});

export type AllocateProducerIdsRequest = Infer<typeof AllocateProducerIdsRequestV0>;
export type AllocateProducerIdsResponse = Infer<typeof AllocateProducerIdsResponseV0>;
