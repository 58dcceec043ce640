import { array, int32, nullableArray, nullableString, string, struct, type Infer } from '../wire/schema.js';

const TopicPartitions = struct({ topic: string, partitions: array(int32) });

/**
 * ConsumerGroupHeartbeat (key 68, KIP-848): the only call a group member makes to stay in the
 * group. memberEpoch 0 joins (memberId "" lets the node pick one), -1 leaves, anything else is
 * the epoch the member was last given. null fields mean "unchanged since the last heartbeat".
 *
 * Eddy additions: sessionTimeoutMs (the member's own, within the node's bounds; -1 = default
 * 45 s) and maxWaitMs: the node may hold the heartbeat open up to that long (at most the
 * heartbeat interval) and answers at once when the member's assignment or epoch changes, so a
 * rebalance reaches members in one round trip instead of one heartbeat interval.
 */
export const ConsumerGroupHeartbeatRequestV0 = struct({
  groupId: string,
  memberId: string,
  memberEpoch: int32,
  rebalanceTimeoutMs: int32,
  sessionTimeoutMs: int32,
  subscribedTopicNames: nullableArray(string),
  subscribedTopicRegex: nullableString,
  serverAssignor: nullableString,
  ownedPartitions: nullableArray(TopicPartitions),
  maxWaitMs: int32,
});

/** assignment: everything the member may own now (a revoked partition is simply absent). */
export const ConsumerGroupHeartbeatResponseV0 = struct({
  memberId: string,
  memberEpoch: int32,
  heartbeatIntervalMs: int32,
  assignment: array(TopicPartitions),
});

export type ConsumerGroupHeartbeatRequest = Infer<typeof ConsumerGroupHeartbeatRequestV0>;
export type ConsumerGroupHeartbeatResponse = Infer<typeof ConsumerGroupHeartbeatResponseV0>;
