/**
 * One logical connection to a node: correlation ids, pipelining, per-request timeouts and
 * automatic reconnect. Requests are written in call order; responses may come back in any order
 * (a Fetch long-polls while a Produce completes) and are matched by correlation id.
 *
 * Reconnect rules, as in Kafka's NetworkClient:
 * - when the socket drops, requests already written fail with a retriable REQUEST_TIMED_OUT
 *   (the server may or may not have applied them; only the caller can decide to resend);
 * - requests not yet written wait for the next socket, bounded by their own timeout;
 * - a request that times out after it was written closes the socket: a response that never came
 *   usually means a dead peer (a gateway that lost its uplink without a FIN), and waiting on that
 *   socket would hang every later request too.
 */
import { Apis, type ApiSpec } from '../../protocol/apis/index.js';
import { EddyError } from '../../protocol/errors.js';
import { encodeRequest, readResponseHeader } from '../../protocol/frame.js';
import { decode, WireError, type Infer, type StructType } from '../../protocol/wire/schema.js';
import { backoffDelay, DEFAULT_RECONNECT_BACKOFF, type BackoffOptions } from './backoff.js';
import { ClientClosedError, serverError } from './client-errors.js';
import { defaultSocketFactory } from './default-socket.js';
import type { ClientSocket, SocketFactory } from './socket.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStruct = StructType<any>;

export interface ConnectionOptions {
  /** `ws://host:port` of the node. */
  url: string;
  /** Sent in every request header, for the node's logs and metrics. */
  clientId?: string | null;
  /** How long a request may wait for its response, including any wait for a connection. Default 30 s. */
  requestTimeoutMs?: number;
  /** How long a WebSocket handshake may take before the attempt is abandoned. Default 10 s. */
  connectTimeoutMs?: number;
  /** Delays between reconnect attempts. Default 50 ms doubling to 1 s. */
  reconnectBackoff?: BackoffOptions;
  /** The transport; defaults to the `ws` package. */
  socketFactory?: SocketFactory;
}

export interface RequestOptions {
  /** false for Produce with acks=0: the server sends nothing, so resolve once written. */
  expectResponse?: boolean;
  /** Overrides the connection's request timeout (a Fetch adds its long-poll wait to it). */
  timeoutMs?: number;
  /** Expected frame size in bytes, so a large request is encoded into one allocation. */
  sizeHint?: number;
}

interface Pending {
  readonly correlationId: number;
  readonly apiName: string;
  readonly frame: Uint8Array;
  readonly expectResponse: boolean;
  readonly decodeBody: (body: Uint8Array) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  written: boolean;
}

const MAX_CORRELATION_ID = 0x7fffffff;

/** ready() gave up waiting (REQUEST_TIMED_OUT) without a connect attempt failing: says less than a refusal. */
export class ConnectWaitTimeout extends EddyError {
  constructor(detail: string) {
    super('REQUEST_TIMED_OUT', detail);
  }
}

export class Connection {
  readonly url: string;
  readonly #clientId: string | null;
  readonly #requestTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #backoff: BackoffOptions;
  readonly #factory: SocketFactory;

  #socket: ClientSocket | null = null;
  #open = false;
  #closed = false;
  /** Why the last socket went away (for error messages while none is up). */
  #lastLoss = '';
  #started = false;
  #attempt = 0;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #nextCorrelationId = 0;
  /** Not yet written, in call order. */
  #queue: Pending[] = [];
  /** Written and awaiting a response, by correlation id. */
  readonly #inFlight = new Map<number, Pending>();
  #connects = 0;
  /** Callers of ready(): settled by the next open, or by the next failed attempt. */
  readonly #readyWaiters = new Set<{ resolve: () => void; reject: (err: unknown) => void }>();

  constructor(options: ConnectionOptions) {
    const protocol = new URL(options.url).protocol; // throws TypeError on a malformed URL
    if (protocol !== 'ws:' && protocol !== 'wss:') {
      throw new TypeError(`server must be a ws:// or wss:// URL, got ${options.url}`);
    }
    this.url = options.url;
    this.#clientId = options.clientId ?? null;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#backoff = options.reconnectBackoff ?? DEFAULT_RECONNECT_BACKOFF;
    this.#factory = options.socketFactory ?? defaultSocketFactory;
  }

  /** True while a socket is open. */
  get isOpen(): boolean {
    return this.#open;
  }

  /** How many times a socket has opened; a value above 1 means the connection was re-established. */
  get connectCount(): number {
    return this.#connects;
  }

  /**
   * Sends one request and resolves with the decoded response body. It goes as the newest version
   * of `api` this SDK knows: the SDK ships with the node, at the same version. Rejects
   * with EddyError: the header error of the response, or REQUEST_TIMED_OUT (retriable) when no
   * response came in time or the connection was lost after the request was written.
   */
  request<Req extends AnyStruct, Res extends AnyStruct>(
    api: ApiSpec<Req, Res>,
    body: Infer<Req>,
    options: RequestOptions = {},
  ): Promise<Infer<Res>> {
    if (this.#closed) return Promise.reject(new ClientClosedError(`connection to ${this.url}`));
    const schemas = api.newest;
    const correlationId = this.#takeCorrelationId();
    // Encoding errors (a value out of range) are the caller's bug: throw them as they are.
    const frame = encodeRequest(
      { apiKey: api.key, apiVersion: schemas.version, correlationId, clientId: this.#clientId },
      schemas.request,
      body,
      options.sizeHint,
    );
    return new Promise<Infer<Res>>((resolve, reject) => {
      const pending: Pending = {
        correlationId,
        apiName: api.name,
        frame,
        expectResponse: options.expectResponse ?? true,
        decodeBody: (b) => decode(schemas.response, b),
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: undefined,
        written: false,
      };
      const timeoutMs = options.timeoutMs ?? this.#requestTimeoutMs;
      pending.timer = setTimeout(() => this.#onTimeout(pending, timeoutMs), timeoutMs);
      this.#queue.push(pending);
      this.#ensureStarted();
      if (this.#open) this.#writeQueued();
    });
  }

  /** Sends ApiVersions; useful to wait until the node answers. */
  async ping(timeoutMs?: number): Promise<void> {
    await this.request(Apis.ApiVersions, {}, timeoutMs === undefined ? {} : { timeoutMs });
  }

  /**
   * Resolves once a socket is open, starting one if needed. Rejects with a retriable
   * REQUEST_TIMED_OUT as soon as the next connect attempt fails (or after `timeoutMs`), so that a
   * caller with other nodes to try (a bootstrap list) moves on at once instead of waiting out a
   * request timeout on a dead address.
   */
  ready(timeoutMs = this.#connectTimeoutMs): Promise<void> {
    if (this.#closed) return Promise.reject(new ClientClosedError(`connection to ${this.url}`));
    if (this.#open) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.#readyWaiters.delete(waiter);
        reject(new ConnectWaitTimeout(`no connection to ${this.url} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#readyWaiters.add(waiter);
      this.#ensureStarted();
    });
  }

  /** Fails everything pending with ClientClosedError and closes the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#reconnectTimer);
    const err = new ClientClosedError(`connection to ${this.url}`);
    for (const p of [...this.#queue, ...this.#inFlight.values()]) this.#settle(p, err);
    this.#wakeReady(err);
    this.#queue = [];
    this.#inFlight.clear();
    const socket = this.#socket;
    this.#socket = null;
    this.#open = false;
    if (socket) await socket.close();
  }

  #takeCorrelationId(): number {
    // Wraps within int32; an id still in flight after 2^31 requests is skipped, not reused.
    let id = this.#nextCorrelationId;
    while (this.#inFlight.has(id)) id = id === MAX_CORRELATION_ID ? 0 : id + 1;
    this.#nextCorrelationId = id === MAX_CORRELATION_ID ? 0 : id + 1;
    return id;
  }

  #ensureStarted(): void {
    if (this.#started) return;
    this.#started = true;
    this.#connect();
  }

  #connect(): void {
    if (this.#closed) return;
    const socket: ClientSocket = this.#factory(this.url, {
      open: () => {
        if (socket !== this.#socket) return;
        clearTimeout(this.#connectTimer);
        this.#open = true;
        this.#attempt = 0;
        this.#connects++;
        this.#wakeReady();
        this.#writeQueued();
      },
      message: (frame) => {
        if (socket === this.#socket) this.#onFrame(frame);
      },
      close: (reason) => {
        if (socket === this.#socket) this.#onSocketLost(reason);
      },
    });
    this.#socket = socket;
    this.#connectTimer = setTimeout(() => {
      if (socket !== this.#socket || this.#open) return;
      this.#dropSocket(`no WebSocket handshake within ${this.#connectTimeoutMs} ms`);
    }, this.#connectTimeoutMs);
  }

  #writeQueued(): void {
    const socket = this.#socket;
    while (this.#open && socket && this.#queue.length > 0) {
      const p = this.#queue.shift()!;
      try {
        socket.send(p.frame);
      } catch (err) {
        // The socket died under us; its close event will follow. Keep the request for the next one.
        this.#queue.unshift(p);
        this.#dropSocket(`write failed: ${(err as Error).message}`);
        return;
      }
      p.written = true;
      if (p.expectResponse) {
        this.#inFlight.set(p.correlationId, p);
      } else {
        this.#settle(p, undefined, true);
      }
    }
  }

  #onFrame(frame: Uint8Array): void {
    let header: ReturnType<typeof readResponseHeader>['header'];
    let body: Uint8Array;
    try {
      ({ header, body } = readResponseHeader(frame));
    } catch {
      // A frame we cannot even attribute: nothing to fail but the socket itself.
      this.#dropSocket('received a response frame without a readable header');
      return;
    }
    const p = this.#inFlight.get(header.correlationId);
    // Unknown id: the answer to a request that already timed out. Dropping it is correct.
    if (!p) return;
    this.#inFlight.delete(header.correlationId);
    if (header.errorCode !== 0) {
      this.#settle(p, serverError(header.errorCode, header.errorMessage, p.apiName));
      return;
    }
    let value: unknown;
    try {
      value = p.decodeBody(body);
    } catch (err) {
      const why = err instanceof WireError ? err.message : String(err);
      this.#settle(p, new EddyError('UNKNOWN_SERVER_ERROR', `malformed ${p.apiName} response: ${why}`, { cause: err }));
      return;
    }
    this.#settle(p, value, true);
  }

  #onTimeout(p: Pending, timeoutMs: number): void {
    p.timer = undefined;
    if (p.written) {
      if (this.#inFlight.get(p.correlationId) !== p) return;
      this.#inFlight.delete(p.correlationId);
      this.#settle(p, new EddyError('REQUEST_TIMED_OUT', `no ${p.apiName} response from ${this.url} within ${timeoutMs} ms`));
      this.#dropSocket(`${p.apiName} request timed out`);
    } else {
      const i = this.#queue.indexOf(p);
      if (i < 0) return;
      this.#queue.splice(i, 1);
      this.#settle(
        p,
        new EddyError(
          'REQUEST_TIMED_OUT',
          `no connection to ${this.url} within ${timeoutMs} ms to send ${p.apiName}` +
            (this.#lastLoss ? ` (last attempt: ${this.#lastLoss}); is an eddy node running and reachable there?` : ''),
        ),
      );
    }
  }

  /** Closes the current socket on purpose and handles it like a drop. */
  #dropSocket(reason: string): void {
    const socket = this.#socket;
    if (!socket) return;
    void socket.close();
    this.#onSocketLost(reason);
  }

  #onSocketLost(reason: string): void {
    this.#lastLoss = reason;
    clearTimeout(this.#connectTimer);
    this.#socket = null;
    this.#open = false;
    for (const p of this.#inFlight.values()) {
      this.#settle(
        p,
        new EddyError('REQUEST_TIMED_OUT', `connection to ${this.url} was lost (${reason}) before the ${p.apiName} response arrived`),
      );
    }
    this.#inFlight.clear();
    this.#wakeReady(new EddyError('REQUEST_TIMED_OUT', `could not connect to ${this.url} (${reason})`));
    if (this.#closed) return;
    const delay = backoffDelay(this.#attempt++, this.#backoff);
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay);
  }

  /** Settles every ready() waiter: resolved without `err`, else rejected with it. */
  #wakeReady(err?: unknown): void {
    const waiters = [...this.#readyWaiters];
    this.#readyWaiters.clear();
    for (const w of waiters) {
      if (err === undefined) w.resolve();
      else w.reject(err);
    }
  }

  #settle(p: Pending, outcome: unknown, ok = false): void {
    clearTimeout(p.timer);
    p.timer = undefined;
    if (ok) p.resolve(outcome);
    else p.reject(outcome);
  }
}
