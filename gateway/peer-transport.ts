/**
 * What a peer link runs over: something that connects to a URL and carries binary frames.
 * PeerLink sees only this interface, so TLS (wss://, with the cluster's CA and client
 * certificates) is added by giving it another PeerTransport, not by touching PeerLink or its
 * callers. The HMAC handshake runs on top of whichever transport it is.
 */
import WebSocket from 'ws';
import { wsBytes } from '../protocol/ws-bytes.js';

export interface PeerSocketEvents {
  open(): void;
  message(frame: Uint8Array): void;
  /** Once, whether the socket ever opened or not; `reason` says why when known. */
  close(code: number, reason: string): void;
}

export interface PeerSocket {
  send(frame: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export interface PeerTransport {
  connect(url: string, events: PeerSocketEvents): PeerSocket;
}

/** Plain WebSocket (ws://, and wss:// with the system's trust store). */
export function wsTransport(opts: { maxFrameBytes?: number } = {}): PeerTransport {
  return {
    connect(url, events) {
      const ws = new WebSocket(url, { perMessageDeflate: false, ...(opts.maxFrameBytes ? { maxPayload: opts.maxFrameBytes } : {}) });
      let error = '';
      ws.on('open', () => events.open());
      ws.on('message', (data, isBinary) => {
        if (isBinary) events.message(wsBytes(data));
        else ws.close(1003, 'binary frames only');
      });
      ws.on('error', (err) => void (error = err.message));
      ws.on('close', (code, reason) => events.close(code, reason.toString() || error));
      return {
        send: (frame) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(frame, { binary: true });
        },
        close: (code, reason) => {
          if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
          else ws.close(code, reason);
        },
      };
    },
  };
}
