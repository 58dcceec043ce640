/**
 * The accepting end of peer links: WebSocket connections that the node's server routes here
 * from its peer path (--peer-path). A peer connection must authenticate first: PeerHello, then
 * PeerProof (the HMAC handshake of node/cluster/peer-auth.ts), within `handshakeTimeoutMs`,
 * then pass checkPeerIdentity with the role and voters its PeerHello v1 declared (a v0 hello: a
 * voter with our voters). Anything else before that closes it (1008), and every refusal is
 * logged (RefusalLog: once a minute per address) and counted (eddy_peer_auth_failures_total).
 *
 * Once authenticated, each request frame of a peer-scope API goes to `handlers` (the Raft driver
 * will implement PeerRequestHandlers); an API without a handler, a client API, or a body that
 * does not decode gets a coded error response and the link stays up. Fetch, a client API, is
 * admitted here too: the metadata quorum replicates its log with it (gateway/quorum-peer-transport.ts). A frame whose header does
 * not read closes it (no correlation id to answer to), as on the client port.
 */
import type { RawData, WebSocket } from 'ws';
import { PeerAuthAcceptor, type PeerAuthStep } from '../node/cluster/peer-auth.js';
import { checkPeerIdentity, type PeerIdentity } from '../node/cluster/peer-identity.js';
import type { RefusalLog } from '../node/cluster/refusal-log.js';
import type { ClusterRole, Voter } from '../node/cluster/voters.js';
import type { Logger } from '../node/logger.js';
import { API_BY_KEY, Apis, decodeRequest, type ApiSpec } from '../protocol/apis/index.js';
import type { PeerHelloRequest, PeerProofRequest } from '../protocol/apis/peer-auth.js';
import { isEddyError } from '../protocol/errors.js';
import { encodeResponse, readRequestHeader, roughSize, writeErrorResponse, type RequestHeader } from '../protocol/frame.js';
import { WireError } from '../protocol/wire/schema.js';
import { wsBytes } from '../protocol/ws-bytes.js';
import { declaredIdentity, helloMessage, helloResponse, proofMessage, refusalError, type PeerRefusalReason } from './peer-handshake-frames.js';

/** What a peer handler learns of the request's origin. */
export interface PeerRequestContext {
  /** The authenticated node id of the peer that sent it. */
  peerNodeId: number;
  /** Aborted when the link closes. */
  signal: AbortSignal;
}

/** Handles one decoded peer request (in the newest version's shape); resolves with its response body. */
export type PeerRequestHandler = (request: unknown, ctx: PeerRequestContext) => Promise<unknown>;

/**
 * The peer APIs this node serves, by API key (a Map<number, PeerRequestHandler> is one).
 * Until the Raft driver registers its handlers, every peer API is answered UNSUPPORTED_VERSION.
 */
export interface PeerRequestHandlers {
  get(apiKey: number): PeerRequestHandler | undefined;
}

export const NO_PEER_HANDLERS: PeerRequestHandlers = { get: () => undefined };

/**
 * The client APIs a peer sends too: Fetch (the metadata quorum's, on __cluster_metadata-0) and
 * the admin writes a node forwards to the active controller (node/broker/controller-requests.ts),
 * and Produce of MQTT records to the partition's leader (app/leader-append.ts).
 */
export const PEER_CLIENT_APIS: ReadonlySet<number> = new Set([
  Apis.Fetch.key,
  Apis.Produce.key, // MQTT records a node received for a partition another node leads
  Apis.CreateTopics.key,
  Apis.DeleteTopics.key,
  Apis.CreatePartitions.key,
  Apis.IncrementalAlterConfigs.key,
]);

export interface PeerServerOptions {
  /** This node's cluster id, node id and voters. */
  local: PeerIdentity;
  /** The cluster secret; null: this node has none, and refuses every peer. */
  secret: Buffer | null;
  handlers: PeerRequestHandlers;
  refusals: RefusalLog;
  logger: Logger;
  /** Default 5 s. */
  handshakeTimeoutMs?: number;
  /** Requests in progress per link before it is no longer read; default 256. */
  maxInFlight?: number;
}

export const DEFAULT_PEER_HANDSHAKE_TIMEOUT_MS = 5_000;

/** One authenticated inbound link, for diagnostics. */
export interface InboundPeer {
  peerNodeId: number;
  address: string;
}

export class PeerServer {
  readonly #opts: PeerServerOptions;
  readonly #connections = new Set<PeerConnection>();

  constructor(opts: PeerServerOptions) {
    this.#opts = opts;
  }

  /** Takes a WebSocket that arrived on the peer path; `address` is the remote IP (the RefusalLog key). */
  accept(ws: WebSocket, address: string): void {
    const conn = new PeerConnection(ws, address, this.#opts);
    this.#connections.add(conn);
    ws.on('close', () => this.#connections.delete(conn));
  }

  /** The authenticated inbound links. */
  inbound(): InboundPeer[] {
    return [...this.#connections].flatMap((c) => (c.peerNodeId === null ? [] : [{ peerNodeId: c.peerNodeId, address: c.address }]));
  }

  close(): void {
    for (const c of this.#connections) c.terminate();
  }
}

type Phase = 'hello' | 'proof' | 'open' | 'closed';

class PeerConnection {
  peerNodeId: number | null = null;
  readonly address: string;
  readonly #ws: WebSocket;
  readonly #opts: PeerServerOptions;
  readonly #acceptor: PeerAuthAcceptor | null;
  readonly #abort = new AbortController();
  readonly #timer: NodeJS.Timeout;
  #phase: Phase = 'hello';
  #helloFrom: number | null = null;
  /** The role and voters the hello declared (v0: a voter with our voters). */
  #declared: { role: ClusterRole; voters: Voter[] } | null = null;
  #inFlight = 0;
  #paused = false;

  constructor(ws: WebSocket, address: string, opts: PeerServerOptions) {
    this.#ws = ws;
    this.address = address;
    this.#opts = opts;
    this.#acceptor = opts.secret ? new PeerAuthAcceptor({ secret: opts.secret, clusterId: opts.local.clusterId, nodeId: opts.local.nodeId }) : null;
    this.#timer = setTimeout(() => this.#refuse('HANDSHAKE_TIMEOUT', 'no complete handshake in time', null), opts.handshakeTimeoutMs ?? DEFAULT_PEER_HANDSHAKE_TIMEOUT_MS);
    ws.on('message', (data: RawData, isBinary: boolean) => this.#onFrame(data, isBinary));
    ws.on('error', (err) => opts.logger.debug({ address, err: err.message }, 'peer connection error'));
    ws.on('close', () => {
      this.#phase = 'closed';
      clearTimeout(this.#timer);
      this.#abort.abort();
    });
    if (!this.#acceptor) this.#refuse('NO_CLUSTER_SECRET', 'this node has no --cluster-secret-file', null);
  }

  terminate(): void {
    this.#ws.terminate();
  }

  #onFrame(data: RawData, isBinary: boolean): void {
    if (this.#phase === 'closed') return; // frames already read when the close began
    const authenticated = this.#phase === 'open';
    if (!isBinary) {
      if (authenticated) this.#close(1003, 'binary frames only');
      else this.#refuse('MALFORMED_MESSAGE', 'a text frame', null);
      return;
    }
    let header: RequestHeader;
    let body: Uint8Array;
    try {
      ({ header, body } = readRequestHeader(wsBytes(data)));
    } catch {
      if (authenticated) this.#close(1002, 'malformed request header');
      else this.#refuse('MALFORMED_MESSAGE', 'a frame whose header does not read', null);
      return;
    }
    if (authenticated) this.#request(header, body);
    else this.#handshake(header, body);
  }

  #handshake(header: RequestHeader, body: Uint8Array): void {
    const acceptor = this.#acceptor!;
    const want: ApiSpec = this.#phase === 'hello' ? Apis.PeerHello : Apis.PeerProof;
    const newest = want.versions.length - 1;
    if (header.apiKey !== want.key || !Number.isInteger(header.apiVersion) || header.apiVersion < 0 || header.apiVersion > newest) {
      const expected = newest === 0 ? `${want.name} v0` : `${want.name} v0 to v${newest}`;
      this.#refuse('UNEXPECTED_MESSAGE', `${API_BY_KEY.get(header.apiKey)?.name ?? `API key ${header.apiKey}`} v${header.apiVersion} before the handshake finished (expected ${expected})`, header);
      return;
    }
    let request: unknown;
    try {
      request = decodeRequest(want, header.apiVersion, body);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      this.#refuse('MALFORMED_MESSAGE', `${want.name} does not decode: ${err.message}`, header);
      return;
    }
    if (this.#phase === 'hello') {
      const hello = request as PeerHelloRequest;
      this.#helloFrom = hello.nodeId;
      const declared = declaredIdentity(header.apiVersion, hello, this.#opts.local.voters);
      if (typeof declared === 'string') {
        this.#refuse('MALFORMED_MESSAGE', declared, header);
        return;
      }
      this.#declared = declared;
      const step = acceptor.receive(helloMessage(hello, this.#opts.local.nodeId));
      if (step.kind === 'send' && step.message.type === 'challenge') {
        this.#phase = 'proof';
        this.#send(encodeResponse(header.correlationId, Apis.PeerHello.newest.response, helloResponse(step.message)));
      } else this.#refuseStep(step, header);
      return;
    }
    const step = acceptor.receive(proofMessage((request as PeerProofRequest).proof));
    if (step.kind !== 'ok') {
      this.#refuseStep(step, header);
      return;
    }
    // Authenticated: now whether this is a node we link with, as it declared itself in its hello
    // (heeded only now the proof shows it holds the secret). A voter list that differs, or a
    // voter id we do not know, is refused: two voter sets could elect two leaders. The proofs do
    // not cover role and voters, but an altered declaration can only get a link refused, which
    // whoever could alter it could do by dropping the frames anyway.
    const local = this.#opts.local;
    const declared = this.#declared ?? { role: 'voter', voters: local.voters };
    const problem = checkPeerIdentity(local, { clusterId: local.clusterId, nodeId: step.peerNodeId, role: declared.role, voters: declared.voters });
    if (problem) {
      this.#refuse(problem.code, problem.message, header);
      return;
    }
    clearTimeout(this.#timer);
    this.#phase = 'open';
    this.peerNodeId = step.peerNodeId;
    this.#send(encodeResponse(header.correlationId, Apis.PeerProof.newest.response, { errorCode: 0, errorMessage: null }));
    this.#opts.logger.info({ address: this.address, peerNodeId: step.peerNodeId }, `peer link from node ${step.peerNodeId} (${this.address}) authenticated`);
  }

  #refuseStep(step: PeerAuthStep, header: RequestHeader): void {
    const code = step.kind === 'refused' ? step.code : 'UNEXPECTED_MESSAGE';
    this.#refuse(code, code === 'BAD_PROOF' ? 'the proof does not match this node\'s cluster secret' : 'the handshake failed', header);
  }

  /** Answers the refused frame (if it could be read) with the coded reason, logs, counts, closes. */
  #refuse(reason: PeerRefusalReason, detail: string, header: RequestHeader | null): void {
    if (this.#phase === 'closed') return;
    const from = this.#helloFrom === null ? '' : ` (says it is node ${this.#helloFrom})`;
    this.#opts.refusals.refused(this.address, reason, `${detail}${from}`);
    if (header) this.#send(writeErrorResponse(header.correlationId, refusalError(reason), `${reason}: ${detail}`));
    this.#close(1008, reason);
  }

  #close(code: number, reason: string): void {
    this.#phase = 'closed';
    clearTimeout(this.#timer);
    this.#ws.close(code, reason);
  }

  #request(header: RequestHeader, body: Uint8Array): void {
    const id = header.correlationId;
    const api = API_BY_KEY.get(header.apiKey);
    const refuse = (detail: string, name: 'UNSUPPORTED_VERSION' | 'INVALID_REQUEST' = 'UNSUPPORTED_VERSION') => this.#send(writeErrorResponse(id, name, detail));
    if (!api) return refuse(`unknown API key ${header.apiKey}`);
    if (api.scope !== 'peer' && !PEER_CLIENT_APIS.has(api.key)) return refuse(`${api.name} is a client API: send it to the client port, not the peer path`, 'INVALID_REQUEST');
    if (api === (Apis.PeerHello as ApiSpec) || api === (Apis.PeerProof as ApiSpec)) return refuse(`${api.name}: this link is authenticated already`, 'INVALID_REQUEST');
    if (!Number.isInteger(header.apiVersion) || header.apiVersion < 0 || header.apiVersion >= api.versions.length) {
      return refuse(`${api.name} v${header.apiVersion} is not supported; use v0 to v${api.versions.length - 1}`);
    }
    const handler = this.#opts.handlers.get(api.key);
    if (!handler) return refuse(`this node does not serve ${api.name} yet`);
    let request: unknown;
    try {
      request = decodeRequest(api, header.apiVersion, body);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      return refuse(`${api.name} body does not decode: ${err.message}`, 'INVALID_REQUEST');
    }
    this.#run(api, header, request, handler);
  }

  #run(api: ApiSpec, header: RequestHeader, request: unknown, handler: PeerRequestHandler): void {
    const maxInFlight = this.#opts.maxInFlight ?? 256;
    this.#inFlight++;
    if (this.#inFlight >= maxInFlight && !this.#paused) {
      this.#paused = true;
      this.#ws.pause();
    }
    const schemas = api.versions[header.apiVersion]!;
    handler(request, { peerNodeId: this.peerNodeId!, signal: this.#abort.signal })
      .then((response) => this.#send(encodeResponse(header.correlationId, schemas.response, response, roughSize(response) + 64)))
      .catch((err: unknown) => {
        if (isEddyError(err)) return this.#send(writeErrorResponse(header.correlationId, err.errorName, err.detail));
        this.#opts.logger.error({ address: this.address, err, apiKey: header.apiKey }, 'unexpected error handling a peer request');
        this.#send(writeErrorResponse(header.correlationId, 'UNKNOWN_SERVER_ERROR', `request failed unexpectedly: ${(err as Error)?.message ?? String(err)}`));
      })
      .finally(() => {
        this.#inFlight--;
        if (this.#paused && this.#inFlight < maxInFlight) {
          this.#paused = false;
          this.#ws.resume();
        }
      });
  }

  #send(frame: Uint8Array): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.send(frame, { binary: true });
  }
}
