import { array, bool, int16, int32, int64, nullableString, string, struct, type Infer } from '../wire/schema.js';

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

/** v1 (Eddy's): the request is unchanged. */
export const DescribeQuorumRequestV1 = DescribeQuorumRequestV0;

/** A broker registered in the metadata image: its id, where it is reached, and whether it is fenced. */
const RegisteredBroker = struct({
  brokerId: int32,
  endpoint: string,
  fenced: bool,
  brokerEpoch: int64,
});

/**
 * v1 (Eddy's own, not Kafka's): v0 plus the cluster id and the brokers registered in the metadata
 * image, so `eddy cluster describe` needs one call. A v0 answer is the same without the new fields.
 */
export const DescribeQuorumResponseV1 = struct({
  errorCode: int16,
  errorMessage: nullableString,
  clusterId: nullableString,
  leaderId: int32,
  leaderEpoch: int32,
  highWatermark: int64,
  currentVoters: array(ReplicaState),
  observers: array(ReplicaState),
  brokers: array(RegisteredBroker),
});

export type DescribeQuorumRequest = Infer<typeof DescribeQuorumRequestV1>;
export type DescribeQuorumResponse = Infer<typeof DescribeQuorumResponseV1>;
