/**
 * The active controller's broker sessions (Kafka's BrokerHeartbeatManager): when each broker was
 * last heard from, in memory only. Pure: the caller passes the clock's reading. A new controller
 * starts every registered broker's clock when it takes over (it cannot know when the old one last
 * heard from them), so a failover never fences a live broker.
 */
import { brokersToFence, type MetadataImage } from './metadata/index.js';

export class BrokerSessions {
  readonly sessionTimeoutMs: number;
  readonly #last = new Map<number, number>();

  constructor(sessionTimeoutMs: number) {
    if (!Number.isFinite(sessionTimeoutMs) || sessionTimeoutMs <= 0) throw new RangeError(`session timeout ${sessionTimeoutMs} must be > 0`);
    this.sessionTimeoutMs = sessionTimeoutMs;
  }

  /** When each broker was last heard from (for diagnostics and tests). */
  get lastHeartbeat(): ReadonlyMap<number, number> {
    return this.#last;
  }

  /** A registration or heartbeat from `brokerId` arrived at `nowMs`. */
  touch(brokerId: number, nowMs: number): void {
    this.#last.set(brokerId, nowMs);
  }

  /** This node became the active controller at `nowMs`: every registered broker gets a full session from now. */
  takeOver(image: MetadataImage, nowMs: number): void {
    this.#last.clear();
    for (const id of image.brokers.keys()) this.#last.set(id, nowMs);
  }

  /** Registered unfenced brokers not heard from for more than the session timeout before `nowMs`, in id order. */
  expired(image: MetadataImage, nowMs: number): number[] {
    return brokersToFence(this.#last, nowMs, this.sessionTimeoutMs, image);
  }

  /** How long `brokerId` has been silent at `nowMs`, or null when it has no session. */
  silentForMs(brokerId: number, nowMs: number): number | null {
    const at = this.#last.get(brokerId);
    return at === undefined ? null : nowMs - at;
  }
}

/**
 * Kafka's rule for unfencing: a broker is caught up once it has applied the metadata log up to
 * its own registration record (whose offset is its broker epoch), i.e. it has seen everything the
 * controller had committed when it registered.
 */
export function isCaughtUp(brokerEpoch: number, currentMetadataOffset: number): boolean {
  return currentMetadataOffset >= brokerEpoch;
}
