/**
 * The WebSocket front door: one binary message per request frame (see protocol/frame.ts).
 *
 * Bad input never reaches the log or crashes the node:
 * - a frame over `maxFrameBytes` closes the connection (1009; ws enforces it before buffering);
 * - a text frame closes it (1003); a frame too short for the header closes it (1002), since
 *   without a correlation id no response can be matched;
 * - an unknown API or version, or a body that does not decode, gets an error response
 *   (UNSUPPORTED_VERSION, INVALID_REQUEST) and the connection stays open.
 * Requests are handled concurrently (pipelining); responses go out as they complete. A client
 * that does not read its responses is no longer read either (server-connection.ts).
 */
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { Broker } from '../node/broker/broker.js';
import { listenError } from '../node/listen-error.js';
import type { Logger } from '../node/logger.js';
import { NO_BROKER_METRICS, type BrokerMetrics } from '../node/metrics/broker-metrics.js';
import { ServerConnection, type ConnectionStats } from './server-connection.js';

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
  /**
   * Unsent response bytes per connection past which the server stops reading from it until the
   * client reads (backpressure for stalled consumers; see server-connection.ts).
   */
  maxBufferedBytesPerConnection?: number;
  /** Counts each answered request by API and result. */
  metrics?: Pick<BrokerMetrics, 'request'>;
  /**
   * Where peer links connect: upgrades on `path` go to `accept` (peer-server.ts) with the remote
   * IP; every other path is a client connection. Absent: every path is a client's.
   */
  peer?: { path: string; accept(ws: WebSocket, address: string): void } | null;
}

export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;
/**
 * 4 MiB: a few default fetches (1 MiB per partition) fit, so a consumer reading normally never
 * waits on it, while a stalled one holds about 5 MiB of the node's memory (this plus one fetch
 * answer), not as much of the log as it keeps asking for.
 */
export const DEFAULT_MAX_BUFFERED_BYTES_PER_CONNECTION = 4 * 1024 * 1024;

/** The path of a request target (`/eddy-peer?x=1` → `/eddy-peer`). */
function pathOf(target: string | undefined): string {
  const t = target ?? '/';
  const q = t.indexOf('?');
  return q < 0 ? t : t.slice(0, q);
}

export class ProtocolServer {
  readonly #wss: WebSocketServer;
  readonly #opts: Required<ServerOptions>;
  readonly #connections = new Map<WebSocket, ServerConnection>();

  private constructor(wss: WebSocketServer, opts: Required<ServerOptions>) {
    this.#wss = wss;
    this.#opts = opts;
    // req.socket is the connection's TCP socket, which ws goes on using: its 'drain' tells when
    // a paused connection may be read again.
    wss.on('connection', (ws, req) => {
      const peer = opts.peer;
      if (peer && pathOf(req.url) === peer.path) peer.accept(ws, req.socket.remoteAddress ?? '');
      else this.#onConnection(ws, req.socket, `${req.socket.remoteAddress}:${req.socket.remotePort}`, req.socket.remoteAddress ?? '');
    });
  }

  static listen(options: ServerOptions): Promise<ProtocolServer> {
    const opts = { peer: null, maxInFlightPerConnection: 256, maxBufferedBytesPerConnection: DEFAULT_MAX_BUFFERED_BYTES_PER_CONNECTION, metrics: NO_BROKER_METRICS, ...options };
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ host: opts.host, port: opts.port, maxPayload: opts.maxFrameBytes, perMessageDeflate: false });
      wss.once('listening', () => resolve(new ProtocolServer(wss, opts)));
      wss.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, { label: '', host: opts.host, port: opts.port, usualHolder: 'another eddy?', whenTaken: 'Stop that process or choose another --port', portFlag: '--port' })));
    });
  }

  get port(): number {
    return (this.#wss.address() as AddressInfo).port;
  }

  #onConnection(ws: WebSocket, socket: Duplex, peer: string, clientHost: string): void {
    const { broker, logger, metrics, maxInFlightPerConnection, maxBufferedBytesPerConnection } = this.#opts;
    const conn = new ServerConnection(ws, socket, peer, clientHost, broker, logger, metrics, {
      maxInFlight: maxInFlightPerConnection,
      maxBufferedBytes: maxBufferedBytesPerConnection,
    });
    this.#connections.set(ws, conn);
    logger.debug({ peer }, 'client connected');
    ws.on('error', (err) => logger.debug({ peer, err: err.message }, 'client connection error'));
    ws.on('close', (code) => {
      this.#connections.delete(ws);
      logger.debug({ peer, code }, 'client disconnected');
    });
  }

  /** Flow-control state of every open client connection (see ServerConnection). */
  connectionStats(): ConnectionStats[] {
    return [...this.#connections.values()].map((c) => c.stats());
  }

  /** Stops accepting, closes every connection, and waits for the listener to close. */
  async close(): Promise<void> {
    for (const ws of this.#connections.keys()) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}
