import type { RawData } from 'ws';

/** A `ws` message (Buffer, fragments, or ArrayBuffer) as one byte array; server and Node client share it. */
export function wsBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
