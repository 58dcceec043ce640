/**
 * Encoding record batches (producer side). `RecordBatchBuilder` encodes each record into the
 * batch's buffer as it is appended (as Kafka's MemoryRecordsBuilder does), so a producer keeps
 * bytes, not one object per queued record: per-record garbage dies young and encoding is one
 * pass. `build()` writes the header and CRC (and compresses) once.
 *
 * Uint8Array and DataView only, so the client can run in a browser.
 */
import { compress, type CompressionId } from './compression.js';
import { crc32c } from './crc32c.js';
import {
  ATTR_COMPRESSION_MASK,
  ATTR_TIMESTAMP_TYPE,
  CRC_START,
  Field,
  HEADER_SIZE,
  LOG_OVERHEAD,
  MAGIC,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  TimestampType,
  type EncodeOptions,
  type RecordInput,
} from './batch-format.js';
import { varintSize, writeVarint } from './varint.js';

const utf8Encoder = new TextEncoder();
const NO_KEYS: readonly Uint8Array[] = [];

function bytesFieldSize(b: Uint8Array | null): number {
  return b === null ? 1 : varintSize(b.length) + b.length;
}

function writeBytesField(buf: Uint8Array, pos: number, b: Uint8Array | null): number {
  if (b === null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, b.length);
  buf.set(b, pos);
  return pos + b.length;
}

/** Options fixed when the batch is finished. */
export type BuildOptions = Pick<EncodeOptions, 'producerId' | 'producerEpoch' | 'baseSequence' | 'baseOffset' | 'partitionLeaderEpoch' | 'timestampType'> & {
  /**
   * Offset of the batch's last offset slot relative to its base: by default the last record's
   * delta. A compacted batch keeps its original value even when its last records were removed
   * (Kafka does the same, so the log end offset and the producer's last sequence survive).
   */
  lastOffsetDelta?: number;
  /** With LogAppendTime: the append time, written as maxTimestamp (records then read it). */
  logAppendTime?: number;
};

export class RecordBatchBuilder {
  readonly compression: CompressionId;
  #buf: Uint8Array;
  /** Where the next record goes. Records start at HEADER_SIZE; the header is written by build(). */
  #pos = HEADER_SIZE;
  #count = 0;
  /** Offset delta of the last appended record (-1: none yet). */
  #lastDelta = -1;
  #baseTimestamp: number | undefined;
  #maxTimestamp = -Infinity;

  /**
   * `baseTimestamp` defaults to the first record's timestamp. `initialBytes` sizes the buffer
   * (it grows as needed).
   */
  constructor(opts: { compression?: CompressionId; baseTimestamp?: number; initialBytes?: number } = {}) {
    this.compression = opts.compression ?? 0;
    this.#baseTimestamp = opts.baseTimestamp;
    this.#buf = new Uint8Array(Math.max(HEADER_SIZE + 64, opts.initialBytes ?? 1024));
  }

  get count(): number {
    return this.#count;
  }

  /** Encoded size so far (before compression). */
  get sizeBytes(): number {
    return this.#pos;
  }

  /** Body size of a record whose header keys are already UTF-8 encoded (`keys`). */
  static #bodySize(r: RecordInput, offsetDelta: number, tsDelta: number, keys: readonly Uint8Array[]): number {
    let size = 1 + varintSize(tsDelta) + varintSize(offsetDelta) + bytesFieldSize(r.key ?? null) + bytesFieldSize(r.value);
    size += varintSize(keys.length);
    const headers = r.headers;
    for (let i = 0; i < keys.length; i++) size += bytesFieldSize(keys[i]!) + bytesFieldSize(headers![i]!.value);
    return size;
  }

  /**
   * Encodes `record` at the end of the batch; returns the bytes it took. `offsetDelta` defaults
   * to the next dense slot (0, 1, 2, … for a producer); the log cleaner passes the surviving
   * records' original deltas, which must strictly increase.
   */
  append(record: RecordInput, offsetDelta = this.#lastDelta + 1): number {
    if (!Number.isInteger(offsetDelta) || offsetDelta <= this.#lastDelta || offsetDelta > 0x7fffffff) {
      throw new RangeError(`offset delta ${offsetDelta} must be an int32 above the previous one (${this.#lastDelta})`);
    }
    const ts = record.timestamp ?? this.#baseTimestamp ?? Date.now();
    if (this.#baseTimestamp === undefined) this.#baseTimestamp = ts;
    if (ts > this.#maxTimestamp) this.#maxTimestamp = ts;
    const tsDelta = ts - this.#baseTimestamp;
    // Header keys are encoded once, for sizing and writing alike.
    const headers = record.headers;
    const keys = headers && headers.length > 0 ? headers.map((h) => utf8Encoder.encode(h.key)) : NO_KEYS;
    const body = RecordBatchBuilder.#bodySize(record, offsetDelta, tsDelta, keys);
    const total = varintSize(body) + body;
    this.#ensure(total);
    const buf = this.#buf;
    let pos = writeVarint(buf, this.#pos, body);
    buf[pos++] = 0; // record attributes: unused in v2
    pos = writeVarint(buf, pos, tsDelta);
    pos = writeVarint(buf, pos, offsetDelta);
    pos = writeBytesField(buf, pos, record.key ?? null);
    pos = writeBytesField(buf, pos, record.value);
    pos = writeVarint(buf, pos, keys.length);
    for (let i = 0; i < keys.length; i++) {
      pos = writeBytesField(buf, pos, keys[i]!);
      pos = writeBytesField(buf, pos, headers![i]!.value);
    }
    this.#pos = pos;
    this.#count++;
    this.#lastDelta = offsetDelta;
    return total;
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  /** Writes the header (compressing the records if asked) and returns the finished batch. */
  build(opts: BuildOptions = {}): Uint8Array {
    if (this.#count === 0) throw new RangeError('a record batch needs at least one record');
    const lastOffsetDelta = opts.lastOffsetDelta ?? this.#lastDelta;
    if (!Number.isInteger(lastOffsetDelta) || lastOffsetDelta < this.#lastDelta || lastOffsetDelta > 0x7fffffff) {
      throw new RangeError(`lastOffsetDelta ${lastOffsetDelta} must be an int32 ≥ the last record's delta ${this.#lastDelta}`);
    }
    const logAppend = opts.timestampType === TimestampType.LogAppendTime;
    let batch: Uint8Array;
    if (this.compression === 0) {
      batch = this.#buf.subarray(0, this.#pos);
    } else {
      const packed = compress(this.compression, this.#buf.subarray(HEADER_SIZE, this.#pos));
      batch = new Uint8Array(HEADER_SIZE + packed.length);
      batch.set(packed, HEADER_SIZE);
    }
    const dv = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    let attributes = this.compression & ATTR_COMPRESSION_MASK;
    if (logAppend) attributes |= ATTR_TIMESTAMP_TYPE;
    dv.setBigInt64(Field.baseOffset, BigInt(opts.baseOffset ?? 0));
    dv.setInt32(Field.batchLength, batch.length - LOG_OVERHEAD);
    dv.setInt32(Field.partitionLeaderEpoch, opts.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH);
    dv.setInt8(Field.magic, MAGIC);
    dv.setInt16(Field.attributes, attributes);
    dv.setInt32(Field.lastOffsetDelta, lastOffsetDelta);
    dv.setBigInt64(Field.baseTimestamp, BigInt(this.#baseTimestamp!));
    dv.setBigInt64(Field.maxTimestamp, BigInt(logAppend && opts.logAppendTime !== undefined ? opts.logAppendTime : this.#maxTimestamp));
    dv.setBigInt64(Field.producerId, BigInt(opts.producerId ?? NO_PRODUCER_ID));
    dv.setInt16(Field.producerEpoch, opts.producerEpoch ?? NO_PRODUCER_EPOCH);
    dv.setInt32(Field.baseSequence, opts.baseSequence ?? NO_SEQUENCE);
    dv.setInt32(Field.recordCount, this.#count);
    dv.setUint32(Field.crc, crc32c(batch, CRC_START));
    return batch;
  }
}

/** Encodes records into one batch. Offset deltas are 0..n-1; the broker stamps the base offset. */
export function encodeRecordBatch(records: readonly RecordInput[], options: EncodeOptions = {}): Uint8Array {
  if (records.length === 0) throw new RangeError('a record batch needs at least one record');
  const builder = new RecordBatchBuilder({
    ...(options.compression !== undefined ? { compression: options.compression } : {}),
    baseTimestamp: options.baseTimestamp ?? records[0]!.timestamp ?? Date.now(),
    initialBytes: HEADER_SIZE + records.reduce((n, r) => n + 32 + (r.key?.length ?? 0) + (r.value?.length ?? 0) + (r.headers?.length ?? 0) * 48, 0),
  });
  for (const r of records) builder.append(r);
  return builder.build(options);
}
