/**
 * Produce: splits each partition's record set into batches and appends them as the leader.
 * A partition's batches are all-or-nothing; partitions of one request succeed or fail apart.
 */
import { EddyError } from '../../protocol/errors.js';
import type { ProduceRequest, ProduceResponse } from '../../protocol/apis/produce.js';
import { batchSizeAt, HEADER_SIZE } from '../../protocol/record-batch.js';
import { resolveTopicConfig } from '../topics/topic-config.js';
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
 * Compacted topics refuse records without a key (INVALID_RECORD, as Kafka does since KIP-467):
 * compaction keeps the latest record per key, so a keyless record has no place in them.
 */
function requiresKeys(ctx: BrokerContext, topic: string): boolean {
  const info = ctx.topics.get(topic);
  return info !== undefined && resolveTopicConfig(info.configs).cleanupPolicy !== 'delete';
}

export async function handleProduce(req: ProduceRequest, ctx: BrokerContext): Promise<ProduceResponse> {
  if (req.acks !== 0 && req.acks !== 1 && req.acks !== -1) {
    throw new EddyError('INVALID_REQUIRED_ACKS', `acks=${req.acks} is not valid; use 0, 1 or -1 (all)`);
  }
  // On a single node acks=1 and acks=all both mean durable on the leader (per the sync policy).
  const topics = await Promise.all(
    req.topics.map(async (t) => ({
      name: t.name,
      partitions: await Promise.all(
        t.partitions.map(async (p) => {
          let logStartOffset = -1;
          try {
            if (isInternalTopic(t.name)) {
              throw new EddyError('INVALID_TOPIC_EXCEPTION', `"${t.name}" is an internal topic; only the node writes to it`);
            }
            const log = ctx.topics.partition(t.name, p.partition);
            logStartOffset = log.logStartOffset;
            const result = await log.append(splitRecordSet(p.records), { requireKeys: requiresKeys(ctx, t.name) });
            // Offsets of a leader append are dense: the span is the record count.
            if (!result.duplicate) ctx.metrics.produced(t.name, result.lastOffset - result.baseOffset + 1, p.records.length);
            return { partition: p.partition, ...NO_ERROR, baseOffset: result.baseOffset, logAppendTimeMs: -1, logStartOffset: log.logStartOffset };
          } catch (err) {
            const fields = errorFields(err, ctx, `produce to ${t.name}-${p.partition}`);
            ctx.metrics.partitionError('Produce', fields.errorCode);
            return { partition: p.partition, ...fields, baseOffset: -1, logAppendTimeMs: -1, logStartOffset };
          }
        }),
      ),
    })),
  );
  return { topics };
}
