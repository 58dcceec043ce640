import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Apis } from '../../protocol/apis/index.js';
import { readRequestHeader, readResponseHeader, writeErrorResponse, writeRequest } from '../../protocol/frame.js';
import { array, bytes, decode, encode, int16, int32, int64, nullableArray, nullableString, string, struct, WireError } from '../../protocol/wire/schema.js';

describe('wire schema', () => {
  it('encodes Kafka classic primitives byte for byte', () => {
    const S = struct({ a: int16, b: int32, c: int64, s: string, n: nullableString, bs: bytes, xs: array(int16), nx: nullableArray(int16) });
    const out = encode(S, { a: -2, b: 1, c: 2 ** 40, s: 'hé', n: null, bs: Uint8Array.of(9), xs: [7], nx: null });
    expect(Buffer.from(out).toString('hex')).toBe(
      'fffe' + '00000001' + '0000010000000000' + '000368c3a9' + 'ffff' + '0000000109' + '000000010007' + 'ffffffff',
    );
  });

  it('writes the request header golden bytes', () => {
    const f = writeRequest({ apiKey: 18, apiVersion: 0, correlationId: 7, clientId: 'cli' }, new Uint8Array(0));
    expect(Buffer.from(f).toString('hex')).toBe('0012' + '0000' + '00000007' + '0003636c69');
    expect(readRequestHeader(f).header).toEqual({ apiKey: 18, apiVersion: 0, correlationId: 7, clientId: 'cli' });
    const e = writeErrorResponse(7, 'INVALID_REQUEST', 'x');
    expect(readResponseHeader(e).header).toEqual({ correlationId: 7, errorCode: 42, errorMessage: 'x' });
  });

  it('round-trips produce and fetch messages', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: fc.string({ maxLength: 20 }), partitions: fc.array(fc.record({ partition: fc.integer({ min: 0, max: 1000 }), records: fc.uint8Array({ maxLength: 50 }) }), { maxLength: 3 }) }), { maxLength: 3 }),
        fc.integer({ min: -1, max: 1 }),
        (topics, acks) => {
          const req = { acks, timeoutMs: 1000, topics };
          const back = decode(Apis.Produce.versions[0]!.request, encode(Apis.Produce.versions[0]!.request, req));
          expect(JSON.stringify(back, (_, v) => (v instanceof Uint8Array ? Array.from(v) : v))).toBe(
            JSON.stringify(req, (_, v) => (v instanceof Uint8Array ? Array.from(v) : v)),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses values that do not fit their wire type when encoding', () => {
    expect(() => encode(int16, 40000)).toThrow(RangeError);
    expect(() => encode(int64, 2 ** 60)).toThrow(RangeError);
    expect(() => encode(int32, 1.5)).toThrow(RangeError);
  });

  it('decodes hostile bytes for every API schema with only WireError, never a crash or a huge allocation', () => {
    const schemas = Object.values(Apis).flatMap((a) => a.versions.flatMap((v) => [v.request, v.response]));
    fc.assert(
      fc.property(fc.constantFrom(...schemas), fc.uint8Array({ maxLength: 200 }), (schema, buf) => {
        try {
          decode(schema, buf);
        } catch (err) {
          expect(err).toBeInstanceOf(WireError);
        }
      }),
      { numRuns: 20_000 },
    );
  });

  it('refuses an array count larger than the bytes that remain, before allocating', () => {
    expect(() => decode(array(int32), Uint8Array.of(0x7f, 0xff, 0xff, 0xff))).toThrow(/exceeds the 0 bytes/);
    expect(() => decode(string, Uint8Array.of(0, 5, 0x61))).toThrow(/needs 5 bytes but only 1 remain/);
    expect(() => decode(string, Uint8Array.of(0, 2, 0xc3, 0x28))).toThrow(/not valid UTF-8/);
    expect(() => decode(int64, Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toThrow(/53-bit/);
  });
});
