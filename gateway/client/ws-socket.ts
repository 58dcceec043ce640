/**
 * The `ws` adapter: the only file of the client that uses Node-only APIs. A browser build would
 * provide a SocketFactory over the global WebSocket instead (binaryType 'arraybuffer').
 */
import WebSocket from 'ws';
import type { ClientSocket, SocketFactory } from './socket.js';

/** After close(), how long to wait for the server's close frame before dropping the TCP socket. */
const CLOSE_GRACE_MS = 1000;

function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

export const wsSocketFactory: SocketFactory = (url, handlers): ClientSocket => {
  // No permessage-deflate: record batches carry their own compression, and deflating twice only
  // costs CPU on a small gateway.
  const ws = new WebSocket(url, { perMessageDeflate: false });
  let silenced = false;
  let lastError = '';

  ws.on('open', () => {
    if (!silenced) handlers.open();
  });
  ws.on('message', (data, isBinary) => {
    // The protocol is binary only; a text frame is a protocol violation we do not act on.
    if (!silenced && isBinary) handlers.message(toBytes(data));
  });
  // ws throws on an 'error' without a listener; the 'close' that always follows carries the reason.
  ws.on('error', (err) => {
    lastError = err.message;
  });
  ws.on('close', (code) => {
    if (!silenced) handlers.close(lastError || `socket closed with code ${code}`);
  });

  return {
    send(frame) {
      ws.send(frame);
    },
    close() {
      silenced = true;
      if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
        ws.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        ws.close();
      });
    },
  };
};
