/**
 * A TCP proxy on 127.0.0.1 in front of a node that, with probability `dropResponse`, throws away
 * a chunk the node sends back and cuts the connection: the request reached the node (and was
 * acted on) but the client never hears the answer. That is the case idempotent retries exist for.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { onTestFinished } from 'vitest';

export interface FlakyProxy {
  url: string;
  /** Connections cut so far. */
  cuts(): number;
  close(): Promise<void>;
}

export async function flakyProxy(target: { host: string; port: number }, opts: { dropResponse: number; random?: () => number; maxCuts?: number }): Promise<FlakyProxy> {
  const random = opts.random ?? Math.random;
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let handshakeDone = false;
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      // The first chunk is the WebSocket upgrade response: always let it through.
      if (handshakeDone && cuts < (opts.maxCuts ?? Infinity) && random() < opts.dropResponse) {
        cuts++;
        cut();
        return;
      }
      handshakeDone = true;
      client.write(d);
    });
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const proxy = {
    url: `ws://127.0.0.1:${port}`,
    cuts: () => cuts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  onTestFinished(() => proxy.close());
  return proxy;
}
