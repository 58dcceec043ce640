import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../../protocol/crc32c-native.js';
import { crc32c, crc32cImplementation, crc32cJs } from '../../protocol/crc32c.js';
import { readVarint, varintSize, writeVarint } from '../../protocol/varint.js';

/** Byte-at-a-time reference CRC-32C, to check the slice-by-8 tables against. */
function crc32cReference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('matches the published check values (RFC 3720 B.4 and the CRC catalogue)', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32cJs(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it('uses the hardware implementation in Node where @node-rs/crc32 has a build (x64, arm64)', () => {
    if (['x64', 'arm64'].includes(process.arch) && process.platform === 'linux') expect(crc32cImplementation()).toBe('@node-rs/crc32');
  });

  for (const [name, fn] of [
    ['active (native in Node)', crc32c],
    ['javascript', crc32cJs],
  ] as const) {
    it(`${name}: agrees with the bitwise reference on any bytes, sub-range and buffer offset`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), fc.nat(7), (raw, a, b, shift) => {
          const bytes = raw.subarray(Math.min(shift, raw.length)); // views that do not start at byte 0
          const start = bytes.length ? a % bytes.length : 0;
          const end = start + (bytes.length ? b % (bytes.length - start + 1) : 0);
          expect(fn(bytes, start, end)).toBe(crc32cReference(bytes.subarray(start, end)));
        }),
        { numRuns: 2000 },
      );
    });
  }
});

describe('zigzag varint', () => {
  it('encodes the protobuf examples', () => {
    const enc = (n: number) => {
      const b = new Uint8Array(10);
      return Array.from(b.subarray(0, writeVarint(b, 0, n)));
    };
    expect(enc(0)).toEqual([0]);
    expect(enc(-1)).toEqual([1]);
    expect(enc(1)).toEqual([2]);
    expect(enc(-64)).toEqual([127]);
    expect(enc(64)).toEqual([0x80, 0x01]);
    expect(enc(2147483647)).toEqual([0xfe, 0xff, 0xff, 0xff, 0x0f]);
  });

  it('round-trips every safe integer and reports its size', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        const b = new Uint8Array(10);
        const end = writeVarint(b, 0, n);
        expect(end).toBe(varintSize(n));
        expect(readVarint(b, 0, end, { value: 0, pos: 0 })).toEqual({ value: n, pos: end });
      }),
      { numRuns: 5000 },
    );
  });

  it('rejects truncated and over-long encodings with RangeError', () => {
    const out = { value: 0, pos: 0 };
    expect(() => readVarint(Uint8Array.of(0x80, 0x80), 0, 2, out)).toThrow(RangeError);
    expect(() => readVarint(new Uint8Array(11).fill(0x80), 0, 11, out)).toThrow(RangeError);
    expect(() => readVarint(Uint8Array.of(0x02), 0, 0, out)).toThrow(RangeError);
  });
});
