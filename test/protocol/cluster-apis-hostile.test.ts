/**
 * Hostile input for the cluster APIs (and Fetch, with its new version): per API version, 10 000 request
 * and response bodies that are random, cut short, mutated, extended, or claim oversized lengths
 * and counts. Each either decodes or is refused with WireError, which the server answers as
 * INVALID_REQUEST (gateway/server-connection.ts): never another exception, a hang or a huge
 * allocation. The mutations are those of the server fuzz test (test/gateway/fuzz.test.ts), on
 * bodies rather than frames.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Apis, decodeRequest, type ApiName, type ApiSpec } from '../../protocol/apis/index.js';
import { CLUSTER_APIS } from '../helpers/cluster-apis.js';
import { ERRORS } from '../../protocol/errors.js';
import { decode, encode, WireError } from '../../protocol/wire/schema.js';
import { arbitraryOf } from '../helpers/schema-arbitrary.js';

const INPUTS = 10_000;

/** The cluster's APIs, and Fetch, whose v2 they rely on. */
const APIS: readonly ApiName[] = ['Fetch', ...CLUSTER_APIS];

type Side = 'request' | 'response';

interface Input {
  side: Side;
  version: number;
  bytes: Uint8Array;
  /** Cut short or extended from a valid body: it cannot decode. */
  mustRefuse: boolean;
}

/** Valid bodies of one side and version of an API, as seeds for mutation. */
function seeds(api: ApiSpec, side: Side, version: number, seed: number): Uint8Array[] {
  const schema = api.versions[version]![side];
  return fc.sample(arbitraryOf(schema), { numRuns: 40, seed }).map((v) => encode(schema, v as never));
}

/** The error code a decode failure becomes on the wire; anything but WireError is a bug. */
function codeOf(err: unknown): number {
  if (err instanceof WireError) return ERRORS.INVALID_REQUEST.code;
  throw err;
}

/** Large bodies of noise, made once: a slice of one is a body far larger than any field. */
const NOISE = Array.from({ length: 4 }, (_, k) => Uint8Array.from({ length: 65536 }, (_, i) => (i * (151 + 2 * k) + k) & 0xff));

/** Big-endian int32s that, read as a length or count, are huge, negative or −1 (null). */
const HOSTILE_INT32 = [0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x00010000, 0x0000ffff];

function inputArb(api: ApiSpec, version: number, seed: number): fc.Arbitrary<Input> {
  const targets = (['request', 'response'] as const).map((side) => ({ side, version, seeds: seeds(api, side, version, seed + version) }));
  return fc.constantFrom(...targets).chain(({ side, version, seeds: valid }) => {
    const of = (bytes: Uint8Array, mustRefuse = false): Input => ({ side, version, bytes, mustRefuse });
    const withBytes = valid.filter((s) => s.length > 0);
    const nonEmpty = withBytes.length > 0 ? withBytes : [Uint8Array.of(0)];
    return fc.oneof(
      // Random bytes.
      fc.uint8Array({ maxLength: 300 }).map((b) => of(b)),
      // Cut short: every proper prefix of a valid body lacks bytes a field needs.
      fc.tuple(fc.constantFrom(...nonEmpty), fc.nat()).map(([s, cut]) => of(s.slice(0, cut % s.length), withBytes.length > 0)),
      // Extended: trailing bytes after a whole body.
      fc.tuple(fc.constantFrom(...valid), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([s, tail]) => of(Uint8Array.from([...s, ...tail]), true)),
      // Byte flips, then cut or extension, as the server fuzz test does.
      fc
        .tuple(fc.constantFrom(...nonEmpty), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(), fc.boolean())
        .map(([s, edits, cut, extend]) => {
          const f = extend ? Uint8Array.from([...s, ...s.subarray(0, cut % 16)]) : s.slice(0, Math.max(1, s.length - (cut % 8)));
          for (const [at, byte] of edits) f[at % f.length] = byte;
          return of(f);
        }),
      // Oversized: a length or count (or any int32) rewritten to claim far more than is there.
      fc.tuple(fc.constantFrom(...nonEmpty), fc.nat(), fc.constantFrom(...HOSTILE_INT32)).map(([s, at, v]) => {
        const f = s.length >= 4 ? s.slice() : Uint8Array.from([...s, 0, 0, 0, 0]);
        new DataView(f.buffer).setUint32(at % (f.length - 3), v);
        return of(f);
      }),
      // Oversized: a large body of noise.
      fc.tuple(fc.constantFrom(...NOISE), fc.integer({ min: 4096, max: 65536 })).map(([noise, n]) => of(noise.subarray(0, n))),
    );
  });
}

describe('cluster APIs under hostile input', () => {
  // Each version on its own: a new version (PeerHello v1, Fetch v2) gets the full count too.
  APIS.forEach((name, i) => {
    const api = Apis[name] as ApiSpec;
    api.versions.forEach((_, version) => {
      it(`${name} v${version} (key ${api.key}): ${INPUTS.toLocaleString('en-US')} random, cut, mutated, extended and oversized bodies decode or get INVALID_REQUEST`, () => {
        const inputs = fc.sample(inputArb(api, version, 20261204 + i * 100), { numRuns: INPUTS, seed: 20261204 + i + version * 7919 });
        let decoded = 0;
        let refused = 0;
        let slowest = 0;
        const wronglyDecoded: string[] = [];
        const codes = new Set<number>();
        for (const input of inputs) {
          const t0 = performance.now();
          try {
            if (input.side === 'request') decodeRequest(api, input.version, input.bytes);
            else decode(api.versions[input.version]!.response, input.bytes);
            if (input.mustRefuse) wronglyDecoded.push(`v${input.version} ${input.side} ${Buffer.from(input.bytes).toString('hex')}`);
            decoded++;
          } catch (err) {
            codes.add(codeOf(err));
            refused++;
          }
          slowest = Math.max(slowest, performance.now() - t0);
        }
        expect(wronglyDecoded).toEqual([]);
        expect([...codes]).toEqual([ERRORS.INVALID_REQUEST.code]);
        expect(decoded + refused).toBe(INPUTS);
        // Both outcomes were reached: the mix is neither all noise nor all valid.
        expect(refused).toBeGreaterThan(INPUTS / 2);
        expect(decoded).toBeGreaterThan(50);
        // No input costs more than a moment: no loop or allocation sized by a hostile count.
        expect(slowest).toBeLessThan(250);
      }, 60_000);
    });
  });
});
