/** Keys, values and header values accept text or bytes; the wire carries bytes (UTF-8 for text). */
export type BytesLike = string | Uint8Array;

const utf8 = new TextEncoder();

export function toBytes(v: BytesLike | null | undefined): Uint8Array | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? utf8.encode(v) : v;
}
