import { bool, int16, int32, int64, nullableString, struct, type Infer } from '../wire/schema.js';

/**
 * BrokerHeartbeat (key 63, KIP-631), peer only: a registered node tells the active controller
 * it is alive and how far it has applied the metadata log. The controller unfences a node that
 * has caught up, fences one that misses its session, and answers shouldShutDown once a node that
 * asked to (wantShutDown) leads no partitions.
 */
export const BrokerHeartbeatRequestV0 = struct({
  brokerId: int32,
  brokerEpoch: int64,
  currentMetadataOffset: int64,
  wantFence: bool,
  wantShutDown: bool,
});

export const BrokerHeartbeatResponseV0 = struct({
  errorCode: int16,
  errorMessage: nullableString,
  isCaughtUp: bool,
  isFenced: bool,
  shouldShutDown: bool,
});

export type BrokerHeartbeatRequest = Infer<typeof BrokerHeartbeatRequestV0>;
export type BrokerHeartbeatResponse = Infer<typeof BrokerHeartbeatResponseV0>;
