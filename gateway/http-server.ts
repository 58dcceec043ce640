/**
 * The operator's HTTP port: `GET /health` (JSON, 503 when the node is failing) for supervisors and
 * load balancers, `GET /metrics` (Prometheus text) for scrapers. Nothing else: no writes, no
 * admin, so exposing it to a monitoring network exposes no data.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthReport } from '../node/health.js';
import { listenError } from '../node/listen-error.js';
import type { Logger } from '../node/logger.js';

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  health(): HealthReport;
  metrics: { text(): Promise<string>; contentType: string };
  logger: Logger;
}

const NOT_FOUND = 'not found: this port serves GET /health (JSON status) and GET /metrics (Prometheus)\n';

export class HttpServer {
  readonly #server: Server;
  #closing: Promise<void> | null = null;

  private constructor(server: Server) {
    this.#server = server;
  }

  static listen(opts: HttpServerOptions): Promise<HttpServer> {
    const server = createServer((req, res) => {
      handle(req, res, opts).catch((err: Error) => {
        opts.logger.error({ err, url: req.url }, 'HTTP request failed unexpectedly');
        if (!res.headersSent) send(res, req, 500, 'text/plain; charset=utf-8', `internal error: ${err.message}\n`);
        else res.destroy();
      });
    });
    // A scraper that stops mid-request must not hold a socket for ever.
    server.requestTimeout = 10_000;
    server.headersTimeout = 10_000;
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          listenError(err, {
            label: ' for HTTP (health and metrics)',
            host: opts.host,
            port: opts.port,
            usualHolder: 'another eddy?',
            whenTaken: 'Choose another --http-port or --no-http',
            portFlag: '--http-port',
          }),
        ),
      );
      server.listen(opts.port, opts.host, () => resolve(new HttpServer(server)));
    });
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Stops accepting, ends open (keep-alive) connections, and resolves once closed. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      // Prometheus keeps its connection open between scrapes; close() alone would wait for it.
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: HttpServerOptions): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, req, 405, 'text/plain; charset=utf-8', `method ${req.method} not allowed: use GET /health or GET /metrics\n`);
    return;
  }
  if (path === '/health') {
    const { httpStatus, body } = opts.health();
    send(res, req, httpStatus, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`);
  } else if (path === '/metrics') {
    send(res, req, 200, opts.metrics.contentType, await opts.metrics.text());
  } else {
    send(res, req, 404, 'text/plain; charset=utf-8', NOT_FOUND);
  }
}

/** HEAD gets the same status and headers as GET, without the body. */
function send(res: ServerResponse, req: IncomingMessage, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
