/**
 * The `ws` adapter: the only file of the client that uses Node-only APIs. A browser build would
 * provide a SocketFactory over the global WebSocket instead (binaryType 'arraybuffer').
 */
import '../../protocol/crc32c-native.js'; // hardware CRC-32C in Node (see crc32c-native.ts)
import WebSocket from 'ws';
import type { ClientSocket, SocketFactory } from './socket.js';
import { wsBytes } from '../../protocol/ws-bytes.js';

/** After close(), how long to wait for the server's close frame before dropping the TCP socket. */
const CLOSE_GRACE_MS = 1000;

function zeroMask(mask: Uint8Array): void {
  mask.fill(0);
}


export const wsSocketFactory: SocketFactory = (url, handlers): ClientSocket => {
  // No permessage-deflate: record batches carry their own compression, and deflating twice only
  // costs CPU on a small gateway.
  // A zero masking key, which ws then skips applying: masking (RFC 6455 §10.3) protects HTTP
  // intermediaries from frames crafted by untrusted script in a browser. A Node process runs no
  // such script, and XOR-ing every byte costs ~20% of the producer's CPU. Browsers mask anyway.
  const ws = new WebSocket(url, { perMessageDeflate: false, generateMask: zeroMask });
  let silenced = false;
  let lastError = '';

  ws.on('open', () => {
    if (!silenced) handlers.open();
  });
  ws.on('message', (data, isBinary) => {
    // The protocol is binary only; a text frame is a protocol violation we do not act on.
    if (!silenced && isBinary) handlers.message(wsBytes(data));
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
