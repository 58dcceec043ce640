/**
 * The transport seam. Everything in the client talks to this interface, never to a concrete
 * WebSocket, so that Node (`ws`, see ws-socket.ts) and a browser WebSocket can be swapped without
 * touching the protocol code. One message = one frame, always binary.
 */

/** What a socket reports back. Each is called at most once per event, after `open` for messages. */
export interface SocketHandlers {
  open(): void;
  message(frame: Uint8Array): void;
  /** The socket is gone (refused, dropped, or closed by either side); `reason` is for error details. */
  close(reason: string): void;
}

export interface ClientSocket {
  /** Queues one binary frame. Only called after `open`. */
  send(frame: Uint8Array): void;
  /** Closes the socket; resolves once it is closed. Handlers are not called after this. */
  close(): Promise<void>;
}

/** Opens a socket to `url` and reports its life through `handlers`. */
export type SocketFactory = (url: string, handlers: SocketHandlers) => ClientSocket;
