/**
 * Fetch with long-poll: answer at once if minBytes are available (or anything failed), else wait
 * until a fetched partition's high watermark moves (its log end offset, for a replica), a topic
 * changes, maxWaitMs passes or the connection goes away, and read again.
 *
 * How far a fetch reads is Kafka's FetchIsolation: a consumer (replicaId −1) up to the high
 * watermark, whatever its isolation level; a replica (replicaId = its node id, over a peer link)
 * up to the log end offset, since it copies what the ISR has not all acknowledged yet.
 */
import { EddyError } from '../../protocol/errors.js';
import { CONSUMER_REPLICA_ID, IsolationLevel, NO_FETCH_EPOCHS, type FetchRequest, type FetchResponse } from '../../protocol/apis/fetch.js';
import { Field } from '../../protocol/batch-format.js';
import type { PartitionLog, ReadLimit } from '../storage/partition-log.js';
import { errorFields, NO_ERROR, type BrokerContext } from './context.js';
import type { RequestOrigin } from '../request-origin.js';
import { concatBytes } from '../../protocol/concat-bytes.js';

/** Longest a fetch may wait, whatever the client asks: bounds resources held per request. */
export const MAX_FETCH_WAIT_MS = 30_000;

type PartitionResult = FetchResponse['topics'][number]['partitions'][number];

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

/**
 * How far this fetch may read. Both isolation levels stop at the high watermark: read_uncommitted
 * reads up to it, read_committed up to the last stable offset, which equals it until transactions
 * exist. Only a replica reads past it, and only a peer node may fetch as one, under its own id:
 * otherwise any client could read records the ISR has not all acknowledged yet.
 */
function readLimit(req: FetchRequest, origin: RequestOrigin | undefined): ReadLimit {
  if (req.isolation !== IsolationLevel.READ_UNCOMMITTED && req.isolation !== IsolationLevel.READ_COMMITTED) {
    throw new EddyError('INVALID_REQUEST', `isolation ${req.isolation} is not 0 (read_uncommitted) or 1 (read_committed)`);
  }
  if (req.replicaId === CONSUMER_REPLICA_ID) return 'high-watermark';
  if (req.replicaId < 0) throw new EddyError('INVALID_REQUEST', `replicaId ${req.replicaId} is not -1 (a consumer) or a node id`);
  const peer = origin?.peerNodeId;
  if (peer === undefined) {
    throw new EddyError('INVALID_REQUEST', `replica fetches (replicaId ${req.replicaId}) come only over an authenticated peer link; consumers send replicaId -1`);
  }
  if (peer !== req.replicaId) {
    throw new EddyError(
      'INVALID_REQUEST',
      `replica fetches (replicaId ${req.replicaId}) come only over an authenticated peer link, under the peer's own node id (this link is node ${peer}'s); consumers send replicaId -1`,
    );
  }
  return 'log-end';
}

function readOnce(
  req: FetchRequest,
  upTo: ReadLimit,
  ctx: BrokerContext,
  logs: Set<PartitionLog>,
): { response: FetchResponse; bytes: number; returned: Returned[]; errorCodes: number[] } {
  let budget = req.maxBytes;
  let bytes = 0;
  const returned: Returned[] = [];
  const errorCodes: number[] = [];
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
        const records = r ? concatBytes(r.batches, r.bytes) : new Uint8Array(0);
        bytes += records.length;
        budget -= records.length;
        if (r && r.batches.length > 0) returned.push({ topic: t.name, records: recordCount(r.batches), bytes: records.length });
        return {
          partition: p.partition,
          ...NO_ERROR,
          highWatermark: log.highWatermark,
          logStartOffset: log.logStartOffset,
          logEndOffset: log.logEndOffset,
          ...NO_FETCH_EPOCHS,
          records,
        };
      } catch (err) {
        const fields = errorFields(err, ctx, `fetch from ${t.name}-${p.partition}`);
        errorCodes.push(fields.errorCode);
        return { partition: p.partition, ...fields, highWatermark: -1, logStartOffset: -1, logEndOffset: -1, ...NO_FETCH_EPOCHS, records: new Uint8Array(0) };
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
  const upTo = readLimit(req, origin);
  const deadline = Date.now() + Math.min(req.maxWaitMs, MAX_FETCH_WAIT_MS);
  for (;;) {
    const logs = new Set<PartitionLog>();
    const { response, bytes, returned, errorCodes } = readOnce(req, upTo, ctx, logs);
    const remaining = deadline - Date.now();
    if (bytes >= Math.max(1, req.minBytes) || errorCodes.length > 0 || remaining <= 0 || signal?.aborted) {
      report(ctx, returned, errorCodes);
      return response;
    }
    await waitForChange(logs, upTo, ctx, remaining, signal);
  }
}

/**
 * Resolves when a read could now return more: the high watermark moved (consumers), or the log end
 * offset did (replicas, who read past the high watermark, which may not move until they fetch).
 */
function waitForChange(logs: Set<PartitionLog>, upTo: ReadLimit, ctx: BrokerContext, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const offs: (() => void)[] = [];
    const done = () => {
      clearTimeout(timer);
      for (const off of offs) off();
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const log of logs) offs.push(upTo === 'log-end' ? log.onLogEndOffset(done) : log.onHighWatermark(done));
    ctx.topics.events.on('change', done);
    offs.push(() => ctx.topics.events.off('change', done));
    if (signal) {
      signal.addEventListener('abort', done, { once: true });
      offs.push(() => signal.removeEventListener('abort', done));
    }
  });
}
