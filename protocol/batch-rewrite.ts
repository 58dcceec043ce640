/**
 * Rewriting a stored batch so that it holds only some of its records: the log cleaner's encoder
 * (Kafka's MemoryRecords.filterTo). Everything that identifies the batch survives: base offset,
 * lastOffsetDelta, each kept record's offset delta, timestamps, headers, partition leader epoch,
 * producer id/epoch/base sequence, timestamp type and codec. Only recordCount, maxTimestamp
 * (CreateTime), the length and the CRC change, so the rewritten batch passes `validateBatch`
 * (non-dense) and decodes to exactly the kept records at their original offsets.
 */
import { RecordBatchBuilder } from './batch-builder.js';
import type { CompressionId } from './compression.js';
import { crc32c } from './crc32c.js';
import { EddyError } from './errors.js';
import { decodeRecords, readBatchHeader } from './record-batch.js';
import {
  ATTR_TIMESTAMP_TYPE,
  CRC_START,
  Field,
  HEADER_SIZE,
  LOG_OVERHEAD,
  MAGIC,
  TimestampType,
  type BatchHeader,
  type DecodedRecord,
} from './batch-format.js';

/**
 * Re-encodes `batch` with only the records whose offset `keep` accepts. `records` may be passed
 * when the caller has decoded them already. With nothing kept, returns an empty batch (see
 * `encodeEmptyBatch`); the caller decides whether to store it or drop the batch. Control and
 * transactional batches are refused: the cleaner leaves them alone.
 */
export function rewriteBatch(
  batch: Uint8Array,
  keep: (offset: number) => boolean,
  opts: { records?: readonly DecodedRecord[]; maxDecompressedBytes?: number } = {},
): Uint8Array {
  const h = readBatchHeader(batch);
  if (h.isControl || h.isTransactional) {
    throw new EddyError('INVALID_RECORD', `batch at offset ${h.baseOffset} is a control or transactional batch; those are not rewritten`);
  }
  const records = opts.records ?? decodeRecords(batch, opts.maxDecompressedBytes);
  const kept = records.filter((r) => keep(r.offset));
  if (kept.length === 0) return encodeEmptyBatch(h);
  const logAppend = h.timestampType === TimestampType.LogAppendTime;
  // Kafka's builder takes the first kept record's timestamp as the base; with LogAppendTime
  // every record reads maxTimestamp, so the deltas are 0 and maxTimestamp is kept as it was.
  const builder = new RecordBatchBuilder({
    compression: h.compression as CompressionId,
    baseTimestamp: kept[0]!.timestamp,
    initialBytes: HEADER_SIZE + kept.reduce((n, r) => n + 32 + (r.key?.length ?? 0) + (r.value?.length ?? 0) + r.headers.length * 48, 0),
  });
  for (const r of kept) builder.append(r, r.offset - h.baseOffset);
  return builder.build({
    baseOffset: h.baseOffset,
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    lastOffsetDelta: h.lastOffsetDelta,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    timestampType: h.timestampType,
    ...(logAppend ? { logAppendTime: h.maxTimestamp } : {}),
  });
}

/**
 * A batch with no records that still spans [baseOffset, baseOffset + lastOffsetDelta] and keeps
 * the producer fields: what Kafka's cleaner writes (DefaultRecordBatch.writeEmptyHeader) for an
 * active producer's last batch once compaction removed all its records, so that the producer's
 * last sequence can still be rebuilt from the log. Uncompressed; base and max timestamp are the
 * original maxTimestamp.
 */
export function encodeEmptyBatch(
  h: Pick<BatchHeader, 'baseOffset' | 'partitionLeaderEpoch' | 'lastOffsetDelta' | 'maxTimestamp' | 'producerId' | 'producerEpoch' | 'baseSequence' | 'timestampType'>,
): Uint8Array {
  const batch = new Uint8Array(HEADER_SIZE);
  const dv = new DataView(batch.buffer);
  dv.setBigInt64(Field.baseOffset, BigInt(h.baseOffset));
  dv.setInt32(Field.batchLength, HEADER_SIZE - LOG_OVERHEAD);
  dv.setInt32(Field.partitionLeaderEpoch, h.partitionLeaderEpoch);
  dv.setInt8(Field.magic, MAGIC);
  dv.setInt16(Field.attributes, h.timestampType === TimestampType.LogAppendTime ? ATTR_TIMESTAMP_TYPE : 0);
  dv.setInt32(Field.lastOffsetDelta, h.lastOffsetDelta);
  dv.setBigInt64(Field.baseTimestamp, BigInt(h.maxTimestamp));
  dv.setBigInt64(Field.maxTimestamp, BigInt(h.maxTimestamp));
  dv.setBigInt64(Field.producerId, BigInt(h.producerId));
  dv.setInt16(Field.producerEpoch, h.producerEpoch);
  dv.setInt32(Field.baseSequence, h.baseSequence);
  dv.setInt32(Field.recordCount, 0);
  dv.setUint32(Field.crc, crc32c(batch, CRC_START));
  return batch;
}
