/**
 * Frames: one WebSocket binary message carries one request or one response.
 *
 *   request  = apiKey int16 | apiVersion int16 | correlationId int32 | clientId nullable string | body
 *   response = correlationId int32 | errorCode int16 | errorMessage nullable string | body
 *
 * The response header's error is for failures of the whole request (unknown API or version,
 * malformed body); the body is then empty. Per-partition errors live in the bodies.
 */
import { ERRORS, type ErrorName } from './errors.js';
import { int16, int32, nullableString, Reader, struct, Writer, type Infer, type Type } from './wire/schema.js';

export const RequestHeader = struct({ apiKey: int16, apiVersion: int16, correlationId: int32, clientId: nullableString });
export type RequestHeader = Infer<typeof RequestHeader>;

export const ResponseHeader = struct({ correlationId: int32, errorCode: int16, errorMessage: nullableString });
export type ResponseHeader = Infer<typeof ResponseHeader>;

/** Reads the request header; the rest of the frame is the body. */
export function readRequestHeader(frame: Uint8Array): { header: RequestHeader; body: Uint8Array } {
  const r = new Reader(frame);
  const header = RequestHeader.read(r);
  return { header, body: frame.subarray(r.pos) };
}

export function writeRequest(header: RequestHeader, body: Uint8Array): Uint8Array {
  const w = new Writer(body.length + 64);
  RequestHeader.write(w, header);
  w.raw(body);
  return w.finish();
}

/**
 * Encodes header and body into one frame in one pass. `capacity` is the expected frame size (for
 * a Produce, the sum of its record batches plus a little): one allocation, no regrowth.
 */
export function encodeRequest<T>(header: RequestHeader, body: Type<T>, value: T, capacity?: number): Uint8Array {
  const w = new Writer(capacity);
  RequestHeader.write(w, header);
  body.write(w, value);
  return w.finish();
}

/** Encodes a successful response's header and body in one pass; `capacity` as in encodeRequest. */
export function encodeResponse<T>(correlationId: number, body: Type<T>, value: T, capacity?: number): Uint8Array {
  const w = new Writer(capacity);
  ResponseHeader.write(w, { correlationId, errorCode: 0, errorMessage: null });
  body.write(w, value);
  return w.finish();
}

/**
 * A quick upper-bound guess at a message's encoded size: byte arrays dominate (fetch records),
 * so it sums them and allows generously for everything else. Used to size the encoding buffer.
 */
export function roughSize(value: unknown): number {
  if (value instanceof Uint8Array) return value.length + 4;
  if (typeof value === 'string') return value.length * 3 + 2;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + roughSize(v), 4);
  if (value !== null && typeof value === 'object') return Object.values(value).reduce((n: number, v) => n + roughSize(v), 0);
  return 8;
}

export function writeErrorResponse(correlationId: number, error: ErrorName, message: string): Uint8Array {
  const w = new Writer();
  ResponseHeader.write(w, { correlationId, errorCode: ERRORS[error].code, errorMessage: message });
  return w.finish();
}

export function readResponseHeader(frame: Uint8Array): { header: ResponseHeader; body: Uint8Array } {
  const r = new Reader(frame);
  const header = ResponseHeader.read(r);
  return { header, body: frame.subarray(r.pos) };
}
