import { array, bytes, int8, int16, int32, nullableString, string, struct, type Infer } from '../wire/schema.js';

/**
 * The peer link handshake, Eddy's own (keys ≥ 1000 are outside Kafka's range). Both nodes hold
 * the cluster secret; each proves it by an HMAC over the other's fresh nonce, so neither the
 * secret nor a replayable answer crosses the wire. The proofs are computed by the peer link;
 * these are only its frames. Until PeerProof succeeds, the link accepts nothing else.
 *
 *   dialer → PeerHello { clusterId, nodeId, nonce }    v1 adds { role, voters }
 *   answer ← { clusterId, nodeId, nonce, proof }       proof: the answerer's HMAC over the dialer's nonce
 *   dialer → PeerProof { proof }                       proof: the dialer's HMAC over the answerer's nonce
 *   answer ← { errorCode, errorMessage }
 */
export const PeerHelloRequestV0 = struct({
  clusterId: string,
  nodeId: int32,
  nonce: bytes,
});

/** PeerHello v1's `role`: what the dialer says it is (KIP-595: an observer replicates, never votes). */
export const PEER_ROLE_VOTER = 0;
export const PEER_ROLE_OBSERVER = 1;

/**
 * v1: the dialer also declares its role and its `--controller-quorum-voters`, so an observer can
 * link and a node configured with other voters is refused by name (VOTERS_MISMATCH). A v0 hello
 * is read as a voter with the answerer's own voters: all v0 could say.
 */
export const PeerHelloRequestV1 = struct({
  clusterId: string,
  nodeId: int32,
  nonce: bytes,
  role: int8,
  voters: array(struct({ id: int32, url: string })),
});

/** A v0 hello in v1's shape; `voters` is empty, the answerer substitutes its own (peer-server.ts). */
export function upgradePeerHelloV0(req: Infer<typeof PeerHelloRequestV0>): Infer<typeof PeerHelloRequestV1> {
  return { ...req, role: PEER_ROLE_VOTER, voters: [] };
}

export const PeerHelloResponseV0 = struct({
  errorCode: int16,
  errorMessage: nullableString,
  /** The answering node's cluster and id, and its own nonce for the dialer to prove against. */
  clusterId: string,
  nodeId: int32,
  nonce: bytes,
  proof: bytes,
});

export const PeerProofRequestV0 = struct({
  proof: bytes,
});

export const PeerProofResponseV0 = struct({
  errorCode: int16,
  errorMessage: nullableString,
});

export type PeerHelloRequest = Infer<typeof PeerHelloRequestV1>;
export type PeerHelloResponse = Infer<typeof PeerHelloResponseV0>;
export type PeerProofRequest = Infer<typeof PeerProofRequestV0>;
export type PeerProofResponse = Infer<typeof PeerProofResponseV0>;
