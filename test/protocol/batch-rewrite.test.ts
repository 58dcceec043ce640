/** Rewriting batches for compaction: kept records keep their offsets; the batch keeps its identity. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeEmptyBatch, rewriteBatch } from '../../protocol/batch-rewrite.js';
import { Compression } from '../../protocol/compression.js';
import { crc32c } from '../../protocol/crc32c.js';
import { isEddyError } from '../../protocol/errors.js';
import {
  ATTR_CONTROL,
  CRC_START,
  decodeRecords,
  Field,
  HEADER_SIZE,
  LOG_OVERHEAD,
  RecordBatchBuilder,
  readBatchHeader,
  TimestampType,
  validateBatch,
  type RecordInput,
} from '../../protocol/record-batch.js';
import { fromHex, KAFKA_GZIP_BATCH_HEX, KAFKA_UNCOMPRESSED_BATCH_HEX } from '../fixtures/kafka-batches.js';

const STORED = { maxBatchBytes: 1 << 20, denseOffsets: false };
const PRODUCER = { maxBatchBytes: 1 << 20, denseOffsets: true };
const utf8 = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function expectCode(fn: () => unknown, name: string): void {
  try {
    fn();
  } catch (err) {
    expect(isEddyError(err) ? err.errorName : String(err)).toBe(name);
    return;
  }
  throw new Error(`expected ${name}, nothing thrown`);
}

describe('rewriteBatch: golden bytes', () => {
  it('reproduces a Kafka broker batch byte for byte when every record is kept', () => {
    const batch = fromHex(KAFKA_UNCOMPRESSED_BATCH_HEX);
    expect(hex(rewriteBatch(batch, () => true))).toBe(KAFKA_UNCOMPRESSED_BATCH_HEX);
  });

  it('keeps the middle record of the Kafka batch: its bytes unchanged, lastOffsetDelta 2, count 1, CRC re-signed', () => {
    const batch = fromHex(KAFKA_UNCOMPRESSED_BATCH_HEX);
    // Each of the three records is 52 bytes (length varint 0x66 = 51, plus the varint); all share
    // one timestamp, so record 1's bytes, offset delta 1 included, are the same in the rewrite.
    const record1 = batch.subarray(HEADER_SIZE + 52, HEADER_SIZE + 104);
    const expected = new Uint8Array(HEADER_SIZE + 52);
    expected.set(batch.subarray(0, HEADER_SIZE));
    expected.set(record1, HEADER_SIZE);
    const dv = new DataView(expected.buffer);
    dv.setInt32(Field.batchLength, expected.length - LOG_OVERHEAD);
    dv.setInt32(Field.recordCount, 1);
    dv.setUint32(Field.crc, crc32c(expected, CRC_START));
    const ours = rewriteBatch(batch, (offset) => offset === 1);
    expect(hex(ours)).toBe(hex(expected));
    expect(readBatchHeader(ours)).toMatchObject({ lastOffsetDelta: 2, recordCount: 1, producerEpoch: 0, baseSequence: 0 });
    expect(decodeRecords(ours).map((r) => [r.offset, new TextDecoder().decode(r.value!)])).toEqual([[1, 'some-value-1']]);
  });

  it('rewrites a gzip LogAppendTime batch with gzip, keeping its append time', () => {
    const batch = fromHex(KAFKA_GZIP_BATCH_HEX);
    const out = rewriteBatch(batch, () => true);
    const h = validateBatch(out, STORED);
    expect(h).toMatchObject({ compression: Compression.gzip, timestampType: TimestampType.LogAppendTime, maxTimestamp: 1597425188809 });
    expect(decodeRecords(out)).toEqual(decodeRecords(batch));
  });
});

describe('rewriteBatch: empty batches', () => {
  it('writes a header-only batch that keeps offsets and producer fields when nothing is kept', () => {
    const b = new RecordBatchBuilder({ compression: Compression.gzip });
    b.append({ key: utf8('k'), value: utf8('v'), timestamp: 1000 });
    b.append({ key: utf8('k'), value: null, timestamp: 2000 }, 4);
    const batch = b.build({ baseOffset: 100, partitionLeaderEpoch: 3, lastOffsetDelta: 6, producerId: 42, producerEpoch: 2, baseSequence: 17 });
    const empty = rewriteBatch(batch, () => false);
    expect(empty.length).toBe(HEADER_SIZE);
    const h = validateBatch(empty, STORED);
    expect(h).toMatchObject({
      baseOffset: 100,
      lastOffsetDelta: 6,
      recordCount: 0,
      compression: 0,
      partitionLeaderEpoch: 3,
      producerId: 42,
      producerEpoch: 2,
      baseSequence: 17,
      maxTimestamp: 2000,
    });
    expect(decodeRecords(empty)).toEqual([]);
    expect(hex(encodeEmptyBatch(readBatchHeader(batch)))).toBe(hex(empty));
    // A producer may never send an empty batch.
    expectCode(() => validateBatch(empty, PRODUCER), 'INVALID_RECORD');
  });

  it('refuses control batches (the cleaner leaves them alone)', () => {
    const b = new RecordBatchBuilder();
    b.append({ key: utf8('k'), value: utf8('v'), timestamp: 1 });
    const batch = b.build();
    const dv = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    dv.setInt16(Field.attributes, ATTR_CONTROL);
    expectCode(() => rewriteBatch(batch, () => true), 'INVALID_RECORD');
  });
});

describe('RecordBatchBuilder: explicit offset deltas', () => {
  it('refuses deltas that do not increase, and a lastOffsetDelta below the last record', () => {
    const b = new RecordBatchBuilder();
    b.append({ value: utf8('a'), timestamp: 1 }, 3);
    expect(() => b.append({ value: utf8('b'), timestamp: 1 }, 3)).toThrow(RangeError);
    b.append({ value: utf8('b'), timestamp: 1 }); // next slot: 4
    expect(() => b.build({ lastOffsetDelta: 3 })).toThrow(RangeError);
    const batch = b.build({ lastOffsetDelta: 9 });
    expect(decodeRecords(batch).map((r) => r.offset)).toEqual([3, 4]);
    expect(validateBatch(batch, STORED).lastOffsetDelta).toBe(9);
    expectCode(() => validateBatch(batch, PRODUCER), 'INVALID_RECORD');
  });
});

const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 100 }), { nil: null }),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 8 }), value: fc.option(fc.uint8Array({ maxLength: 10 }), { nil: null }) }), {
    maxLength: 2,
  }),
  timestamp: fc.integer({ min: 1_600_000_000_000, max: 1_700_000_000_000 }),
});

/** A stored batch: records at increasing offset deltas with gaps (an earlier compaction), any codec and producer. */
const storedBatchArb = fc
  .record({
    records: fc.array(fc.tuple(recordArb, fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 20 }),
    tail: fc.integer({ min: 0, max: 5 }),
    compression: fc.constantFrom(Compression.none, Compression.gzip),
    logAppend: fc.boolean(),
    baseOffset: fc.integer({ min: 0, max: 2 ** 40 }),
    leaderEpoch: fc.integer({ min: -1, max: 1000 }),
    producer: fc.option(fc.record({ id: fc.integer({ min: 0, max: 2 ** 40 }), epoch: fc.integer({ min: 0, max: 32767 }), seq: fc.integer({ min: 0, max: 1e6 }) })),
  })
  .map((s) => {
    const b = new RecordBatchBuilder({ compression: s.compression });
    let delta = -1;
    for (const [r, step] of s.records) b.append(r, (delta += step));
    const appendTime = 1_750_000_000_000;
    const batch = b.build({
      baseOffset: s.baseOffset,
      partitionLeaderEpoch: s.leaderEpoch,
      lastOffsetDelta: delta + s.tail,
      ...(s.producer ? { producerId: s.producer.id, producerEpoch: s.producer.epoch, baseSequence: s.producer.seq } : {}),
      ...(s.logAppend ? { timestampType: TimestampType.LogAppendTime, logAppendTime: appendTime } : {}),
    });
    return batch;
  });

describe('rewriteBatch: properties', () => {
  it('a rewritten batch validates, decodes to exactly the kept records at their offsets, and keeps the header identity', () => {
    fc.assert(
      fc.property(storedBatchArb, fc.infiniteStream(fc.boolean()), (batch, coin) => {
        const before = validateBatch(batch, STORED);
        const records = decodeRecords(batch);
        const keep = new Set(records.filter(() => coin.next().value).map((r) => r.offset));
        const out = rewriteBatch(batch, (o) => keep.has(o));
        const after = validateBatch(out, STORED);
        for (const f of ['baseOffset', 'lastOffsetDelta', 'partitionLeaderEpoch', 'producerId', 'producerEpoch', 'baseSequence', 'timestampType'] as const) {
          expect(after[f]).toBe(before[f]);
        }
        expect(after.recordCount).toBe(keep.size);
        if (keep.size > 0) expect(after.compression).toBe(before.compression);
        const norm = (r: (typeof records)[number]) => ({ ...r, key: r.key && hex(r.key), value: r.value && hex(r.value), headers: r.headers.map((h) => [h.key, h.value && hex(h.value)]) });
        expect(decodeRecords(out).map(norm)).toEqual(records.filter((r) => keep.has(r.offset)).map(norm));
        // Rewriting again and keeping everything changes nothing: the encoding is a fixpoint.
        if (keep.size > 0) expect(hex(rewriteBatch(out, () => true))).toBe(hex(out));
      }),
      { numRuns: 300 },
    );
  });
});

describe('validateBatch: requireKeys (compacted topics)', () => {
  it('refuses a record without a key and accepts empty or 0x01 keys', () => {
    const b = new RecordBatchBuilder();
    b.append({ key: Uint8Array.of(1), value: utf8('a'), timestamp: 1 });
    b.append({ key: new Uint8Array(0), value: utf8('b'), timestamp: 1 });
    const keyed = b.build();
    expect(validateBatch(keyed, { ...PRODUCER, requireKeys: true }).recordCount).toBe(2);
    const k = new RecordBatchBuilder({ compression: Compression.gzip });
    k.append({ key: utf8('x'), value: utf8('a'), timestamp: 1 });
    k.append({ key: null, value: utf8('b'), timestamp: 1 });
    const keyless = k.build();
    expect(validateBatch(keyless, PRODUCER).recordCount).toBe(2);
    try {
      validateBatch(keyless, { ...PRODUCER, requireKeys: true });
      throw new Error('not refused');
    } catch (err) {
      expect(isEddyError(err) && err.errorName).toBe('INVALID_RECORD');
      expect(isEddyError(err) && err.detail).toMatch(/record 1 .*has no key; a compacted topic cannot accept a record without a key/);
    }
  });
});
