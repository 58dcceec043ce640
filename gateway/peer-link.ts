/**
 * The dialling end of one peer link: connects to a voter at its URL and peer path, runs the
 * initiator side of the HMAC handshake (PeerHello v1 with this node's role and voters, PeerProof), then carries peer requests with
 * correlation ids. When the link drops it reconnects by itself, after a capped exponential
 * backoff with jitter (so a restarted cluster does not redial in lockstep); requests in flight
 * then fail with NETWORK_EXCEPTION (retriable), and so do requests made while it is down:
 * a caller (the Raft driver) retries on its own schedule rather than queueing behind a dead link.
 *
 * It knows nothing of the node beyond its identity and secret: the transport is injected
 * (peer-transport.ts), so wss:// comes in without touching this file.
 */
import { PeerAuthInitiator, type PeerAuthStep } from '../node/cluster/peer-auth.js';
import type { RefusalLog } from '../node/cluster/refusal-log.js';
import type { ClusterRole, Voter } from '../node/cluster/voters.js';
import type { Logger } from '../node/logger.js';
import { API_BY_KEY, Apis } from '../protocol/apis/index.js';
import { PEER_ROLE_OBSERVER, PEER_ROLE_VOTER, type PeerHelloRequest, type PeerHelloResponse } from '../protocol/apis/peer-auth.js';
import { EddyError, errorNameForCode } from '../protocol/errors.js';
import { encodeRequest, readResponseHeader } from '../protocol/frame.js';
import { decode, type Type } from '../protocol/wire/schema.js';
import { challengeMessage } from './peer-handshake-frames.js';
import { wsTransport, type PeerSocket, type PeerTransport } from './peer-transport.js';

export type PeerLinkState = 'connecting' | 'handshaking' | 'authenticated' | 'waiting' | 'closed';

/** One link's state, as `cluster describe` will show it. */
export interface PeerLinkStatus {
  nodeId: number;
  url: string;
  state: PeerLinkState;
  connected: boolean;
  authenticated: boolean;
  /** Why the link last dropped or was refused; null once authenticated. */
  lastError: { code: string; message: string; at: number } | null;
  /** Failed attempts since the link was last authenticated. */
  attempts: number;
}

export interface PeerLinkOptions {
  /** The peer's node id and voter URL (ws://host:port); `peerPath` is put on it. */
  peerNodeId: number;
  url: string;
  peerPath: string;
  clusterId: string;
  nodeId: number;
  /** What this node is and the voters it was given, declared in PeerHello v1; default a voter with no voters (tests). */
  role?: ClusterRole;
  voters?: readonly Voter[];
  secret: Buffer;
  logger: Logger;
  /** Refusals are logged and counted here, under the peer's URL. */
  refusals: RefusalLog;
  transport?: PeerTransport;
  /** Default 5 s. */
  handshakeTimeoutMs?: number;
  /** First reconnect delay (default 100 ms), doubled per failed attempt up to maxBackoffMs (default 1 s, Kafka's reconnect.backoff.max.ms: a voter that comes back must be reached again within an election timeout, or the quorum it restores cannot elect). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** For jitter; tests inject one. */
  random?: () => number;
  now?: () => number;
}

export interface PeerRequestOptions {
  /** Default 10 s; then REQUEST_TIMED_OUT (retriable). */
  timeoutMs?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyType = Type<any>;

interface Pending {
  resolve(frame: Uint8Array): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class PeerLink {
  readonly #o: Required<Omit<PeerLinkOptions, 'random' | 'now'>> & { random: () => number; now: () => number };
  readonly #target: string;
  readonly #pending = new Map<number, Pending>();
  #state: PeerLinkState = 'waiting';
  #socket: PeerSocket | null = null;
  #connected = false;
  #lastError: PeerLinkStatus['lastError'] = null;
  #attempts = 0;
  #nextId = 1;
  #timer: NodeJS.Timeout | null = null;
  /** Bumped per connection, so events of an old socket are ignored. */
  #generation = 0;
  #waiters: (() => void)[] = [];

  constructor(opts: PeerLinkOptions) {
    this.#o = {
      transport: wsTransport(),
      handshakeTimeoutMs: 5_000,
      role: 'voter',
      voters: [],
      initialBackoffMs: 100,
      maxBackoffMs: 1_000,
      random: Math.random,
      now: Date.now,
      ...opts,
    };
    const u = new URL(opts.url);
    u.pathname = opts.peerPath;
    this.#target = u.toString();
  }

  get nodeId(): number {
    return this.#o.peerNodeId;
  }

  status(): PeerLinkStatus {
    return {
      nodeId: this.#o.peerNodeId,
      url: this.#target,
      state: this.#state,
      connected: this.#connected,
      authenticated: this.#state === 'authenticated',
      lastError: this.#lastError,
      attempts: this.#attempts,
    };
  }

  /** Starts dialling (once). */
  start(): void {
    if (this.#state === 'waiting' && this.#timer === null && this.#socket === null) this.#connect();
  }

  /** Resolves when the link is authenticated (now, or on a later attempt). */
  authenticated(): Promise<void> {
    if (this.#state === 'authenticated') return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Sends a peer request and resolves with its decoded response (in `version`'s shape). Rejects
   * with an EddyError: the header error of the answer, NETWORK_EXCEPTION when the link is down or
   * drops first, REQUEST_TIMED_OUT after `timeoutMs`.
   */
  request<T = unknown>(apiKey: number, version: number, body: unknown, opts: PeerRequestOptions = {}): Promise<T> {
    const api = API_BY_KEY.get(apiKey);
    const schemas = api?.versions[version];
    if (!api || !schemas) return Promise.reject(new EddyError('UNSUPPORTED_VERSION', `no API key ${apiKey} v${version} to send`));
    if (this.#state !== 'authenticated') {
      return Promise.reject(new EddyError('NETWORK_EXCEPTION', `the link to node ${this.#o.peerNodeId} (${this.#target}) is not up: ${this.#state}${this.#lastError ? `, last error ${this.#lastError.code}` : ''}`));
    }
    return this.#send(apiKey, version, schemas.request, body, opts.timeoutMs ?? 10_000).then((frame) => decode(schemas.response, frame) as T);
  }

  /** Stops the link for good: no more reconnects, requests in flight fail. */
  close(): void {
    this.#state = 'closed';
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#drop('NETWORK_EXCEPTION', 'the link is closing');
    this.#socket?.close(1001, 'node shutting down');
    this.#socket = null;
  }

  #send(apiKey: number, version: number, schema: AnyType, body: unknown, timeoutMs: number): Promise<Uint8Array> {
    const socket = this.#socket!;
    const correlationId = this.#nextId;
    this.#nextId = this.#nextId >= 0x7fffffff ? 1 : this.#nextId + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(correlationId);
        reject(new EddyError('REQUEST_TIMED_OUT', `node ${this.#o.peerNodeId} did not answer ${API_BY_KEY.get(apiKey)!.name} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(correlationId, { resolve, reject, timer });
      socket.send(encodeRequest({ apiKey, apiVersion: version, correlationId, clientId: `eddy-node-${this.#o.nodeId}` }, schema, body));
    });
  }

  #connect(): void {
    const gen = ++this.#generation;
    this.#state = 'connecting';
    const handshakeTimer = setTimeout(() => {
      if (gen === this.#generation && this.#state !== 'authenticated') this.#fail('HANDSHAKE_TIMEOUT', `no complete handshake within ${this.#o.handshakeTimeoutMs} ms`, 1008);
    }, this.#o.handshakeTimeoutMs);
    this.#socket = this.#o.transport.connect(this.#target, {
      open: () => {
        if (gen !== this.#generation) return;
        this.#connected = true;
        this.#state = 'handshaking';
        void this.#handshake(gen).finally(() => clearTimeout(handshakeTimer));
      },
      message: (frame) => {
        if (gen !== this.#generation) return;
        let response: ReturnType<typeof readResponseHeader>;
        try {
          response = readResponseHeader(frame);
        } catch {
          this.#fail('MALFORMED_MESSAGE', 'a response whose header does not read', 1002);
          return;
        }
        const { header, body } = response;
        const p = this.#pending.get(header.correlationId);
        if (!p) return; // timed out already
        this.#pending.delete(header.correlationId);
        clearTimeout(p.timer);
        if (header.errorCode !== 0) p.reject(new EddyError(errorNameForCode(header.errorCode), header.errorMessage ?? 'no message'));
        else p.resolve(body);
      },
      close: (code, reason) => {
        clearTimeout(handshakeTimer);
        if (gen !== this.#generation) return;
        this.#socket = null;
        this.#fail('DISCONNECTED', `closed (${code}${reason ? ` ${reason}` : ''})`, null);
      },
    });
  }

  async #handshake(gen: number): Promise<void> {
    const o = this.#o;
    const initiator = new PeerAuthInitiator({ secret: o.secret, clusterId: o.clusterId, nodeId: o.nodeId, peerNodeId: o.peerNodeId });
    const hello = initiator.start();
    if (hello.kind !== 'send' || hello.message.type !== 'hello') throw new Error('the initiator starts with a hello');
    try {
      // v1: the answerer checks our role and voters against its own (peer-identity.ts).
      const helloBody: PeerHelloRequest = {
        clusterId: o.clusterId,
        nodeId: o.nodeId,
        nonce: hello.message.nonce,
        role: o.role === 'observer' ? PEER_ROLE_OBSERVER : PEER_ROLE_VOTER,
        voters: o.voters.map((v) => ({ id: v.id, url: v.url })),
      };
      const helloFrame = await this.#send(Apis.PeerHello.key, Apis.PeerHello.newest.version, Apis.PeerHello.newest.request, helloBody, o.handshakeTimeoutMs);
      if (gen !== this.#generation) return;
      const step = initiator.receive(challengeMessage(decode(Apis.PeerHello.newest.response, helloFrame) as PeerHelloResponse));
      if (step.kind !== 'send' || step.message.type !== 'proof') return this.#refused(step);
      await this.#send(Apis.PeerProof.key, 0, Apis.PeerProof.newest.request, { proof: step.message.proof }, o.handshakeTimeoutMs);
      if (gen !== this.#generation) return;
      const done = initiator.receive({ type: 'accepted' });
      if (done.kind !== 'ok') return this.#refused(done);
    } catch (err) {
      if (gen !== this.#generation) return;
      if (err instanceof EddyError && (err.errorName === 'PEER_AUTHENTICATION_FAILED' || err.errorName === 'INCONSISTENT_CLUSTER_ID')) {
        // The peer refused us; its reason leads the message. Logged and counted here too, so
        // both ends of a misconfigured pair say so.
        this.#o.refusals.refused(this.#target, 'REFUSED_BY_PEER', err.detail);
        this.#fail('REFUSED_BY_PEER', err.detail, 1008);
      } else if (err instanceof EddyError && err.errorName === 'REQUEST_TIMED_OUT') {
        this.#fail('HANDSHAKE_TIMEOUT', err.detail, 1008);
      } else if (!(err instanceof EddyError && err.errorName === 'NETWORK_EXCEPTION')) {
        this.#fail('MALFORMED_MESSAGE', `handshake answer: ${(err as Error).message}`, 1008);
      }
      return;
    }
    this.#state = 'authenticated';
    this.#attempts = 0;
    this.#lastError = null;
    this.#o.logger.info({ peerNodeId: o.peerNodeId, url: this.#target }, `peer link to node ${o.peerNodeId} (${this.#target}) authenticated`);
    for (const w of this.#waiters.splice(0)) w();
  }

  #refused(step: PeerAuthStep): void {
    const code = step.kind === 'refused' ? step.code : 'UNEXPECTED_MESSAGE';
    const detail = code === 'BAD_PROOF' ? `node ${this.#o.peerNodeId} did not prove it knows this node's cluster secret` : `node ${this.#o.peerNodeId} answered the handshake wrongly`;
    this.#o.refusals.refused(this.#target, code, detail);
    this.#fail(code, detail, 1008);
  }

  /** Ends this connection (closing the socket with `closeCode` if still open), fails what is pending, and schedules the next attempt. */
  #fail(code: string, message: string, closeCode: number | null): void {
    if (this.#state === 'closed') return;
    const wasUp = this.#state === 'authenticated';
    this.#generation++;
    const socket = this.#socket;
    this.#socket = null;
    if (socket && closeCode !== null) socket.close(closeCode, code);
    this.#connected = false;
    // Events of this socket are ignored from here (generation), so a refusal is not overwritten by its close.
    this.#lastError = { code, message, at: this.#o.now() };
    this.#drop('NETWORK_EXCEPTION', `the link to node ${this.#o.peerNodeId} dropped: ${code}, ${message}`);
    if (wasUp) this.#o.logger.warn({ peerNodeId: this.#o.peerNodeId, code }, `peer link to node ${this.#o.peerNodeId} dropped: ${message}`);
    this.#attempts++;
    this.#state = 'waiting';
    const exp = Math.min(this.#o.maxBackoffMs, this.#o.initialBackoffMs * 2 ** Math.min(this.#attempts - 1, 30));
    // Full range jitter in the upper half: never sooner than half the backoff.
    const delay = exp / 2 + (exp / 2) * this.#o.random();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#state === 'waiting') this.#connect();
    }, delay);
  }

  #drop(name: 'NETWORK_EXCEPTION', detail: string): void {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new EddyError(name, detail));
    }
    this.#pending.clear();
  }
}
