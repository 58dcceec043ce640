/**
 * Fetch with long-poll: answer at once if minBytes are available (or anything failed), else wait
 * until a fetched partition's high watermark moves, a topic changes, maxWaitMs passes or the
 * connection goes away, and read again.
 */
import { EddyError } from '../../protocol/errors.js';
import type { FetchRequest, FetchResponse } from '../../protocol/apis/fetch.js';
import { Field } from '../../protocol/batch-format.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { errorFields, NO_ERROR, type BrokerContext } from './context.js';
import type { RequestOrigin } from './request-origin.js';

/** Longest a fetch may wait, whatever the client asks: bounds resources held per request. */
export const MAX_FETCH_WAIT_MS = 30_000;

type PartitionResult = FetchResponse['topics'][number]['partitions'][number];

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Records and bytes a fetch returns from one partition, reported to the metrics once it is answered. */
interface Returned {
  topic: string;
  records: number;
  bytes: number;
}

/** Records in whole batches: one header field per batch, no decoding. */
function recordCount(batches: readonly Uint8Array[]): number {
  let n = 0;
  for (const b of batches) n += new DataView(b.buffer, b.byteOffset, b.byteLength).getInt32(Field.recordCount);
  return n;
}

function readOnce(
  req: FetchRequest,
  ctx: BrokerContext,
  logs: Set<PartitionLog>,
): { response: FetchResponse; bytes: number; returned: Returned[]; errorCodes: number[] } {
  let budget = req.maxBytes;
  let bytes = 0;
  const returned: Returned[] = [];
  const errorCodes: number[] = [];
  const upTo = req.isolation === 1 ? 'log-end' : 'high-watermark';
  const topics = req.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p): PartitionResult => {
      try {
        const log = ctx.topics.partition(t.name, p.partition);
        logs.add(log);
        // As in Kafka (KIP-74): the first batch of the response may exceed the budget so that a
        // large batch cannot stall a consumer; once anything is returned, partitions stay within it.
        const limit = Math.min(p.partitionMaxBytes, budget);
        const strictMaxBytes = bytes > 0;
        const r = limit > 0 || !strictMaxBytes ? log.read(p.fetchOffset, Math.max(1, limit), { upTo, strictMaxBytes }) : null;
        const records = r ? concat(r.batches, r.bytes) : new Uint8Array(0);
        bytes += records.length;
        budget -= records.length;
        if (r && r.batches.length > 0) returned.push({ topic: t.name, records: recordCount(r.batches), bytes: records.length });
        return {
          partition: p.partition,
          ...NO_ERROR,
          highWatermark: log.highWatermark,
          logStartOffset: log.logStartOffset,
          logEndOffset: log.logEndOffset,
          records,
        };
      } catch (err) {
        const fields = errorFields(err, ctx, `fetch from ${t.name}-${p.partition}`);
        errorCodes.push(fields.errorCode);
        return { partition: p.partition, ...fields, highWatermark: -1, logStartOffset: -1, logEndOffset: -1, records: new Uint8Array(0) };
      }
    }),
  }));
  return { response: { topics }, bytes, returned, errorCodes };
}

/** Counts what the answer carries (a long-poll reads several times but answers once). */
function report(ctx: BrokerContext, returned: readonly Returned[], errorCodes: readonly number[]): void {
  for (const r of returned) ctx.metrics.fetched(r.topic, r.records, r.bytes);
  for (const code of errorCodes) ctx.metrics.partitionError('Fetch', code);
}

export async function handleFetch(req: FetchRequest, ctx: BrokerContext, origin?: RequestOrigin): Promise<FetchResponse> {
  const signal = origin?.signal;
  if (req.maxBytes < 0 || req.minBytes < 0 || req.maxWaitMs < 0) {
    throw new EddyError('INVALID_REQUEST', 'maxWaitMs, minBytes and maxBytes must not be negative');
  }
  const deadline = Date.now() + Math.min(req.maxWaitMs, MAX_FETCH_WAIT_MS);
  for (;;) {
    const logs = new Set<PartitionLog>();
    const { response, bytes, returned, errorCodes } = readOnce(req, ctx, logs);
    const remaining = deadline - Date.now();
    if (bytes >= Math.max(1, req.minBytes) || errorCodes.length > 0 || remaining <= 0 || signal?.aborted) {
      report(ctx, returned, errorCodes);
      return response;
    }
    await waitForChange(logs, ctx, remaining, signal);
  }
}

function waitForChange(logs: Set<PartitionLog>, ctx: BrokerContext, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const offs: (() => void)[] = [];
    const done = () => {
      clearTimeout(timer);
      for (const off of offs) off();
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const log of logs) offs.push(log.onHighWatermark(done));
    ctx.topics.events.on('change', done);
    offs.push(() => ctx.topics.events.off('change', done));
    if (signal) {
      signal.addEventListener('abort', done, { once: true });
      offs.push(() => signal.removeEventListener('abort', done));
    }
  });
}
