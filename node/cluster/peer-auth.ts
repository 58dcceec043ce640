/**
 * Mutual authentication of a peer link by HMAC-SHA256 challenge–response over a shared secret
 * (--cluster-secret-file). The secret never crosses the wire: each side sends a fresh random
 * nonce, and each proves it knows the secret with
 *   HMAC(secret, label ‖ clusterId ‖ own node id ‖ peer node id ‖ initiator nonce ‖ acceptor nonce)
 *
 *   initiator                          acceptor
 *     hello {clusterId, nodeId, peerNodeId, nonceA}  →
 *                                  ←  challenge {clusterId, nodeId, nonceB, proof(acceptor)}
 *     proof {proof(initiator)}  →
 *                                  ←  accepted            (or, at any step, refused {code})
 *
 * Hazards it closes: a proof is bound to both nonces, so one recorded from an older session is
 * worthless in a new one (each side's own nonce is fresh); the two directions have distinct
 * labels and the ids go in in each side's own order, so a proof cannot be reflected back to
 * its maker; comparison is constant-time (timingSafeEqual). Every field that matters is inside
 * the MAC, so tampering with one in flight makes the proof fail.
 *
 * Pure state machines, one per side, with no transport: a caller feeds them the messages it
 * receives and sends what they return, so TLS (or anything else) can go underneath unchanged.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { checkPeerAuthMessage, NONCE_BYTES, type PeerAuthMessage, type PeerAuthRefusal } from './peer-auth-messages.js';

export * from './peer-auth-messages.js';

/** What a side does next. `send` may accompany `ok` and `refused`: the last message to the peer. */
export type PeerAuthStep =
  | { kind: 'send'; message: PeerAuthMessage }
  | { kind: 'wait' }
  | { kind: 'ok'; peerNodeId: number; message?: PeerAuthMessage }
  | { kind: 'refused'; code: PeerAuthRefusal; /** The code the peer refused with, for REFUSED_BY_PEER. */ peerCode?: PeerAuthRefusal; message?: PeerAuthMessage };

export interface PeerAuthOptions {
  /** The shared secret, as read by readClusterSecret. */
  secret: Buffer;
  clusterId: string;
  /** This node's id. */
  nodeId: number;
  /** Source of nonces; tests inject one. */
  random?: (n: number) => Buffer;
}

const INITIATOR_LABEL = Buffer.from('eddy-peer-auth-v1 initiator\0');
const ACCEPTOR_LABEL = Buffer.from('eddy-peer-auth-v1 acceptor\0');

/** The proof one side gives: every variable-length field is fixed-size or length-prefixed, so no two inputs share bytes. */
export function peerProof(secret: Buffer, label: 'initiator' | 'acceptor', clusterId: string, ownNodeId: number, peerNodeId: number, nonceA: Buffer, nonceB: Buffer): Buffer {
  const ids = Buffer.alloc(8);
  ids.writeUInt32BE(ownNodeId, 0);
  ids.writeUInt32BE(peerNodeId, 4);
  const cluster = Buffer.from(clusterId, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(cluster.length);
  return createHmac('sha256', secret)
    .update(label === 'initiator' ? INITIATOR_LABEL : ACCEPTOR_LABEL)
    .update(len)
    .update(cluster)
    .update(ids)
    .update(nonceA)
    .update(nonceB)
    .digest();
}

function proofMatches(expected: Buffer, got: Buffer): boolean {
  return got.length === expected.length && timingSafeEqual(expected, got);
}

function refuse(code: PeerAuthRefusal): PeerAuthStep {
  return { kind: 'refused', code, message: { type: 'refused', code } };
}

abstract class PeerAuthSide {
  protected readonly secret: Buffer;
  protected readonly clusterId: string;
  protected readonly nodeId: number;
  protected readonly random: (n: number) => Buffer;
  #done: PeerAuthStep | null = null;

  constructor(opts: PeerAuthOptions) {
    if (opts.secret.length === 0) throw new Error('peer authentication needs a secret');
    this.secret = opts.secret;
    this.clusterId = opts.clusterId;
    this.nodeId = opts.nodeId;
    this.random = opts.random ?? randomBytes;
  }

  /** The handshake's outcome once it has one (`ok` or `refused`), else null. */
  get outcome(): PeerAuthStep | null {
    return this.#done;
  }

  abstract start(): PeerAuthStep;

  /** Feeds one message from the peer (already decoded, or any value: it is checked here). */
  receive(raw: unknown): PeerAuthStep {
    // Once over, the handshake takes nothing more: a late or repeated message is a peer misbehaving.
    if (this.#done) return { kind: 'refused', code: 'UNEXPECTED_MESSAGE' };
    const msg = checkPeerAuthMessage(raw);
    const step =
      msg === null ? refuse('MALFORMED_MESSAGE')
      : msg.type === 'refused' ? ({ kind: 'refused', code: 'REFUSED_BY_PEER', peerCode: msg.code } as const)
      : this.step(msg);
    if (step.kind === 'ok' || step.kind === 'refused') this.#done = step;
    return step;
  }

  protected abstract step(msg: PeerAuthMessage): PeerAuthStep;
}

/** The side that dials: it knows which node it means to reach. */
export class PeerAuthInitiator extends PeerAuthSide {
  readonly #peerNodeId: number;
  #nonce: Buffer | null = null;
  #proofSent = false;

  constructor(opts: PeerAuthOptions & { /** The node this link is meant to reach. */ peerNodeId: number }) {
    super(opts);
    this.#peerNodeId = opts.peerNodeId;
  }

  start(): PeerAuthStep {
    if (this.#nonce) throw new Error('the handshake has started already');
    this.#nonce = this.random(NONCE_BYTES);
    return { kind: 'send', message: { type: 'hello', clusterId: this.clusterId, nodeId: this.nodeId, peerNodeId: this.#peerNodeId, nonce: this.#nonce } };
  }

  protected step(msg: PeerAuthMessage): PeerAuthStep {
    const nonceA = this.#nonce;
    if (nonceA === null) return refuse('UNEXPECTED_MESSAGE');
    if (!this.#proofSent) {
      if (msg.type !== 'challenge') return refuse('UNEXPECTED_MESSAGE');
      if (msg.clusterId !== this.clusterId) return refuse('CLUSTER_ID_MISMATCH');
      if (msg.nodeId !== this.#peerNodeId) return refuse('UNEXPECTED_NODE_ID');
      // Our own nonce coming back is someone reflecting our hello.
      if (msg.nonce.equals(nonceA)) return refuse('BAD_PROOF');
      const expected = peerProof(this.secret, 'acceptor', this.clusterId, this.#peerNodeId, this.nodeId, nonceA, msg.nonce);
      if (!proofMatches(expected, msg.proof)) return refuse('BAD_PROOF');
      this.#proofSent = true;
      const proof = peerProof(this.secret, 'initiator', this.clusterId, this.nodeId, this.#peerNodeId, nonceA, msg.nonce);
      return { kind: 'send', message: { type: 'proof', proof } };
    }
    if (msg.type !== 'accepted') return refuse('UNEXPECTED_MESSAGE');
    return { kind: 'ok', peerNodeId: this.#peerNodeId };
  }
}

export interface PeerAuthAcceptorOptions extends PeerAuthOptions {
  /** Whether a node of this id may link at all (e.g. it is a voter or a known observer); default: any. */
  acceptNodeId?: (nodeId: number) => boolean;
}

/** The side that is dialled: it learns the peer's id from the hello and proves itself first. */
export class PeerAuthAcceptor extends PeerAuthSide {
  readonly #acceptNodeId: (nodeId: number) => boolean;
  #hello: { nodeId: number; nonceA: Buffer; nonceB: Buffer } | null = null;

  constructor(opts: PeerAuthAcceptorOptions) {
    super(opts);
    this.#acceptNodeId = opts.acceptNodeId ?? (() => true);
  }

  start(): PeerAuthStep {
    return { kind: 'wait' };
  }

  protected step(msg: PeerAuthMessage): PeerAuthStep {
    const hello = this.#hello;
    if (hello === null) {
      if (msg.type !== 'hello') return refuse('UNEXPECTED_MESSAGE');
      if (msg.clusterId !== this.clusterId) return refuse('CLUSTER_ID_MISMATCH');
      if (msg.peerNodeId !== this.nodeId) return refuse('UNEXPECTED_NODE_ID');
      if (msg.nodeId === this.nodeId) return refuse('SAME_NODE_ID');
      if (!this.#acceptNodeId(msg.nodeId)) return refuse('UNKNOWN_NODE_ID');
      let nonceB = this.random(NONCE_BYTES);
      if (nonceB.equals(msg.nonce)) nonceB = this.random(NONCE_BYTES); // an injected source might repeat
      this.#hello = { nodeId: msg.nodeId, nonceA: msg.nonce, nonceB };
      const proof = peerProof(this.secret, 'acceptor', this.clusterId, this.nodeId, msg.nodeId, msg.nonce, nonceB);
      return { kind: 'send', message: { type: 'challenge', clusterId: this.clusterId, nodeId: this.nodeId, nonce: nonceB, proof } };
    }
    if (msg.type !== 'proof') return refuse('UNEXPECTED_MESSAGE');
    const expected = peerProof(this.secret, 'initiator', this.clusterId, hello.nodeId, this.nodeId, hello.nonceA, hello.nonceB);
    if (!proofMatches(expected, msg.proof)) return refuse('BAD_PROOF');
    return { kind: 'ok', peerNodeId: hello.nodeId, message: { type: 'accepted' } };
  }
}
