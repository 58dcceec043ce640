/**
 * The WebSocket front door: one binary message per request frame (see node/protocol/frame.ts).
 *
 * Bad input never reaches the log or crashes the node:
 * - a frame over `maxFrameBytes` closes the connection (1009; ws enforces it before buffering);
 * - a text frame closes it (1003); a frame too short for the header closes it (1002), since
 *   without a correlation id no response can be matched;
 * - an unknown API or version, or a body that does not decode, gets an error response
 *   (UNSUPPORTED_VERSION, INVALID_REQUEST) and the connection stays open.
 * Requests are handled concurrently (pipelining); responses go out as they complete.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { Broker } from '../node/broker/broker.js';
import { encodeResponse, readRequestHeader, roughSize, writeErrorResponse } from '../node/protocol/frame.js';
import { Apis } from '../node/protocol/apis/index.js';
import { isEddyError } from '../node/protocol/errors.js';
import { decode, WireError } from '../node/protocol/wire/schema.js';
import type { Logger } from '../node/logger.js';
import { NO_BROKER_METRICS, type BrokerMetrics } from '../node/metrics/broker-metrics.js';
import { wsBytes } from './ws-bytes.js';

export interface ServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  broker: Broker;
  logger: Logger;
  /** Largest request frame accepted. */
  maxFrameBytes: number;
  /** Requests in progress per connection before the server stops reading from it. */
  maxInFlightPerConnection?: number;
  /** Counts each answered request by API and result. */
  metrics?: Pick<BrokerMetrics, 'request'>;
}

export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;

export class ProtocolServer {
  readonly #wss: WebSocketServer;
  readonly #opts: Required<ServerOptions>;
  readonly #connections = new Set<WebSocket>();

  private constructor(wss: WebSocketServer, opts: Required<ServerOptions>) {
    this.#wss = wss;
    this.#opts = opts;
    wss.on('connection', (ws, req) => this.#onConnection(ws, `${req.socket.remoteAddress}:${req.socket.remotePort}`, req.socket.remoteAddress ?? ''));
  }

  static listen(options: ServerOptions): Promise<ProtocolServer> {
    const opts = { maxInFlightPerConnection: 256, metrics: NO_BROKER_METRICS, ...options };
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ host: opts.host, port: opts.port, maxPayload: opts.maxFrameBytes, perMessageDeflate: false });
      wss.once('listening', () => resolve(new ProtocolServer(wss, opts)));
      wss.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, opts.host, opts.port)));
    });
  }

  get port(): number {
    return (this.#wss.address() as AddressInfo).port;
  }

  #onConnection(ws: WebSocket, peer: string, clientHost: string): void {
    const { logger, maxInFlightPerConnection } = this.#opts;
    this.#connections.add(ws);
    const abort = new AbortController();
    let inFlight = 0;
    let paused = false;
    logger.debug({ peer }, 'client connected');
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) {
        ws.close(1003, 'binary frames only');
        return;
      }
      inFlight++;
      if (inFlight >= maxInFlightPerConnection && !paused) {
        paused = true;
        ws.pause();
      }
      this.#handleFrame(ws, wsBytes(data), peer, clientHost, abort.signal).finally(() => {
        inFlight--;
        if (paused && inFlight < maxInFlightPerConnection / 2) {
          paused = false;
          ws.resume();
        }
      });
    });
    ws.on('error', (err) => logger.debug({ peer, err: err.message }, 'client connection error'));
    ws.on('close', (code) => {
      this.#connections.delete(ws);
      abort.abort();
      logger.debug({ peer, code }, 'client disconnected');
    });
  }

  async #handleFrame(ws: WebSocket, frame: Uint8Array, peer: string, clientHost: string, signal: AbortSignal): Promise<void> {
    const { broker, logger, metrics } = this.#opts;
    let header;
    let body;
    try {
      ({ header, body } = readRequestHeader(frame));
    } catch {
      ws.close(1002, 'malformed request header');
      return;
    }
    const id = header.correlationId;
    let apiName = 'unknown'; // an unknown API key is not a label value a client may choose
    try {
      const api = broker.spec(header.apiKey, header.apiVersion);
      apiName = api.name;
      const schemas = api.versions[header.apiVersion]!;
      let request;
      try {
        request = decode(schemas.request, body);
      } catch (err) {
        if (err instanceof WireError) {
          metrics.request(apiName, 'INVALID_REQUEST');
          reply(ws, writeErrorResponse(id, 'INVALID_REQUEST', `${api.name} body does not decode: ${err.message}`));
          return;
        }
        throw err;
      }
      const response = await broker.handle(header.apiKey, request, { clientId: header.clientId ?? '', clientHost, signal });
      const noResponse = header.apiKey === Apis.Produce.key && (request as { acks: number }).acks === 0; // acks=0
      const encoded = noResponse ? null : encodeResponse(id, schemas.response, response, roughSize(response) + 64);
      metrics.request(apiName, 'NONE');
      if (encoded) reply(ws, encoded);
    } catch (err) {
      metrics.request(apiName, isEddyError(err) ? err.errorName : 'UNKNOWN_SERVER_ERROR');
      if (isEddyError(err)) {
        reply(ws, writeErrorResponse(id, err.errorName, err.detail));
      } else {
        logger.error({ peer, err, apiKey: header.apiKey }, 'unexpected error handling a request');
        reply(ws, writeErrorResponse(id, 'UNKNOWN_SERVER_ERROR', `request failed unexpectedly: ${(err as Error)?.message ?? String(err)}`));
      }
    }
  }

  /** Stops accepting, closes every connection, and waits for the listener to close. */
  async close(): Promise<void> {
    for (const ws of this.#connections) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

/** Says what went wrong with the listener and what to do, instead of a bare errno. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host}:${port}`;
  if (err.code === 'EADDRINUSE') {
    return new Error(`cannot listen on ${where}: the port is already in use (another eddy?). Stop that process or choose another --port`);
  }
  if (err.code === 'EACCES') return new Error(`cannot listen on ${where}: permission denied (ports below 1024 need privileges). Choose a --port above 1024`);
  if (err.code === 'EADDRNOTAVAIL') return new Error(`cannot listen on ${where}: this machine has no such address. Check --host`);
  return new Error(`cannot listen on ${where}: ${err.message}`);
}

function reply(ws: WebSocket, frame: Uint8Array): void {
  if (ws.readyState === ws.OPEN) ws.send(frame, { binary: true });
}

