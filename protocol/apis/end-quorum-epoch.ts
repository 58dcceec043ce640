import { array, int16, int32, nullableString, struct, type Infer } from '../wire/schema.js';

/**
 * EndQuorumEpoch (key 54, KIP-595), peer only: a leader that resigns (shutting down) tells the
 * voters, so an election starts at once rather than after a fetch timeout. preferredSuccessors
 * lists voter ids, most caught up first: each voter waits longer the later it appears, so the
 * best-placed one usually stands first.
 */
export const EndQuorumEpochRequestV0 = struct({
  clusterId: nullableString,
  leaderId: int32,
  leaderEpoch: int32,
  preferredSuccessors: array(int32),
});

export const EndQuorumEpochResponseV0 = struct({
  errorCode: int16,
  errorMessage: nullableString,
  leaderId: int32,
  leaderEpoch: int32,
});

export type EndQuorumEpochRequest = Infer<typeof EndQuorumEpochRequestV0>;
export type EndQuorumEpochResponse = Infer<typeof EndQuorumEpochResponseV0>;
