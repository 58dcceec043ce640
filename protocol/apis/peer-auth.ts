import { bytes, int16, int32, nullableString, string, struct, type Infer } from '../wire/schema.js';

/**
 * The peer link handshake, Eddy's own (keys ≥ 1000 are outside Kafka's range). Both nodes hold
 * the cluster secret; each proves it by an HMAC over the other's fresh nonce, so neither the
 * secret nor a replayable answer crosses the wire. The proofs are computed by the peer link;
 * these are only its frames. Until PeerProof succeeds, the link accepts nothing else.
 *
 *   dialer → PeerHello { clusterId, nodeId, nonce }
 *   answer ← { clusterId, nodeId, nonce, proof }       proof: the answerer's HMAC over the dialer's nonce
 *   dialer → PeerProof { proof }                       proof: the dialer's HMAC over the answerer's nonce
 *   answer ← { errorCode, errorMessage }
 */
export const PeerHelloRequestV0 = struct({
  clusterId: string,
  nodeId: int32,
  nonce: bytes,
});

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

export type PeerHelloRequest = Infer<typeof PeerHelloRequestV0>;
export type PeerHelloResponse = Infer<typeof PeerHelloResponseV0>;
export type PeerProofRequest = Infer<typeof PeerProofRequestV0>;
export type PeerProofResponse = Infer<typeof PeerProofResponseV0>;
