/**
 * The record batch format's constants and types (Kafka RecordBatch v2; layout in
 * RECORD-BATCH.md), shared by the encoder (batch-builder.ts) and the reader (record-batch.ts).
 */
import type { CompressionId } from './compression.js';

export const MAGIC = 2;

/** Byte offsets of the batch header fields. */
export const Field = {
  baseOffset: 0, // int64
  batchLength: 8, // int32: bytes after this field
  partitionLeaderEpoch: 12, // int32
  magic: 16, // int8
  crc: 17, // uint32, CRC-32C of [attributes, end)
  attributes: 21, // int16
  lastOffsetDelta: 23, // int32
  baseTimestamp: 27, // int64
  maxTimestamp: 35, // int64
  producerId: 43, // int64
  producerEpoch: 51, // int16
  baseSequence: 53, // int32
  recordCount: 57, // int32
} as const;

export const HEADER_SIZE = 61;
/** Bytes before and including batchLength: batchLength counts what follows them. */
export const LOG_OVERHEAD = 12;
/** The CRC covers the batch from the attributes field to its end. */
export const CRC_START = Field.attributes;

export const ATTR_COMPRESSION_MASK = 0x07;
export const ATTR_TIMESTAMP_TYPE = 0x08;
export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;

export const TimestampType = { CreateTime: 0, LogAppendTime: 1 } as const;
export type TimestampTypeId = (typeof TimestampType)[keyof typeof TimestampType];

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
/** Producer sequence numbers are int32 and wrap to 0 after this, as Kafka's do. */
export const MAX_SEQUENCE = 2 ** 31 - 1;

/** The sequence `by` after `seq`, wrapping. */
export function nextSequence(seq: number, by = 1): number {
  return (seq + by) % (MAX_SEQUENCE + 1);
}
export const NO_PARTITION_LEADER_EPOCH = -1;

export interface RecordHeader {
  key: string;
  value: Uint8Array | null;
}

export interface RecordInput {
  key?: Uint8Array | null;
  value: Uint8Array | null;
  headers?: readonly RecordHeader[];
  /** Milliseconds since the epoch; defaults to the batch's base timestamp. */
  timestamp?: number;
}

export interface EncodeOptions {
  compression?: CompressionId;
  /** Defaults to the first record's timestamp, else `Date.now()`. */
  baseTimestamp?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  timestampType?: TimestampTypeId;
}

export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  compression: number;
  timestampType: TimestampTypeId;
  isTransactional: boolean;
  isControl: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}
