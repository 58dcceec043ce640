/**
 * Turning wire error codes into EddyError, and the one error the client raises on its own.
 * Server errors always surface as EddyError so that callers can branch on `retriable`/`errorName`.
 */
import { EddyError, errorNameForCode } from '../../protocol/errors.js';

/** The EddyError for a non-zero wire error code; `context` says which topic/partition or API. */
export function serverError(code: number, message: string | null, context: string): EddyError {
  const name = errorNameForCode(code);
  const detail = message ? `${context}: ${message}` : `${context}: server returned error code ${code}`;
  return new EddyError(name, detail);
}

/** Whether an answer carries, anywhere within a few levels (header fields, per topic, per partition), one of `codes` as an errorCode. */
export function carriesErrorCode(value: unknown, codes: ReadonlySet<number>, depth = 0): boolean {
  if (depth > 4 || typeof value !== 'object' || value === null || value instanceof Uint8Array) return false;
  if (Array.isArray(value)) return value.some((v) => carriesErrorCode(v, codes, depth + 1));
  for (const [k, v] of Object.entries(value)) {
    if (k === 'errorCode' ? codes.has(v as number) : carriesErrorCode(v, codes, depth + 1)) return true;
  }
  return false;
}

/** Whether an error says that trying again may succeed (EddyError's flag, or a client error's). */
export function isRetriable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}

/**
 * The client (producer, consumer, admin or connection) was closed while the operation was pending
 * or before it started. Not an EddyError: nothing went wrong on the wire, and it is not retriable.
 */
export class ClientClosedError extends Error {
  readonly retriable = false;
  constructor(what: string) {
    super(`${what} is closed`);
    this.name = 'ClientClosedError';
  }
}
