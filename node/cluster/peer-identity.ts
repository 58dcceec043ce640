/**
 * Which peers a node talks to, once their link is authenticated (peer-auth.ts): a peer is of
 * the same cluster, is not this node itself, and is either one of the voters or declares itself
 * an observer with an id that no voter has. A node that claims to be a voter it is not, or
 * whose voter list differs from ours, is refused: two voter sets would elect two leaders.
 */
import { formatVoters, sameVoters, type ClusterRole, type Voter } from './voters.js';

export interface PeerIdentity {
  clusterId: string;
  nodeId: number;
  voters: Voter[];
  /** What the peer says it is; absent: it is a voter. */
  role?: ClusterRole;
}

export const PEER_IDENTITY_REFUSALS = ['CLUSTER_ID_MISMATCH', 'DUPLICATE_NODE_ID', 'UNKNOWN_NODE_ID', 'OBSERVER_ID_IS_A_VOTER', 'VOTERS_MISMATCH'] as const;
export type PeerIdentityRefusal = (typeof PEER_IDENTITY_REFUSALS)[number];

export interface PeerIdentityProblem {
  code: PeerIdentityRefusal;
  message: string;
}

/** null when `remote` may link with `local`; otherwise the coded reason. */
export function checkPeerIdentity(local: PeerIdentity, remote: PeerIdentity): PeerIdentityProblem | null {
  if (remote.clusterId !== local.clusterId) {
    return { code: 'CLUSTER_ID_MISMATCH', message: `peer node ${remote.nodeId} is in cluster ${remote.clusterId}, this node in ${local.clusterId}` };
  }
  if (remote.nodeId === local.nodeId) {
    return { code: 'DUPLICATE_NODE_ID', message: `peer says it is node ${remote.nodeId}, which is this node's own id: two nodes were given the same --node-id` };
  }
  const isVoter = local.voters.some((v) => v.id === remote.nodeId);
  if ((remote.role ?? 'voter') === 'observer') {
    if (isVoter) return { code: 'OBSERVER_ID_IS_A_VOTER', message: `peer node ${remote.nodeId} says it is an observer, but the voters include node ${remote.nodeId}` };
  } else if (!isVoter) return { code: 'UNKNOWN_NODE_ID', message: `peer node ${remote.nodeId} says it is a voter, but the voters are ${local.voters.map((v) => v.id).join(', ')}` };
  if (!sameVoters(local.voters, remote.voters)) {
    return {
      code: 'VOTERS_MISMATCH',
      message:
        `peer node ${remote.nodeId} has other voters than this node: its --controller-quorum-voters is ${formatVoters(remote.voters) || '(empty)'}, ` +
        `this node's is ${formatVoters(local.voters)} (an observer follows the same voters too)`,
    };
  }
  return null;
}
