import { array, int16, int32, int64, nullableString, struct, type Infer } from '../wire/schema.js';

/**
 * DescribeQuorum (key 55, KIP-595/KIP-836): the metadata quorum as its leader sees it, for
 * `eddy cluster describe`. A client API (the CLI sends it over the client port). The request has
 * no fields: Eddy has one metadata log.
 */
export const DescribeQuorumRequestV0 = struct({});

/** One replica of the metadata log as the leader tracks it; timestamps are ms since the epoch, −1 unknown. */
const ReplicaState = struct({
  replicaId: int32,
  logEndOffset: int64,
  lastFetchTimestamp: int64,
  lastCaughtUpTimestamp: int64,
});

export const DescribeQuorumResponseV0 = struct({
  errorCode: int16,
  errorMessage: nullableString,
  leaderId: int32,
  leaderEpoch: int32,
  highWatermark: int64,
  currentVoters: array(ReplicaState),
  observers: array(ReplicaState),
});

export type DescribeQuorumRequest = Infer<typeof DescribeQuorumRequestV0>;
export type DescribeQuorumResponse = Infer<typeof DescribeQuorumResponseV0>;
