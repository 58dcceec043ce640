/**
 * A WebSocket server on 127.0.0.1 that speaks the node's protocol but answers from a script:
 * for client tests whose point is an interleaving (or an answer) a real node produces only by
 * chance. Each API gets a handler that returns the response body (or a promise of it, to answer
 * later); a thrown EddyError becomes a header error. APIs without a handler get INVALID_REQUEST.
 */
import { onTestFinished } from 'vitest';
import { WebSocketServer } from 'ws';
import { API_BY_KEY, type ApiName } from '../../protocol/apis/index.js';
import { isEddyError } from '../../protocol/errors.js';
import { encodeResponse, readRequestHeader, writeErrorResponse } from '../../protocol/frame.js';
import { decode } from '../../protocol/wire/schema.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler = (request: any) => unknown;

export interface ScriptedNode {
  url: string;
  /** Requests received so far, per API name. */
  count(api: ApiName): number;
  /** Drops every connection and stops listening: the node is gone. */
  close(): Promise<void>;
}

export async function scriptedNode(handlers: Partial<Record<ApiName, Handler>>): Promise<ScriptedNode> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => server.once('listening', () => r()));
  const counts = new Map<string, number>();
  server.on('connection', (ws) =>
    ws.on('message', (data: Buffer) => {
      const { header, body } = readRequestHeader(new Uint8Array(data));
      const api = API_BY_KEY.get(header.apiKey);
      const schemas = api?.versions[header.apiVersion];
      const handler = api && (handlers[api.name as ApiName] as Handler | undefined);
      if (!api || !schemas || !handler) {
        ws.send(writeErrorResponse(header.correlationId, 'INVALID_REQUEST', `the scripted node does not answer API key ${header.apiKey}`));
        return;
      }
      counts.set(api.name, (counts.get(api.name) ?? 0) + 1);
      void (async () => {
        try {
          const response = await handler(decode(schemas.request, body));
          ws.send(encodeResponse(header.correlationId, schemas.response, response as never));
        } catch (err) {
          if (!isEddyError(err)) throw err;
          ws.send(writeErrorResponse(header.correlationId, err.errorName, err.detail));
        }
      })();
    }),
  );
  const port = (server.address() as { port: number }).port;
  let closed: Promise<void> | undefined;
  const node: ScriptedNode = {
    url: `ws://127.0.0.1:${port}`,
    count: (api) => counts.get(api) ?? 0,
    close: () =>
      (closed ??= new Promise<void>((r) => {
        for (const ws of server.clients) ws.terminate();
        server.close(() => r());
      })),
  };
  onTestFinished(() => node.close());
  return node;
}

/** A Metadata answer listing `topic` with `partitions` partitions on node 0. */
export function metadataFor(topic: string, partitions: number): unknown {
  return {
    brokers: [{ nodeId: 0, host: '127.0.0.1', port: 0 }],
    controllerId: 0,
    topics: [
      {
        errorCode: 0,
        errorMessage: null,
        name: topic,
        isInternal: false,
        partitions: Array.from({ length: partitions }, (_, partition) => ({ errorCode: 0, partition, leader: 0, leaderEpoch: 0, replicas: [0], isr: [0] })),
      },
    ],
  };
}
