import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isEddyError } from '../../protocol/errors.js';
import { decodeRecord, encodeRecord, RECORD_TYPES, type MetadataRecord, type RecordTypeName } from '../../node/controller/metadata/records.js';
import { isTopicId, newTopicId, topicIdFromBytes } from '../../node/controller/metadata/uuid.js';
import { recordArbs } from './metadata-arbitraries.js';

const names = Object.keys(RECORD_TYPES) as RecordTypeName[];

/** Decoding must either give a record or throw a coded error; anything else fails the test. */
function decodesOrCoded(bytes: Uint8Array): void {
  try {
    decodeRecord(bytes);
  } catch (err) {
    if (!isEddyError(err, 'CORRUPT_MESSAGE')) throw err;
  }
}

describe('metadata record codec', () => {
  it('has one wire id per record type', () => {
    const ids = names.map((n) => RECORD_TYPES[n].id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  for (const name of names) {
    it(`${name}Record round-trips`, () => {
      fc.assert(
        fc.property(recordArbs[name], (rec: MetadataRecord) => {
          expect(decodeRecord(encodeRecord(rec))).toEqual(rec);
        }),
        { numRuns: 300 },
      );
    });

    it(`${name}Record: 10,000 truncated, mutated and random inputs give CORRUPT_MESSAGE or a record`, () => {
      const bases = fc.sample(recordArbs[name] as fc.Arbitrary<MetadataRecord>, { numRuns: 64, seed: 42 }).map(encodeRecord);
      const header = bases[0]!.subarray(0, 4);
      const mutated = fc.oneof(
        // truncated
        fc.tuple(fc.nat(bases.length - 1), fc.nat()).map(([i, cut]) => bases[i]!.subarray(0, cut % bases[i]!.length)),
        // bytes overwritten
        fc.tuple(fc.nat(bases.length - 1), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([i, edits]) => {
          const b = Uint8Array.from(bases[i]!);
          for (const [at, v] of edits) b[at % b.length] = v;
          return b;
        }),
        // trailing garbage
        fc.tuple(fc.nat(bases.length - 1), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([i, extra]) => Uint8Array.from([...bases[i]!, ...extra])),
        // this type's header, then random bytes
        fc.uint8Array({ maxLength: 64 }).map((rest) => Uint8Array.from([...header, ...rest])),
        // anything at all
        fc.uint8Array({ maxLength: 64 }),
      );
      fc.assert(fc.property(mutated, decodesOrCoded), { numRuns: 10_000 });
    });
  }

  it('refuses unknown types and versions, and trailing bytes, with CORRUPT_MESSAGE', () => {
    const noop = encodeRecord({ type: 'NoOp' });
    expect(() => decodeRecord(Uint8Array.from([0x7f, 0x00, 0, 0]))).toThrow(/CORRUPT_MESSAGE.*unknown metadata record type/);
    expect(() => decodeRecord(Uint8Array.from([noop[0]!, noop[1]!, 0, 9]))).toThrow(/NoOpRecord has no version 9/);
    expect(() => decodeRecord(Uint8Array.from([...noop, 0]))).toThrow(/unexpected bytes/);
    expect(() => decodeRecord(new Uint8Array(0))).toThrow(/CORRUPT_MESSAGE/);
  });

  it('golden bytes: TopicRecord v0 is type 2, version 0, name, 16 id bytes', () => {
    const topicId = topicIdFromBytes(Uint8Array.from({ length: 16 }, (_, i) => i));
    const bytes = encodeRecord({ type: 'Topic', name: 'ab', topicId });
    expect(Buffer.from(bytes).toString('hex')).toBe('0002' + '0000' + '0002' + '6162' + '000102030405060708090a0b0c0d0e0f');
    expect(topicId).toBe('AAECAwQFBgcICQoLDA0ODw');
  });

  it('topic ids are 22 characters of base64url and never the reserved ones', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        expect(isTopicId(topicIdFromBytes(b))).toBe(true);
      }),
    );
    let n = 0;
    const zeroesThenOne = (len: number) => (n++ === 0 ? new Uint8Array(len) : Uint8Array.from({ length: len }, () => 7));
    expect(newTopicId(zeroesThenOne)).toBe(topicIdFromBytes(Uint8Array.from({ length: 16 }, () => 7)));
    expect(isTopicId('not-an-id')).toBe(false);
  });
});
