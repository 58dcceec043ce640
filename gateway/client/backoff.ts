/** Reconnect delays: exponential, bounded, with jitter so that many clients do not reconnect in step. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms. */
  initialMs: number;
  /** Upper bound on any delay, in ms. */
  maxMs: number;
  /** Fraction of spread around the nominal delay (Kafka uses 0.2). */
  jitter?: number;
}

/** Kafka's defaults (reconnect.backoff.ms 50, reconnect.backoff.max.ms 1000): a node that comes back is found within about a second. */
export const DEFAULT_RECONNECT_BACKOFF: BackoffOptions = { initialMs: 50, maxMs: 1000, jitter: 0.2 };

/** The reconnect options every client (Producer, Consumer, Admin) takes, under Kafka's names. */
export interface ReconnectOptions {
  /** Delay before the first reconnect attempt, doubling on each failure. Default 50 ms. */
  reconnectBackoffMs?: number;
  /** Longest delay between reconnect attempts. Default 1 s. */
  reconnectBackoffMaxMs?: number;
}

/** The Connection's backoff from a client's options; throws TypeError on a value that is not a positive number. */
export function reconnectBackoff(options: ReconnectOptions): BackoffOptions {
  const initialMs = options.reconnectBackoffMs ?? DEFAULT_RECONNECT_BACKOFF.initialMs;
  const maxMs = options.reconnectBackoffMaxMs ?? Math.max(initialMs, DEFAULT_RECONNECT_BACKOFF.maxMs);
  if (!(initialMs > 0)) throw new TypeError(`reconnectBackoffMs must be > 0, got ${initialMs}`);
  if (!(maxMs >= initialMs)) throw new TypeError(`reconnectBackoffMaxMs must be >= reconnectBackoffMs (${initialMs}), got ${maxMs}`);
  return { ...DEFAULT_RECONNECT_BACKOFF, initialMs, maxMs };
}

/** Delay before retry number `attempt` (0-based): initialMs·2^attempt ± jitter, never above maxMs. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const nominal = Math.min(options.maxMs, options.initialMs * 2 ** attempt);
  const jitter = options.jitter ?? 0.2;
  const factor = 1 - jitter + 2 * jitter * random();
  return Math.max(0, Math.min(options.maxMs, Math.round(nominal * factor)));
}
