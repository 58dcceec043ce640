/**
 * How a quorum driver reaches its peers. The peer link will implement this over WebSocket
 * (mapping to the Vote/BeginQuorumEpoch/EndQuorumEpoch/Fetch/FetchSnapshot APIs); tests use the
 * in-memory `LoopbackQuorumNetwork`. Delivery is best effort, as Raft expects: a message may be
 * lost, never altered.
 */
import type { RaftMessage } from './raft/raft-messages.js';

export interface QuorumTransport {
  send(to: number, message: RaftMessage): void;
  onMessage(handler: (from: number, message: RaftMessage) => void): void;
}

/**
 * Transports for several in-process nodes. Messages are delivered on a later macrotask (never
 * re-entrantly inside `send`); a node that is disconnected, or has no handler, loses them.
 */
export class LoopbackQuorumNetwork {
  readonly #handlers = new Map<number, (from: number, message: RaftMessage) => void>();
  readonly #down = new Set<number>();

  /** The transport node `id` uses. A second call for the same id replaces the first (a restart). */
  transport(id: number): QuorumTransport {
    this.#handlers.delete(id);
    return {
      send: (to, message) => {
        if (this.#down.has(id) || this.#down.has(to)) return;
        setImmediate(() => {
          if (this.#down.has(id) || this.#down.has(to)) return;
          this.#handlers.get(to)?.(id, message);
        });
      },
      onMessage: (handler) => void this.#handlers.set(id, handler),
    };
  }

  /** Cut `id` off (both directions) until `connect`. */
  disconnect(id: number): void {
    this.#down.add(id);
  }

  connect(id: number): void {
    this.#down.delete(id);
  }
}
