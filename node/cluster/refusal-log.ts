/**
 * Peers refused by the handshake or the identity check, logged at most once per address per
 * interval (a misconfigured or hostile peer retries in a loop; one line a minute says enough)
 * and every one counted, so the rate shows on a dashboard even while the log is quiet.
 */
import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import type { Logger } from '../logger.js';

export interface RefusalLogOptions {
  logger: Logger;
  /** Called once per refusal with its reason (e.g. BAD_PROOF); see peerAuthFailureCounter. */
  count?: (reason: string) => void;
  /** Milliseconds; tests pass a fake clock. */
  now?: () => number;
  /** Default one minute. */
  intervalMs?: number;
}

export class RefusalLog {
  readonly #logger: Logger;
  readonly #count: (reason: string) => void;
  readonly #now: () => number;
  readonly #intervalMs: number;
  /** Per address: when it was last logged, and refusals since then not logged. */
  readonly #seen = new Map<string, { loggedAt: number; suppressed: number }>();

  constructor(opts: RefusalLogOptions) {
    this.#logger = opts.logger;
    this.#count = opts.count ?? (() => {});
    this.#now = opts.now ?? Date.now;
    this.#intervalMs = opts.intervalMs ?? 60_000;
  }

  /** Records one refused peer; returns whether it was logged. */
  refused(address: string, reason: string, detail?: string): boolean {
    this.#count(reason);
    const now = this.#now();
    this.#forgetOld(now);
    const seen = this.#seen.get(address);
    if (seen && now - seen.loggedAt < this.#intervalMs) {
      seen.suppressed++;
      return false;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.#seen.set(address, { loggedAt: now, suppressed: 0 });
    const more = suppressed > 0 ? ` (${suppressed} more refusal${suppressed === 1 ? '' : 's'} from it not logged in the last ${Math.round(this.#intervalMs / 1000)} s)` : '';
    this.#logger.warn({ address, reason, ...(suppressed > 0 ? { suppressed } : {}) }, `peer link from ${address} refused: ${reason}${detail ? `, ${detail}` : ''}${more}`);
    return true;
  }

  /** Addresses not refused for an interval are forgotten, so many one-off addresses cannot grow the map for ever. */
  #forgetOld(now: number): void {
    if (this.#seen.size < 1024) return;
    for (const [address, s] of this.#seen) if (now - s.loggedAt >= this.#intervalMs) this.#seen.delete(address);
  }
}

/** `eddy_peer_auth_failures_total{reason}` in `registry`, as a RefusalLog `count` callback. */
export function peerAuthFailureCounter(registry: Registry): (reason: string) => void {
  const counter = new Counter({
    name: 'eddy_peer_auth_failures_total',
    help: 'Peer links refused by authentication or identity checks, by reason (BAD_PROOF, CLUSTER_ID_MISMATCH, ...)',
    labelNames: ['reason'],
    registers: [registry],
  });
  return (reason) => counter.inc({ reason });
}
