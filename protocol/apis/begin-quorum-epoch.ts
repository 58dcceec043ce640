import { int16, int32, nullableString, struct, type Infer } from '../wire/schema.js';

/**
 * BeginQuorumEpoch (key 53, KIP-595), peer only: a newly elected leader tells the voters of the
 * metadata quorum that it leads leaderEpoch, so they stop their election timers and fetch from it.
 */
export const BeginQuorumEpochRequestV0 = struct({
  clusterId: nullableString,
  leaderId: int32,
  leaderEpoch: int32,
});

export const BeginQuorumEpochResponseV0 = struct({
  errorCode: int16,
  errorMessage: nullableString,
  /** The leader and epoch the receiver now knows (a newer one if the request was stale). */
  leaderId: int32,
  leaderEpoch: int32,
});

export type BeginQuorumEpochRequest = Infer<typeof BeginQuorumEpochRequestV0>;
export type BeginQuorumEpochResponse = Infer<typeof BeginQuorumEpochResponseV0>;
