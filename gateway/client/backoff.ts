/** Reconnect delays: exponential, bounded, with jitter so that many clients do not reconnect in step. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  initialMs: number;
  /** Upper bound on any delay, in ms. */
  maxMs: number;
  /** Fraction of spread around the nominal delay (Kafka uses 0.2). */
  jitter?: number;
}

export const DEFAULT_RECONNECT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5000, jitter: 0.2 };

/** Delay before retry number `attempt` (0-based): initialMs·2^attempt ± jitter, never above maxMs. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const nominal = Math.min(options.maxMs, options.initialMs * 2 ** attempt);
  const jitter = options.jitter ?? 0.2;
  const factor = 1 - jitter + 2 * jitter * random();
  return Math.max(0, Math.min(options.maxMs, Math.round(nominal * factor)));
}
