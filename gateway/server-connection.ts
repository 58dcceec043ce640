/**
 * One client's WebSocket on the server: decodes its request frames, runs them on the broker
 * (pipelined: several at once, answered as they complete) and sends the answers, with flow
 * control so that a client cannot make the node hold unbounded memory for it.
 *
 * Backpressure, not buffering. A client that sends requests but does not read its responses (a
 * stalled consumer, a dead uplink without a FIN) would otherwise make the node answer every
 * request into its socket's write buffer, which grows without end. Instead:
 * - No request starts while the connection's unsent output (ws `bufferedAmount`) is over
 *   `maxBufferedBytes`, and the socket is paused: the kernel's buffers fill and TCP tells the
 *   client to stop sending. Reading resumes when the socket drains. Frames already read when it
 *   was paused are the only ones held (one socket read, or one frame being reassembled).
 * - A Fetch reserves the most it may answer (the smaller of maxBytes and its partitions'
 *   maxBytes) until it is answered. It starts only if that fits under the limit with the output
 *   and the other reservations, or if no other Fetch is in progress (so one can always run).
 *   Requests read from one socket chunk all start before any answer exists: without
 *   reservations, a thousand small Fetch frames would all be answered past the limit.
 * - A Fetch that waits for room holds back later Fetches (they stay in order) but not other
 *   requests: a consumer's long-poll Fetch shares its connection with heartbeats and commits.
 *   Other answers are small, and produce requests keep their order (idempotent sequences).
 * - At most maxInFlight requests run, and the socket is paused while that many run or wait.
 * So the output held for a connection stays under the limit plus one Fetch answer (plus a KIP-74
 * first batch larger than the Fetch asked for). Kafka goes further and takes one request per
 * connection at a time, which would hold heartbeats behind a long poll.
 */
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { Broker } from '../node/broker/broker.js';
import type { Logger } from '../node/logger.js';
import type { BrokerMetrics } from '../node/metrics/broker-metrics.js';
import { Apis, decodeRequest } from '../protocol/apis/index.js';
import type { FetchRequest } from '../protocol/apis/fetch.js';
import { isEddyError } from '../protocol/errors.js';
import { encodeResponse, readRequestHeader, roughSize, writeErrorResponse, type RequestHeader } from '../protocol/frame.js';
import { WireError } from '../protocol/wire/schema.js';
import { wsBytes } from '../protocol/ws-bytes.js';

export interface ConnectionLimits {
  /** Requests in progress at once; more wait (and the socket is paused). */
  maxInFlight: number;
  /** Unsent response bytes past which no request is started (and the socket is paused). */
  maxBufferedBytes: number;
}

/** A read-only view of one connection's flow control, for tests and diagnostics. */
export interface ConnectionStats {
  peer: string;
  /** Response bytes handed to the socket and not yet taken by the kernel. */
  bufferedBytes: number;
  /** The highest bufferedBytes seen, right after each response was sent. */
  maxBufferedBytes: number;
  inFlight: number;
  /** Requests read and waiting for room to start. */
  queued: number;
  /** Whether the socket is paused (not read). */
  paused: boolean;
}

interface Queued {
  frame: Uint8Array;
  /** Decoded on first look, when the request reaches the head of the queue; null: unreadable header. */
  decoded?: Decoded | null;
}

type Decoded =
  | { ok: true; header: RequestHeader; apiName: string; request: unknown; reserve: number }
  | { ok: false; reply: Uint8Array };

export class ServerConnection {
  readonly peer: string;
  readonly #ws: WebSocket;
  readonly #socket: Duplex;
  readonly #broker: Broker;
  readonly #logger: Logger;
  readonly #metrics: Pick<BrokerMetrics, 'request'>;
  readonly #clientHost: string;
  readonly #limits: ConnectionLimits;
  readonly #abort = new AbortController();
  readonly #queue: Queued[] = [];
  #inFlight = 0;
  /** Bytes reserved by Fetch requests in progress. */
  #reserved = 0;
  #fetchesInFlight = 0;
  #paused = false;
  #maxBuffered = 0;

  constructor(
    ws: WebSocket,
    socket: Duplex,
    peer: string,
    clientHost: string,
    broker: Broker,
    logger: Logger,
    metrics: Pick<BrokerMetrics, 'request'>,
    limits: ConnectionLimits,
  ) {
    this.#ws = ws;
    this.#socket = socket;
    this.peer = peer;
    this.#clientHost = clientHost;
    this.#broker = broker;
    this.#logger = logger;
    this.#metrics = metrics;
    this.#limits = limits;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) {
        ws.close(1003, 'binary frames only');
        return;
      }
      this.#queue.push({ frame: wsBytes(data) });
      this.#pump();
    });
    socket.on('drain', () => this.#pump());
    ws.on('close', () => {
      this.#abort.abort();
      this.#queue.length = 0;
    });
  }

  stats(): ConnectionStats {
    return {
      peer: this.peer,
      bufferedBytes: this.#ws.bufferedAmount,
      maxBufferedBytes: this.#maxBuffered,
      inFlight: this.#inFlight,
      queued: this.#queue.length,
      paused: this.#paused,
    };
  }

  /**
   * Starts what may start, in arrival order: everything stops while the output is over the limit
   * or maxInFlight requests run; a Fetch whose reservation does not fit waits, and so does every
   * later Fetch (Fetches stay in order), while other requests go past it. Then pauses or resumes
   * reading to match.
   */
  #pump(): void {
    const { maxInFlight, maxBufferedBytes } = this.#limits;
    let fetchWaits = false;
    for (let i = 0; i < this.#queue.length && this.#ws.readyState === this.#ws.OPEN; ) {
      const buffered = this.#ws.bufferedAmount;
      if (this.#inFlight >= maxInFlight || buffered >= maxBufferedBytes) break;
      const item = this.#queue[i]!;
      const d = (item.decoded ??= this.#decode(item.frame));
      if (d === null) return; // the connection is being closed
      if (d.ok && d.reserve > 0 && (fetchWaits || (this.#fetchesInFlight > 0 && buffered + this.#reserved + d.reserve > maxBufferedBytes))) {
        fetchWaits = true;
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      if (d.ok) this.#start(d);
      else this.#send(d.reply);
    }
    // Reading on while Fetches wait for reservations keeps heartbeats and commits flowing; the
    // count bound keeps what is read and held small.
    const hold = this.#ws.bufferedAmount >= maxBufferedBytes || this.#inFlight + this.#queue.length >= maxInFlight;
    if (hold && !this.#paused) {
      this.#paused = true;
      this.#ws.pause();
    } else if (!hold && this.#paused) {
      this.#paused = false;
      this.#ws.resume();
    }
  }

  /** Header and body of a request; null if the frame is so broken the connection closes. */
  #decode(frame: Uint8Array): Decoded | null {
    let header: RequestHeader;
    let body: Uint8Array;
    try {
      ({ header, body } = readRequestHeader(frame));
    } catch {
      // Without a correlation id no response can be matched.
      this.#ws.close(1002, 'malformed request header');
      return null;
    }
    let apiName = 'unknown'; // an unknown API key is not a label value a client may choose
    try {
      const api = this.#broker.spec(header.apiKey, header.apiVersion);
      apiName = api.name;
      let request;
      try {
        request = decodeRequest(api, header.apiVersion, body);
      } catch (err) {
        if (err instanceof WireError) {
          this.#metrics.request(apiName, 'INVALID_REQUEST');
          return { ok: false, reply: writeErrorResponse(header.correlationId, 'INVALID_REQUEST', `${api.name} body does not decode: ${err.message}`) };
        }
        throw err;
      }
      return { ok: true, header, apiName, request, reserve: header.apiKey === Apis.Fetch.key ? fetchReservation(request as FetchRequest) : 0 };
    } catch (err) {
      return { ok: false, reply: this.#errorReply(header, apiName, err) };
    }
  }

  #start(d: Extract<Decoded, { ok: true }>): void {
    this.#inFlight++;
    this.#reserved += d.reserve;
    if (d.reserve > 0) this.#fetchesInFlight++;
    this.#run(d).finally(() => {
      this.#inFlight--;
      this.#reserved -= d.reserve;
      if (d.reserve > 0) this.#fetchesInFlight--;
      this.#pump();
    });
  }

  async #run({ header, apiName, request }: Extract<Decoded, { ok: true }>): Promise<void> {
    const id = header.correlationId;
    try {
      const schemas = this.#broker.spec(header.apiKey, header.apiVersion).versions[header.apiVersion]!;
      const response = await this.#broker.handle(header.apiKey, request, { clientId: header.clientId ?? '', clientHost: this.#clientHost, signal: this.#abort.signal });
      this.#metrics.request(apiName, 'NONE');
      if (header.apiKey === Apis.Produce.key && (request as { acks: number }).acks === 0) return; // acks=0: no response
      this.#send(encodeResponse(id, schemas.response, response, roughSize(response) + 64));
    } catch (err) {
      this.#send(this.#errorReply(header, apiName, err));
    }
  }

  /** The error response for a request, counted under its API and error code. */
  #errorReply(header: RequestHeader, apiName: string, err: unknown): Uint8Array {
    this.#metrics.request(apiName, isEddyError(err) ? err.errorName : 'UNKNOWN_SERVER_ERROR');
    if (isEddyError(err)) return writeErrorResponse(header.correlationId, err.errorName, err.detail);
    this.#logger.error({ peer: this.peer, err, apiKey: header.apiKey }, 'unexpected error handling a request');
    return writeErrorResponse(header.correlationId, 'UNKNOWN_SERVER_ERROR', `request failed unexpectedly: ${(err as Error)?.message ?? String(err)}`);
  }

  #send(frame: Uint8Array): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    this.#ws.send(frame, { binary: true });
    const buffered = this.#ws.bufferedAmount;
    if (buffered > this.#maxBuffered) this.#maxBuffered = buffered;
  }
}

/** The most a Fetch may answer (a first batch past it aside, KIP-74): what it reserves. */
export function fetchReservation(req: FetchRequest): number {
  let partitions = 0;
  for (const t of req.topics) for (const p of t.partitions) partitions += Math.max(0, p.partitionMaxBytes);
  return Math.max(1, Math.min(Math.max(0, req.maxBytes), partitions));
}
