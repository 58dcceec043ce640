/**
 * Record batches, byte-compatible with Kafka's RecordBatch v2 (magic 2). Layout: RECORD-BATCH.md.
 *
 * A batch is encoded once, by the producer. The broker validates it (`validateBatch`) and stamps
 * base offset and leader epoch in place (`stampBatch`); those two fields sit outside the CRC, so
 * the bytes stored, replicated and served are the producer's bytes. Nothing on the hot path
 * re-encodes.
 *
 * Only Uint8Array and DataView are used here (no Buffer), so the client can run in a browser.
 */
import { crc32c } from './crc32c.js';
import { decompress } from './compression.js';
import { EddyError } from './errors.js';
import { readVarint, type VarintResult } from './varint.js';
import {
  ATTR_COMPRESSION_MASK,
  ATTR_CONTROL,
  ATTR_TIMESTAMP_TYPE,
  ATTR_TRANSACTIONAL,
  CRC_START,
  Field,
  HEADER_SIZE,
  LOG_OVERHEAD,
  MAGIC,
  TimestampType,
  type BatchHeader,
  type DecodedRecord,
  type RecordHeader,
} from './batch-format.js';

export * from './batch-format.js';
export { encodeRecordBatch, RecordBatchBuilder } from './batch-builder.js';

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function getInt64(dv: DataView, pos: number): number {
  const v = dv.getBigInt64(pos);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new EddyError('CORRUPT_MESSAGE', `int64 field at byte ${pos} (${v}) exceeds the 53-bit range Eddy supports`);
  }
  return Number(v);
}

function setInt64(dv: DataView, pos: number, value: number): void {
  dv.setBigInt64(pos, BigInt(value));
}

// ---------------------------------------------------------------------------------------------
// Header access and broker-side stamping
// ---------------------------------------------------------------------------------------------

/** Parses the fixed header. Checks only that the header is there; see `validateBatch`. */
export function readBatchHeader(buf: Uint8Array): BatchHeader {
  if (buf.length < HEADER_SIZE) {
    throw new EddyError('CORRUPT_MESSAGE', `batch is ${buf.length} bytes, shorter than the ${HEADER_SIZE}-byte header`);
  }
  const dv = view(buf);
  const attributes = dv.getInt16(Field.attributes);
  return {
    baseOffset: getInt64(dv, Field.baseOffset),
    batchLength: dv.getInt32(Field.batchLength),
    partitionLeaderEpoch: dv.getInt32(Field.partitionLeaderEpoch),
    magic: dv.getInt8(Field.magic),
    crc: dv.getUint32(Field.crc),
    attributes,
    compression: attributes & ATTR_COMPRESSION_MASK,
    timestampType: attributes & ATTR_TIMESTAMP_TYPE ? TimestampType.LogAppendTime : TimestampType.CreateTime,
    isTransactional: (attributes & ATTR_TRANSACTIONAL) !== 0,
    isControl: (attributes & ATTR_CONTROL) !== 0,
    lastOffsetDelta: dv.getInt32(Field.lastOffsetDelta),
    baseTimestamp: getInt64(dv, Field.baseTimestamp),
    maxTimestamp: getInt64(dv, Field.maxTimestamp),
    producerId: getInt64(dv, Field.producerId),
    producerEpoch: dv.getInt16(Field.producerEpoch),
    baseSequence: dv.getInt32(Field.baseSequence),
    recordCount: dv.getInt32(Field.recordCount),
  };
}

/** Base offset + last offset delta: the offset of the batch's last record. */
export function lastOffsetOf(header: Pick<BatchHeader, 'baseOffset' | 'lastOffsetDelta'>): number {
  return header.baseOffset + header.lastOffsetDelta;
}

/**
 * Writes base offset and partition leader epoch in place. Both lie before the CRC'd range
 * (Kafka placed them there for exactly this), so the CRC stays valid.
 */
export function stampBatch(buf: Uint8Array, baseOffset: number, partitionLeaderEpoch: number): void {
  const dv = view(buf);
  setInt64(dv, Field.baseOffset, baseOffset);
  dv.setInt32(Field.partitionLeaderEpoch, partitionLeaderEpoch);
}

/** Total byte length of the batch starting at `pos` in a concatenation, from its length field. */
export function batchSizeAt(buf: Uint8Array, pos: number): number {
  if (buf.length - pos < LOG_OVERHEAD) return -1;
  return view(buf).getInt32(pos + Field.batchLength) + LOG_OVERHEAD;
}

/**
 * Splits a concatenation of whole batches (a fetch response's record set). A trailing partial
 * batch is not returned; Kafka's fetch may end in one when maxBytes cuts a batch.
 */
export function splitBatches(buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const size = batchSizeAt(buf, pos);
    if (size < HEADER_SIZE || pos + size > buf.length) break;
    out.push(buf.subarray(pos, pos + size));
    pos += size;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validation (broker side)
// ---------------------------------------------------------------------------------------------

export interface ValidateOptions {
  /** Largest accepted batch, in bytes (max.message.bytes). */
  maxBatchBytes: number;
  /** Bound on decompressed records, against decompression bombs. Default 64 MiB. */
  maxDecompressedBytes?: number;
  /**
   * Producer batches carry offset deltas 0..n-1. A follower's or a compacted batch may have
   * gaps, so it only needs increasing deltas within [0, lastOffsetDelta], and may hold no
   * record at all (the cleaner keeps a producer's last batch, emptied, as Kafka does).
   */
  denseOffsets: boolean;
  /**
   * Refuse records without a key (INVALID_RECORD): a compacted topic cannot hold them. Kafka
   * (≥ 2.5, KIP-467) answers the same; the check rides on the record walk, so it costs nothing.
   */
  requireKeys?: boolean;
}

/**
 * Validates a batch fully: header, length field, magic, CRC, codec, and a walk over every record
 * (lengths, offset deltas, key/value/header bounds, count). Throws EddyError with
 * CORRUPT_MESSAGE (damaged bytes), MESSAGE_TOO_LARGE, UNSUPPORTED_COMPRESSION_TYPE or
 * INVALID_RECORD (intact bytes, invalid contents). Returns the parsed header.
 */
export function validateBatch(buf: Uint8Array, options: ValidateOptions): BatchHeader {
  if (buf.length > options.maxBatchBytes) {
    throw new EddyError('MESSAGE_TOO_LARGE', `batch is ${buf.length} bytes; the limit is ${options.maxBatchBytes}`);
  }
  const h = readBatchHeader(buf);
  if (h.batchLength + LOG_OVERHEAD !== buf.length) {
    throw new EddyError(
      'CORRUPT_MESSAGE',
      `batch length field says ${h.batchLength + LOG_OVERHEAD} bytes but ${buf.length} arrived (truncated or padded)`,
    );
  }
  if (h.magic !== MAGIC) {
    throw new EddyError('CORRUPT_MESSAGE', `magic byte is ${h.magic}; only record batch format v2 (magic 2) is accepted`);
  }
  const actualCrc = crc32c(buf, CRC_START);
  if (actualCrc !== h.crc) {
    throw new EddyError(
      'CORRUPT_MESSAGE',
      `CRC mismatch: header says 0x${h.crc.toString(16).padStart(8, '0')}, bytes give 0x${actualCrc.toString(16).padStart(8, '0')}`,
    );
  }
  if (h.isControl || h.isTransactional) {
    throw new EddyError('INVALID_RECORD', 'transactional and control batches are not supported');
  }
  if (h.recordCount < (options.denseOffsets ? 1 : 0)) {
    throw new EddyError('INVALID_RECORD', `batch declares ${h.recordCount} records; at least one is required`);
  }
  if (h.lastOffsetDelta < Math.max(0, h.recordCount - 1) || (options.denseOffsets && h.lastOffsetDelta !== h.recordCount - 1)) {
    throw new EddyError(
      'INVALID_RECORD',
      `lastOffsetDelta ${h.lastOffsetDelta} does not fit record count ${h.recordCount}`,
    );
  }
  const records =
    h.compression === 0
      ? { bytes: buf, start: HEADER_SIZE }
      : {
          bytes: decompress(h.compression, buf.subarray(HEADER_SIZE), options.maxDecompressedBytes ?? 64 * 1024 * 1024),
          start: 0,
        };
  walkRecords(records.bytes, records.start, h, options.denseOffsets, options.requireKeys ?? false);
  return h;
}

/**
 * Walks every record without allocating, checking that all lengths stay within bounds, offset
 * deltas are as required, the count matches, no bytes trail, and (CreateTime) the header's
 * maxTimestamp is the records' maximum, which the time index relies on.
 */
function walkRecords(buf: Uint8Array, start: number, h: BatchHeader, dense: boolean, requireKeys: boolean): void {
  const end = buf.length;
  const v: VarintResult = { value: 0, pos: 0 };
  let pos = start;
  let prevDelta = -1;
  let maxTs = -Infinity;
  const fail = (why: string): never => {
    throw new EddyError('INVALID_RECORD', why);
  };
  try {
    for (let i = 0; i < h.recordCount; i++) {
      if (pos >= end) fail(`batch declares ${h.recordCount} records but holds only ${i}`);
      readVarint(buf, pos, end, v);
      const length = v.value;
      const recEnd = v.pos + length;
      if (length < 1 || recEnd > end) fail(`record ${i} claims ${length} bytes, beyond the batch end`);
      pos = v.pos + 1; // attributes
      readVarint(buf, pos, recEnd, v);
      const ts = h.baseTimestamp + v.value;
      if (ts > maxTs) maxTs = ts;
      readVarint(buf, v.pos, recEnd, v);
      const delta = v.value;
      if (dense ? delta !== i : delta <= prevDelta || delta > h.lastOffsetDelta) {
        fail(`record ${i} has offset delta ${delta}`);
      }
      prevDelta = delta;
      if (requireKeys && v.pos < recEnd && buf[v.pos] === 0x01) {
        // 0x01 is the zigzag varint of -1: a null key.
        fail(`record ${i} (offset delta ${delta}) has no key; a compacted topic cannot accept a record without a key. Give every record a key, or use a topic with cleanup.policy=delete`);
      }
      pos = skipBytesField(buf, v.pos, recEnd, v, i, 'key');
      pos = skipBytesField(buf, pos, recEnd, v, i, 'value');
      readVarint(buf, pos, recEnd, v);
      const headerCount = v.value;
      if (headerCount < 0) fail(`record ${i} has header count ${headerCount}`);
      pos = v.pos;
      for (let j = 0; j < headerCount; j++) {
        pos = skipBytesField(buf, pos, recEnd, v, i, 'header key', false);
        pos = skipBytesField(buf, pos, recEnd, v, i, 'header value');
      }
      if (pos !== recEnd) fail(`record ${i} has ${recEnd - pos} unexplained bytes`);
    }
  } catch (err) {
    if (err instanceof RangeError) fail(`malformed varint in records: ${err.message}`);
    throw err;
  }
  if (pos !== end) fail(`batch declares ${h.recordCount} records but ${end - pos} bytes follow the last one`);
  // An empty (compacted) batch keeps the maxTimestamp of the records it once held.
  if (h.timestampType === TimestampType.CreateTime && h.recordCount > 0 && maxTs !== h.maxTimestamp) {
    fail(`header maxTimestamp ${h.maxTimestamp} differs from the records' maximum ${maxTs}`);
  }
}

function skipBytesField(
  buf: Uint8Array,
  pos: number,
  end: number,
  v: VarintResult,
  record: number,
  what: string,
  nullable = true,
): number {
  readVarint(buf, pos, end, v);
  const len = v.value;
  if (len === -1 && nullable) return v.pos;
  if (len < 0 || v.pos + len > end) {
    throw new EddyError('INVALID_RECORD', `record ${record} ${what} length ${len} is out of bounds`);
  }
  return v.pos + len;
}

// ---------------------------------------------------------------------------------------------
// Decoding (consumer side)
// ---------------------------------------------------------------------------------------------

/** Records without headers share this (frozen) array instead of allocating one each. */
const NO_HEADERS: RecordHeader[] = Object.freeze([]) as unknown as RecordHeader[];

/**
 * Calls `visit` for each record of one batch, in order, without building intermediate objects:
 * a consumer makes its own record objects directly. Keys and values are views into the batch (or
 * into the decompressed buffer): copy them if the batch bytes will be reused. Throws
 * CORRUPT_MESSAGE on malformed bytes; does not check the CRC (use validateBatch for untrusted
 * input).
 */
export function forEachRecord(
  buf: Uint8Array,
  visit: (offset: number, timestamp: number, key: Uint8Array | null, value: Uint8Array | null, headers: RecordHeader[]) => void,
  maxDecompressedBytes = 64 * 1024 * 1024,
): void {
  const h = readBatchHeader(buf);
  const end0 = h.batchLength + LOG_OVERHEAD;
  if (end0 > buf.length || end0 < HEADER_SIZE) {
    throw new EddyError('CORRUPT_MESSAGE', `batch length field says ${end0} bytes but ${buf.length} are present`);
  }
  let bytes = buf.subarray(0, end0);
  let pos = HEADER_SIZE;
  if (h.compression !== 0) {
    bytes = decompress(h.compression, bytes.subarray(HEADER_SIZE), maxDecompressedBytes);
    pos = 0;
  }
  const end = bytes.length;
  const v: VarintResult = { value: 0, pos: 0 };
  try {
    for (let i = 0; i < h.recordCount && pos < end; i++) {
      readVarint(bytes, pos, end, v);
      const recEnd = v.pos + v.value;
      if (v.value < 1 || recEnd > end) throw new RangeError(`record ${i} length ${v.value} out of bounds`);
      readVarint(bytes, v.pos + 1, recEnd, v);
      const timestamp = h.timestampType === TimestampType.LogAppendTime ? h.maxTimestamp : h.baseTimestamp + v.value;
      readVarint(bytes, v.pos, recEnd, v);
      const offset = h.baseOffset + v.value;
      const key = readBytesField(bytes, v.pos, recEnd, v);
      const value = readBytesField(bytes, v.pos, recEnd, v);
      readVarint(bytes, v.pos, recEnd, v);
      const headerCount = v.value;
      if (headerCount < 0) throw new RangeError(`record ${i} header count ${headerCount}`);
      let headers = NO_HEADERS;
      if (headerCount > 0) {
        headers = [];
        for (let j = 0; j < headerCount; j++) {
          const hk = readBytesField(bytes, v.pos, recEnd, v);
          if (hk === null) throw new RangeError(`record ${i} header ${j} has a null key`);
          const hv = readBytesField(bytes, v.pos, recEnd, v);
          headers.push({ key: utf8Decoder.decode(hk), value: hv });
        }
      }
      visit(offset, timestamp, key, value, headers);
      pos = recEnd;
    }
  } catch (err) {
    if (err instanceof RangeError || err instanceof TypeError) {
      throw new EddyError('CORRUPT_MESSAGE', `cannot decode records of batch at offset ${h.baseOffset}: ${err.message}`, {
        cause: err,
      });
    }
    throw err;
  }
}

/** The records of one batch as objects (see forEachRecord). */
export function decodeRecords(buf: Uint8Array, maxDecompressedBytes = 64 * 1024 * 1024): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  forEachRecord(buf, (offset, timestamp, key, value, headers) => void out.push({ offset, timestamp, key, value, headers }), maxDecompressedBytes);
  return out;
}

function readBytesField(buf: Uint8Array, pos: number, end: number, v: VarintResult): Uint8Array | null {
  readVarint(buf, pos, end, v);
  const len = v.value;
  if (len === -1) return null;
  if (len < 0 || v.pos + len > end) throw new RangeError(`field length ${len} out of bounds`);
  const start = v.pos;
  v.pos = start + len;
  return buf.subarray(start, start + len);
}
