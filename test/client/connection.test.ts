/**
 * Connection mechanics against a scripted peer on a real socket: reordering, silence and drops
 * on demand are what a real node cannot be made to do deterministically. The SDK against a real
 * node is in the *.int.test.ts files.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { Apis } from '../../protocol/apis/index.js';
import { ApiVersionsResponseV0 } from '../../protocol/apis/api-versions.js';
import { ERRORS, isEddyError } from '../../protocol/errors.js';
import { encodeResponse, readRequestHeader, writeErrorResponse, type RequestHeader } from '../../protocol/frame.js';
import { encode } from '../../protocol/wire/schema.js';
import { ClientClosedError } from '../../gateway/client/client-errors.js';
import { Connection } from '../../gateway/client/connection.js';
import type { SocketFactory } from '../../gateway/client/socket.js';
import { wsSocketFactory } from '../../gateway/client/ws-socket.js';
import { rejection, waitFor } from '../helpers/client.js';

type Handler = (header: RequestHeader, ws: WebSocket) => void;

interface Peer {
  url: string;
  port: number;
  received: RequestHeader[];
  sockets: Set<WebSocket>;
  close(): Promise<void>;
}

function startPeer(handler: Handler, port = 0): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port });
    const received: RequestHeader[] = [];
    const sockets = new Set<WebSocket>();
    wss.on('connection', (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', (data: Buffer) => {
        const { header } = readRequestHeader(new Uint8Array(data));
        received.push(header);
        handler(header, ws);
      });
    });
    wss.once('error', reject);
    wss.once('listening', () => {
      const p = (wss.address() as AddressInfo).port;
      resolve({
        url: `ws://127.0.0.1:${p}`,
        port: p,
        received,
        sockets,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.terminate();
            wss.close(() => done());
          }),
      });
    });
  });
}

/** An ApiVersions answer whose one entry carries `tag`, so tests can tell answers apart. */
function versionsReply(correlationId: number, tag: number): Uint8Array {
  return encodeResponse(correlationId, ApiVersionsResponseV0, { apiKeys: [{ apiKey: tag, minVersion: 0, maxVersion: 0 }] });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function connect(url: string, opts: Partial<ConstructorParameters<typeof Connection>[0]> = {}): Connection {
  const conn = new Connection({ url, clientId: 'test', reconnectBackoff: { initialMs: 20, maxMs: 100 }, ...opts });
  cleanups.push(() => conn.close());
  return conn;
}

describe('connection', () => {
  it('pipelines requests and matches out-of-order responses by correlation id', async () => {
    const held: RequestHeader[] = [];
    const peer = await startPeer((h, ws) => {
      held.push(h);
      // Answer in reverse order once all three are in.
      if (held.length === 3) for (const x of [...held].reverse()) ws.send(versionsReply(x.correlationId, x.correlationId + 100));
    });
    cleanups.push(() => peer.close());
    const conn = connect(peer.url);
    const answers = await Promise.all([0, 1, 2].map(() => conn.request(Apis.ApiVersions, {})));
    const ids = peer.received.map((h) => h.correlationId);
    expect(new Set(ids).size).toBe(3);
    expect(answers.map((a) => a.apiKeys[0]!.apiKey)).toEqual(ids.map((id) => id + 100));
    expect(peer.received.every((h) => h.clientId === 'test' && h.apiKey === 18 && h.apiVersion === 0)).toBe(true);
  });

  it('turns a header error into an EddyError with the name and retriable flag of the table', async () => {
    const peer = await startPeer((h, ws) => ws.send(writeErrorResponse(h.correlationId, 'UNSUPPORTED_VERSION', 'nope')));
    cleanups.push(() => peer.close());
    const err = await rejection(connect(peer.url).request(Apis.ApiVersions, {}));
    expect(isEddyError(err, 'UNSUPPORTED_VERSION')).toBe(true);
    expect((err as { retriable: boolean }).retriable).toBe(ERRORS.UNSUPPORTED_VERSION.retriable);
    expect((err as Error).message).toContain('nope');
  });

  it('resolves requests that expect no response as soon as they are written', async () => {
    const peer = await startPeer(() => {});
    cleanups.push(() => peer.close());
    const conn = connect(peer.url);
    await expect(conn.request(Apis.ApiVersions, {}, { expectResponse: false, timeoutMs: 1000 })).resolves.toBeUndefined();
  });

  it('times out a silent request with REQUEST_TIMED_OUT and replaces the socket', async () => {
    let answer = false;
    const peer = await startPeer((h, ws) => {
      if (answer) ws.send(versionsReply(h.correlationId, 1));
    });
    cleanups.push(() => peer.close());
    const conn = connect(peer.url);
    const started = Date.now();
    const err = await rejection(conn.request(Apis.ApiVersions, {}, { timeoutMs: 150 }));
    expect(isEddyError(err, 'REQUEST_TIMED_OUT')).toBe(true);
    expect((err as { retriable: boolean }).retriable).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    answer = true;
    await conn.request(Apis.ApiVersions, {});
    expect(conn.connectCount).toBe(2);
  });

  it('fails in-flight requests with a retriable error when the socket drops, then reconnects for later ones', async () => {
    let drop = true;
    const peer = await startPeer((h, ws) => {
      if (drop) {
        drop = false;
        ws.terminate();
      } else {
        ws.send(versionsReply(h.correlationId, 7));
      }
    });
    cleanups.push(() => peer.close());
    const conn = connect(peer.url);
    const err = await rejection(conn.request(Apis.ApiVersions, {}));
    expect(isEddyError(err, 'REQUEST_TIMED_OUT')).toBe(true);
    expect((err as { retriable: boolean }).retriable).toBe(true);
    expect((err as Error).message).toMatch(/lost/);
    const res = await conn.request(Apis.ApiVersions, {});
    expect(res.apiKeys[0]!.apiKey).toBe(7);
    expect(conn.connectCount).toBe(2);
  });

  it('holds requests while no node listens and sends them once one does', async () => {
    const probe = await startPeer(() => {});
    const port = probe.port;
    await probe.close();
    // No node listens, so every socket that closes is a refused attempt.
    let refused = 0;
    const counting: SocketFactory = (url, handlers) =>
      wsSocketFactory(url, {
        ...handlers,
        close: (reason) => {
          refused++;
          handlers.close(reason);
        },
      });
    const conn = connect(`ws://127.0.0.1:${port}`, { socketFactory: counting });
    const pending = conn.request(Apis.ApiVersions, {}, { timeoutMs: 5000 });
    await waitFor(() => refused >= 3, 'three refused connection attempts');
    const peer = await startPeer((h, ws) => ws.send(versionsReply(h.correlationId, 9)), port);
    cleanups.push(() => peer.close());
    expect((await pending).apiKeys[0]!.apiKey).toBe(9);
  });

  it('fails a request that found no connection within its timeout', async () => {
    const probe = await startPeer(() => {});
    const port = probe.port;
    await probe.close();
    const err = await rejection(connect(`ws://127.0.0.1:${port}`).request(Apis.ApiVersions, {}, { timeoutMs: 200 }));
    expect(isEddyError(err, 'REQUEST_TIMED_OUT')).toBe(true);
    expect((err as Error).message).toMatch(/no connection/);
  });

  it('close() fails pending requests with ClientClosedError and refuses new ones', async () => {
    const peer = await startPeer(() => {});
    cleanups.push(() => peer.close());
    const conn = connect(peer.url);
    const pending = rejection(conn.request(Apis.ApiVersions, {}));
    await waitFor(() => peer.received.length === 1, 'the request to reach the peer'); // pending on the wire, not in the queue
    await conn.close();
    expect(await pending).toBeInstanceOf(ClientClosedError);
    expect(await rejection(conn.request(Apis.ApiVersions, {}))).toBeInstanceOf(ClientClosedError);
    await waitFor(() => peer.sockets.size === 0, 'the peer to see the socket closed');
  });

  it('refuses a URL that is not ws:// or wss://', () => {
    expect(() => new Connection({ url: 'http://127.0.0.1:1' })).toThrow(/ws:\/\//);
    expect(() => new Connection({ url: 'not a url' })).toThrow(TypeError);
  });
});
