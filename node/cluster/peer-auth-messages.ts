/**
 * The messages of the peer-link handshake (peer-auth.ts) and their JSON text form, for a
 * transport that sends text frames. Decoding checks every field: a peer is not trusted until
 * the handshake ends, so anything malformed is refused, never thrown.
 */
import { CLUSTER_ID_PATTERN } from './cluster-file.js';
import { MAX_NODE_ID } from './voters.js';

export const NONCE_BYTES = 32;
/** HMAC-SHA256 output. */
export const PROOF_BYTES = 32;

export const PEER_AUTH_REFUSALS = [
  'MALFORMED_MESSAGE',
  'UNEXPECTED_MESSAGE',
  'CLUSTER_ID_MISMATCH',
  'UNEXPECTED_NODE_ID',
  'SAME_NODE_ID',
  'UNKNOWN_NODE_ID',
  'BAD_PROOF',
  'REFUSED_BY_PEER',
] as const;
export type PeerAuthRefusal = (typeof PEER_AUTH_REFUSALS)[number];

export type PeerAuthMessage =
  /** Initiator → acceptor: who I am, whom I mean to reach, and my nonce. */
  | { type: 'hello'; clusterId: string; nodeId: number; peerNodeId: number; nonce: Buffer }
  /** Acceptor → initiator: who I am, my nonce, and my proof over both nonces. */
  | { type: 'challenge'; clusterId: string; nodeId: number; nonce: Buffer; proof: Buffer }
  /** Initiator → acceptor: my proof over both nonces. */
  | { type: 'proof'; proof: Buffer }
  /** Acceptor → initiator: the link is authenticated both ways. */
  | { type: 'accepted' }
  /** Either way: the handshake is over; the code says why (no more, to an unauthenticated peer). */
  | { type: 'refused'; code: PeerAuthRefusal };

export function encodePeerAuthMessage(m: PeerAuthMessage): string {
  // Buffer's own toJSON runs before a replacer would, so the byte fields are turned into text here.
  const out: Record<string, unknown> = { ...m };
  for (const key of ['nonce', 'proof']) if (Buffer.isBuffer(out[key])) out[key] = (out[key] as Buffer).toString('base64');
  return JSON.stringify(out);
}

/** The message in `text`, or null when it is not one (bad JSON, a missing or wrong field). */
export function decodePeerAuthMessage(text: string): PeerAuthMessage | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text, (key, value: unknown) => {
      if ((key === 'nonce' || key === 'proof') && typeof value === 'string') {
        return /^[A-Za-z0-9+/]*={0,2}$/.test(value) ? Buffer.from(value, 'base64') : value;
      }
      return value;
    });
  } catch {
    return null;
  }
  return checkPeerAuthMessage(raw);
}

const isNodeId = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_NODE_ID;
const isBytes = (v: unknown, n: number): v is Buffer => Buffer.isBuffer(v) && v.length === n;
const isClusterId = (v: unknown): v is string => typeof v === 'string' && CLUSTER_ID_PATTERN.test(v);

/** `raw` as a message if every field it needs is there and well formed, else null. */
export function checkPeerAuthMessage(raw: unknown): PeerAuthMessage | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const m = raw as Record<string, unknown>;
  switch (m.type) {
    case 'hello':
      return isClusterId(m.clusterId) && isNodeId(m.nodeId) && isNodeId(m.peerNodeId) && isBytes(m.nonce, NONCE_BYTES)
        ? { type: 'hello', clusterId: m.clusterId, nodeId: m.nodeId, peerNodeId: m.peerNodeId, nonce: m.nonce }
        : null;
    case 'challenge':
      return isClusterId(m.clusterId) && isNodeId(m.nodeId) && isBytes(m.nonce, NONCE_BYTES) && isBytes(m.proof, PROOF_BYTES)
        ? { type: 'challenge', clusterId: m.clusterId, nodeId: m.nodeId, nonce: m.nonce, proof: m.proof }
        : null;
    case 'proof':
      return isBytes(m.proof, PROOF_BYTES) ? { type: 'proof', proof: m.proof } : null;
    case 'accepted':
      return { type: 'accepted' };
    case 'refused':
      return (PEER_AUTH_REFUSALS as readonly unknown[]).includes(m.code) ? { type: 'refused', code: m.code as PeerAuthRefusal } : null;
    default:
      return null;
  }
}
