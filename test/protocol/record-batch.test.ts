import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Compression } from '../../protocol/compression.js';
import { crc32c } from '../../protocol/crc32c.js';
import { EddyError, isEddyError } from '../../protocol/errors.js';
import {
  decodeRecords,
  encodeRecordBatch,
  Field,
  HEADER_SIZE,
  readBatchHeader,
  splitBatches,
  stampBatch,
  TimestampType,
  validateBatch,
  type RecordInput,
} from '../../protocol/record-batch.js';
import { fromHex, KAFKA_GZIP_BATCH_HEX, KAFKA_UNCOMPRESSED_BATCH_HEX } from '../fixtures/kafka-batches.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
const PRODUCER = { maxBatchBytes: 1 << 20, denseOffsets: true };

function expectCode(fn: () => unknown, name: string): EddyError {
  try {
    fn();
  } catch (err) {
    expect(isEddyError(err), `expected EddyError ${name}, got ${String(err)}`).toBe(true);
    expect((err as EddyError).errorName).toBe(name);
    return err as EddyError;
  }
  throw new Error(`expected ${name}, but nothing was thrown`);
}

describe('record batch: golden bytes from a Kafka broker', () => {
  it('encodes the same 3-record batch byte for byte', () => {
    const ts = 1509827900073;
    const records: RecordInput[] = [0, 1, 2].map((i) => ({
      key: utf8(`key-${i}`),
      value: utf8(`some-value-${i}`),
      headers: [{ key: `header-key-${i}`, value: utf8(`header-value-${i}`) }],
      timestamp: ts,
    }));
    const ours = encodeRecordBatch(records, { producerId: -1, producerEpoch: 0, baseSequence: 0, partitionLeaderEpoch: 0 });
    expect(Buffer.from(ours).toString('hex')).toBe(KAFKA_UNCOMPRESSED_BATCH_HEX);
  });

  it('validates and decodes the uncompressed broker batch', () => {
    const batch = fromHex(KAFKA_UNCOMPRESSED_BATCH_HEX);
    const h = validateBatch(batch, PRODUCER);
    expect(h).toMatchObject({ baseOffset: 0, recordCount: 3, lastOffsetDelta: 2, magic: 2, crc: 0xd6545568, compression: 0 });
    const recs = decodeRecords(batch);
    expect(recs.map((r) => [r.offset, text(r.key), text(r.value), r.headers[0]!.key, text(r.headers[0]!.value)])).toEqual([
      [0, 'key-0', 'some-value-0', 'header-key-0', 'header-value-0'],
      [1, 'key-1', 'some-value-1', 'header-key-1', 'header-value-1'],
      [2, 'key-2', 'some-value-2', 'header-key-2', 'header-value-2'],
    ]);
  });

  it('validates and decodes the gzip LogAppendTime broker batch', () => {
    const batch = fromHex(KAFKA_GZIP_BATCH_HEX);
    const h = validateBatch(batch, PRODUCER);
    expect(h).toMatchObject({
      compression: Compression.gzip,
      timestampType: TimestampType.LogAppendTime,
      baseTimestamp: 1597425188775,
      maxTimestamp: 1597425188809,
      recordCount: 1,
    });
    const [rec] = decodeRecords(batch);
    // LogAppendTime: every record carries the broker's append time, the batch maxTimestamp.
    expect(rec!.timestamp).toBe(1597425188809);
    expect(rec!.offset).toBe(0);
  });
});

const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null }),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 12 }), value: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null }) }), {
    maxLength: 3,
  }),
  timestamp: fc.integer({ min: 0, max: 4_102_444_800_000 }),
});

describe('record batch: round trip', () => {
  it('decodes what it encodes, for any records, uncompressed, gzip and lz4', () => {
    fc.assert(
      fc.property(
        fc.array(recordArb, { minLength: 1, maxLength: 30 }),
        fc.constantFrom(Compression.none, Compression.gzip, Compression.lz4),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (records, compression, baseOffset) => {
          const batch = encodeRecordBatch(records, { compression });
          const h = validateBatch(batch, PRODUCER);
          expect(h.recordCount).toBe(records.length);
          expect(h.maxTimestamp).toBe(Math.max(...records.map((r) => r.timestamp!)));
          stampBatch(batch, baseOffset, 7);
          // Stamping does not touch the CRC'd range: the batch still validates.
          expect(validateBatch(batch, PRODUCER)).toMatchObject({ baseOffset, partitionLeaderEpoch: 7 });
          const decoded = decodeRecords(batch);
          expect(decoded).toHaveLength(records.length);
          decoded.forEach((d, i) => {
            const r = records[i]!;
            expect(d.offset).toBe(baseOffset + i);
            expect(d.timestamp).toBe(r.timestamp);
            expect(d.key === null ? null : Array.from(d.key)).toEqual(r.key === null ? null : Array.from(r.key!));
            expect(d.value === null ? null : Array.from(d.value)).toEqual(r.value === null ? null : Array.from(r.value!));
            expect(d.headers.map((x) => [x.key, x.value && Array.from(x.value)])).toEqual(
              r.headers!.map((x) => [x.key, x.value && Array.from(x.value)]),
            );
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('splits a concatenation of batches and drops a trailing partial one', () => {
    const a = encodeRecordBatch([{ value: utf8('a') }]);
    const b = encodeRecordBatch([{ value: utf8('bb') }, { value: utf8('cc') }]);
    const joined = new Uint8Array(a.length + b.length + 20);
    joined.set(a, 0);
    joined.set(b, a.length);
    joined.set(b.subarray(0, 20), a.length + b.length);
    const parts = splitBatches(joined);
    expect(parts.map((p) => p.length)).toEqual([a.length, b.length]);
  });
});

describe('record batch: hostile input', () => {
  const good = () => encodeRecordBatch([{ key: utf8('k'), value: utf8('hello') }, { value: utf8('world') }], { baseTimestamp: 1000 });

  it('rejects a flipped bit in the CRC-covered range with CORRUPT_MESSAGE', () => {
    const b = good();
    b[HEADER_SIZE + 3]! ^= 0x10;
    expect(expectCode(() => validateBatch(b, PRODUCER), 'CORRUPT_MESSAGE').detail).toMatch(/CRC mismatch/);
  });

  it('rejects truncated and padded batches with CORRUPT_MESSAGE', () => {
    const b = good();
    expectCode(() => validateBatch(b.subarray(0, b.length - 1), PRODUCER), 'CORRUPT_MESSAGE');
    expectCode(() => validateBatch(b.subarray(0, 30), PRODUCER), 'CORRUPT_MESSAGE');
    const padded = new Uint8Array(b.length + 4);
    padded.set(b);
    expectCode(() => validateBatch(padded, PRODUCER), 'CORRUPT_MESSAGE');
  });

  it('rejects a wrong magic byte', () => {
    const b = good();
    b[Field.magic] = 1;
    expect(expectCode(() => validateBatch(b, PRODUCER), 'CORRUPT_MESSAGE').detail).toMatch(/magic/);
  });

  it('rejects an oversized batch with MESSAGE_TOO_LARGE before reading it', () => {
    const b = encodeRecordBatch([{ value: new Uint8Array(5000) }]);
    expectCode(() => validateBatch(b, { ...PRODUCER, maxBatchBytes: 4096 }), 'MESSAGE_TOO_LARGE');
  });

  it('rejects a record count that disagrees with the records, even with a valid CRC', () => {
    const b = good();
    const dv = new DataView(b.buffer, b.byteOffset);
    dv.setInt32(Field.recordCount, 3);
    dv.setInt32(Field.lastOffsetDelta, 2);
    resign(b);
    expect(expectCode(() => validateBatch(b, PRODUCER), 'INVALID_RECORD').detail).toMatch(/declares 3 records but holds only 2/);
    dv.setInt32(Field.recordCount, 1);
    dv.setInt32(Field.lastOffsetDelta, 0);
    resign(b);
    expect(expectCode(() => validateBatch(b, PRODUCER), 'INVALID_RECORD').detail).toMatch(/bytes follow the last one/);
  });

  it('rejects an unknown codec with UNSUPPORTED_COMPRESSION_TYPE', () => {
    const b = good();
    new DataView(b.buffer, b.byteOffset).setInt16(Field.attributes, 4);
    resign(b);
    expectCode(() => validateBatch(b, PRODUCER), 'UNSUPPORTED_COMPRESSION_TYPE');
  });

  it('rejects a gzip bomb beyond the decompression bound', () => {
    const b = encodeRecordBatch([{ value: new Uint8Array(2_000_000) }], { compression: Compression.gzip });
    expect(b.length).toBeLessThan(10_000);
    expectCode(() => validateBatch(b, { ...PRODUCER, maxDecompressedBytes: 1_000_000 }), 'CORRUPT_MESSAGE');
  });

  it('rejects a wrong maxTimestamp (the time index depends on it)', () => {
    const b = good();
    new DataView(b.buffer, b.byteOffset).setBigInt64(Field.maxTimestamp, 999n);
    resign(b);
    expectCode(() => validateBatch(b, PRODUCER), 'INVALID_RECORD');
  });

  it('throws only EddyError on any mutation of a valid batch (fuzz, CRC re-signed so the walk is reached)', () => {
    const base = encodeRecordBatch(
      [
        { key: utf8('device-1'), value: utf8('{"t":21.5}'), headers: [{ key: 'h', value: utf8('v') }] },
        { key: null, value: null },
        { value: utf8('x'.repeat(200)) },
      ],
      { baseTimestamp: 1_700_000_000_000 },
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat(base.length),
        fc.boolean(),
        (edits, cut, resignCrc) => {
          const b = base.slice(0, Math.max(cut, 1));
          for (const [at, byte] of edits) b[at % b.length] = byte;
          if (resignCrc && b.length >= HEADER_SIZE) resign(b);
          try {
            validateBatch(b, PRODUCER);
            decodeRecords(b);
          } catch (err) {
            if (!isEddyError(err)) throw err;
          }
        },
      ),
      { numRuns: 20_000 },
    );
  });
});

/** Recomputes the CRC after a deliberate edit, to get past the CRC check to deeper checks. */
function resign(b: Uint8Array): void {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(Field.crc, crc32c(b, Field.attributes));
}

describe('record batch: header', () => {
  it('reads producer fields and timestamps', () => {
    const b = encodeRecordBatch([{ value: null, timestamp: 5 }, { value: null, timestamp: 9 }], {
      producerId: 42,
      producerEpoch: 3,
      baseSequence: 17,
    });
    expect(readBatchHeader(b)).toMatchObject({ producerId: 42, producerEpoch: 3, baseSequence: 17, baseTimestamp: 5, maxTimestamp: 9 });
  });
});
