import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeOffsetRecord, encodeOffsetKey, encodeOffsetValue } from '../../node/groups/offset-records.js';
import { WireError } from '../../protocol/wire/schema.js';

const key = fc.record({ group: fc.string({ minLength: 1, maxLength: 40 }), topic: fc.string({ minLength: 1, maxLength: 40 }), partition: fc.nat(1000) });
const value = fc.record({ offset: fc.maxSafeNat(), metadata: fc.option(fc.string({ maxLength: 100 })), commitTimestamp: fc.maxSafeNat() });

describe('__consumer_offsets records', () => {
  it('round-trip: key and value decode to what was encoded; a null value is a tombstone', () => {
    fc.assert(
      fc.property(key, fc.option(value), (k, v) => {
        const back = decodeOffsetRecord(encodeOffsetKey(k), v === null ? null : encodeOffsetValue(v));
        expect(back).toEqual({ key: k, value: v });
      }),
    );
  });

  it('hostile bytes decode to a record or a WireError, never anything else', () => {
    const bytes = fc.uint8Array({ maxLength: 80 });
    const mutated = fc.tuple(key, value, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([k, v, at, b]) => {
      const kb = encodeOffsetKey(k);
      const vb = encodeOffsetValue(v);
      const target = at % 2 === 0 ? kb : vb;
      target[at % target.length] = b;
      return [kb, vb] as const;
    });
    fc.assert(
      fc.property(fc.oneof(fc.tuple(fc.option(bytes), fc.option(bytes)), mutated), ([k, v]) => {
        try {
          decodeOffsetRecord(k, v);
        } catch (err) {
          expect(err).toBeInstanceOf(WireError);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses a record of another version by name, so the loader can say what it skipped', () => {
    const k = encodeOffsetKey({ group: 'g', topic: 't', partition: 0 });
    k[1] = 9;
    expect(() => decodeOffsetRecord(k, null)).toThrow(/version 9; this node reads version 1/);
  });
});
