/**
 * Zigzag varints as Kafka's record format uses them (protobuf encoding): signed n maps to
 * unsigned z (0,-1,1,-2,… → 0,1,2,3,…), then 7 bits per byte, low group first.
 *
 * Values are JS numbers. z itself can exceed 2^53 for large negative n, so we never form it:
 * z = 2h + s, where s (bit 0 of the first byte) is the sign and h = n or -n-1 is the magnitude,
 * which stays exact for every safe integer. `readVarint` refuses anything beyond the safe range.
 */

/** Bytes needed for the zigzag varint of `value`. */
export function varintSize(value: number): number {
  let h = value >= 0 ? value : -value - 1;
  let size = 1;
  h = Math.floor(h / 64); // the first byte holds the sign and 6 bits of h
  while (h > 0) {
    h = Math.floor(h / 128);
    size++;
  }
  return size;
}

/** Writes the zigzag varint of `value` at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  const sign = value >= 0 ? 0 : 1;
  let h = sign ? -value - 1 : value;
  let rest = Math.floor(h / 64);
  let b = ((h % 64) << 1) | sign;
  while (rest > 0) {
    buf[pos++] = b | 0x80;
    b = rest % 128;
    rest = Math.floor(rest / 128);
  }
  buf[pos++] = b;
  return pos;
}

/** A decoded value and the position after it. Reused by the reader to avoid allocation. */
export interface VarintResult {
  value: number;
  pos: number;
}

const MAX_VARLONG_BYTES = 10;

/**
 * Reads a zigzag varint at `pos`, not past `end`. Throws RangeError on a truncated or
 * over-long encoding, or one outside the safe-integer range: callers turn that into
 * CORRUPT_MESSAGE.
 */
export function readVarint(buf: Uint8Array, pos: number, end: number, out: VarintResult): VarintResult {
  if (pos >= end) throw new RangeError('varint runs past the end of its buffer');
  let b = buf[pos++]!;
  const sign = b & 1;
  let h = (b & 0x7f) >>> 1;
  let scale = 64;
  for (let i = 1; b & 0x80; i++) {
    if (i >= MAX_VARLONG_BYTES) throw new RangeError('varint longer than 10 bytes');
    if (pos >= end) throw new RangeError('varint runs past the end of its buffer');
    b = buf[pos++]!;
    h += (b & 0x7f) * scale;
    scale *= 128;
  }
  if (h > Number.MAX_SAFE_INTEGER) throw new RangeError('varint exceeds the 53-bit safe integer range');
  out.value = sign ? -h - 1 : h;
  out.pos = pos;
  return out;
}
