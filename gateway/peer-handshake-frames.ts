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
import type { PeerHelloRequest, PeerHelloResponse } from '../protocol/apis/peer-auth.js';
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
