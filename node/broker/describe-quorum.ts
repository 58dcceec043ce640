/**
 * DescribeQuorum (key 55, KIP-595): the metadata quorum as its leader sees it, from the node's
 * QuorumDriver. As in Kafka only the leader answers (it alone sees the replicas' fetches); any
 * other node answers NOT_LEADER_OR_FOLLOWER with the leader it knows in `leaderId` (−1: none yet).
 * v1 adds the cluster id and the brokers registered in the metadata image.
 */
import type { DescribeQuorumRequest, DescribeQuorumResponse } from '../../protocol/apis/describe-quorum.js';
import { ERRORS } from '../../protocol/errors.js';
import type { BrokerContext } from './context.js';

export function handleDescribeQuorum(_req: DescribeQuorumRequest, ctx: BrokerContext): DescribeQuorumResponse {
  const quorum = ctx.quorum;
  const empty = { clusterId: null, leaderEpoch: -1, highWatermark: -1, currentVoters: [], observers: [], brokers: [] };
  if (!quorum) {
    return { ...empty, errorCode: ERRORS.NOT_LEADER_OR_FOLLOWER.code, errorMessage: `node ${ctx.nodeId} runs no metadata quorum replica`, leaderId: -1 };
  }
  const d = quorum.describe();
  if (d.role !== 'leader') {
    const why = d.leaderId === null ? `no metadata leader is elected yet (epoch ${d.leaderEpoch})` : `the metadata leader is node ${d.leaderId} (epoch ${d.leaderEpoch}): ask it`;
    return { ...empty, errorCode: ERRORS.NOT_LEADER_OR_FOLLOWER.code, errorMessage: `node ${ctx.nodeId} is not the metadata leader; ${why}`, leaderId: d.leaderId ?? -1, leaderEpoch: d.leaderEpoch };
  }
  const image = quorum.image;
  return {
    errorCode: 0,
    errorMessage: null,
    clusterId: image.clusterId,
    leaderId: d.leaderId ?? -1,
    leaderEpoch: d.leaderEpoch,
    highWatermark: d.highWatermark,
    currentVoters: d.currentVoters.map((r) => ({ ...r })),
    observers: d.observers.map((r) => ({ ...r })),
    brokers: [...image.brokers.values()]
      .sort((a, b) => a.brokerId - b.brokerId)
      .map((b) => ({ brokerId: b.brokerId, endpoint: b.endpoints.ws, fenced: b.fenced, brokerEpoch: b.brokerEpoch })),
  };
}
