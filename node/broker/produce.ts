/**
 * Produce: splits each partition's record set into batches and appends them as the leader,
 * through the replica manager (which owns the topic policy: acks, internal topics, keys for
 * compacted topics, the disk guard). A partition's batches are all-or-nothing; partitions of one
 * request succeed or fail apart.
 */
import { EddyError } from '../../protocol/errors.js';
import type { ProduceRequest, ProduceResponse } from '../../protocol/apis/produce.js';
import { batchSizeAt, HEADER_SIZE } from '../../protocol/record-batch.js';
import { checkRequiredAcks } from '../replication/replica-manager.js';
import { isInternalTopic } from '../topics/topic-name.js';
import { errorFields, NO_ERROR, type BrokerContext } from './context.js';

/**
 * Splits a record set into whole batches. Unlike a fetch response, a produce request must hold
 * only whole batches: anything left over is CORRUPT_MESSAGE.
 */
export function splitRecordSet(records: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < records.length) {
    const size = batchSizeAt(records, pos);
    if (size < HEADER_SIZE || pos + size > records.length) {
      throw new EddyError(
        'CORRUPT_MESSAGE',
        `record set has a batch at byte ${pos} claiming ${size} bytes, but ${records.length - pos} remain`,
      );
    }
    out.push(records.subarray(pos, pos + size));
    pos += size;
  }
  if (out.length === 0) throw new EddyError('INVALID_REQUEST', 'produce request holds no record batch');
  return out;
}

/**
 * Where the partition's log starts, for the answer. Kafka reports it with success and with
 * record errors (INVALID_RECORD, CORRUPT_MESSAGE, …) of a partition that exists; -1 for unknown
 * and internal topics (or a topic deleted meanwhile).
 */
function logStartOffsetOf(ctx: BrokerContext, topic: string, partition: number): number {
  if (isInternalTopic(topic)) return -1;
  try {
    return ctx.topics.partition(topic, partition).logStartOffset;
  } catch {
    return -1; // UNKNOWN_TOPIC_OR_PARTITION
  }
}

export async function handleProduce(req: ProduceRequest, ctx: BrokerContext): Promise<ProduceResponse> {
  // Bad acks fail the whole request, before any partition is touched (the replica manager checks
  // again per append, for its other callers).
  checkRequiredAcks(req.acks);
  const topics = await Promise.all(
    req.topics.map(async (t) => ({
      name: t.name,
      partitions: await Promise.all(
        t.partitions.map(async (p) => {
          try {
            const result = await ctx.replicas.appendRecords(t.name, p.partition, splitRecordSet(p.records), { acks: req.acks, origin: 'client' });
            // Offsets of a leader append are dense: the span is the record count.
            if (!result.duplicate) ctx.metrics.produced(t.name, result.lastOffset - result.baseOffset + 1, p.records.length);
            return { partition: p.partition, ...NO_ERROR, baseOffset: result.baseOffset, logAppendTimeMs: -1, logStartOffset: logStartOffsetOf(ctx, t.name, p.partition) };
          } catch (err) {
            const fields = errorFields(err, ctx, `produce to ${t.name}-${p.partition}`);
            ctx.metrics.partitionError('Produce', fields.errorCode);
            return { partition: p.partition, ...fields, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: logStartOffsetOf(ctx, t.name, p.partition) };
          }
        }),
      ),
    })),
  );
  return { topics };
}
