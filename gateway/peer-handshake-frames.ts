/**
 * The peer handshake's wire frames (PeerHello / PeerProof, protocol/apis/peer-auth.ts) turned
 * into and out of the transport-free state machines' messages (node/cluster/peer-auth.ts).
 *
 * One reconciliation: PeerHello does not name the node it is meant for (the dialer chose it by
 * dialling its URL), so the acceptor reads the hello as addressed to itself. Nothing is lost:
 * the dialer checks the answering node's id, and both proofs are MACs over both ids, so an
 * answer from another node than the one dialled fails with UNEXPECTED_NODE_ID or BAD_PROOF.
 */
import type { PeerAuthMessage, PeerAuthRefusal } from '../node/cluster/peer-auth.js';
import type { PeerIdentityRefusal } from '../node/cluster/peer-identity.js';
import type { ClusterRole, Voter } from '../node/cluster/voters.js';
import { PEER_ROLE_OBSERVER, PEER_ROLE_VOTER, type PeerHelloRequest, type PeerHelloResponse } from '../protocol/apis/peer-auth.js';
import type { ErrorName } from '../protocol/errors.js';

/** Why a peer link was refused: the handshake's codes, the identity check's, and the link's own. */
export type PeerRefusalReason = PeerAuthRefusal | PeerIdentityRefusal | 'HANDSHAKE_TIMEOUT' | 'NO_CLUSTER_SECRET';

/** The error code a refusal goes out with; the reason itself leads the error message. */
export function refusalError(reason: PeerRefusalReason): ErrorName {
  return reason === 'CLUSTER_ID_MISMATCH' ? 'INCONSISTENT_CLUSTER_ID' : 'PEER_AUTHENTICATION_FAILED';
}

const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.length);

/** The acceptor's view of a PeerHello: addressed to `localNodeId`, the node that was dialled. */
export function helloMessage(req: PeerHelloRequest, localNodeId: number): unknown {
  return { type: 'hello', clusterId: req.clusterId, nodeId: req.nodeId, peerNodeId: localNodeId, nonce: buf(req.nonce) };
}

/** The initiator's view of a successful PeerHello answer. */
export function challengeMessage(res: PeerHelloResponse): unknown {
  return { type: 'challenge', clusterId: res.clusterId, nodeId: res.nodeId, nonce: buf(res.nonce), proof: buf(res.proof) };
}

/** The PeerHello answer for the acceptor's challenge. */
export function helloResponse(msg: Extract<PeerAuthMessage, { type: 'challenge' }>): PeerHelloResponse {
  return { errorCode: 0, errorMessage: null, clusterId: msg.clusterId, nodeId: msg.nodeId, nonce: msg.nonce, proof: msg.proof };
}

export function proofMessage(proof: Uint8Array): unknown {
  return { type: 'proof', proof: buf(proof) };
}

/**
 * What the dialer says it is, from its PeerHello of `version`: v1 declares role and voters; a v0
 * hello could say neither, so it is read as before v1, a voter with `localVoters`. A string: why
 * the hello is malformed (a role that is neither voter nor observer).
 */
export function declaredIdentity(version: number, req: PeerHelloRequest, localVoters: Voter[]): { role: ClusterRole; voters: Voter[] } | string {
  if (version === 0) return { role: 'voter', voters: localVoters };
  if (req.role !== PEER_ROLE_VOTER && req.role !== PEER_ROLE_OBSERVER) return `PeerHello role ${req.role} is neither ${PEER_ROLE_VOTER} (voter) nor ${PEER_ROLE_OBSERVER} (observer)`;
  return { role: req.role === PEER_ROLE_OBSERVER ? 'observer' : 'voter', voters: req.voters.map((v) => ({ id: v.id, url: v.url })) };
}
