import { bool, int16, int32, int64, nullableString, struct, type Infer } from '../wire/schema.js';

/**
 * Vote (key 52, KIP-595), peer only: a candidate asks a voter of the metadata quorum for its vote
 * in candidateEpoch. Eddy's quorum has one metadata log, so Kafka's topics/partitions nesting is
 * dropped; the fields keep Kafka's names. preVote (KIP-996) asks "would you vote for me?"
 * without the voter changing its epoch, so a node cut off from the quorum cannot disrupt it by
 * raising epochs when it returns.
 */
export const VoteRequestV0 = struct({
  clusterId: nullableString,
  candidateEpoch: int32,
  candidateId: int32,
  /** The epoch and offset of the candidate's last log entry: a voter grants only if its log is not longer. */
  lastOffsetEpoch: int32,
  lastOffset: int64,
  preVote: bool,
});

export const VoteResponseV0 = struct({
  errorCode: int16,
  errorMessage: nullableString,
  /** The leader the voter knows (−1 none) and the voter's epoch. */
  leaderId: int32,
  leaderEpoch: int32,
  voteGranted: bool,
});

export type VoteRequest = Infer<typeof VoteRequestV0>;
export type VoteResponse = Infer<typeof VoteResponseV0>;
