/**
 * Fetch in Kafka's vocabulary: isolation 0/1 (read_uncommitted/read_committed) never read past
 * the high watermark; only a replica (replicaId = its node id, over a peer link) reads to the log
 * end and long-polls on appends. The high watermark is frozen by handing it to replication
 * (`setReplicated(true)`), so the log end runs ahead of it as it does while followers catch up.
 */
import { describe, expect, it } from 'vitest';
import type { RunningNode } from '../../app/start-node.js';
import { handleFetch } from '../../node/broker/fetch.js';
import type { RequestOrigin } from '../../node/request-origin.js';
import { Apis } from '../../protocol/apis/index.js';
import { CONSUMER_PARTITION_EPOCHS, type FetchRequest } from '../../protocol/apis/fetch.js';
import { ERRORS } from '../../protocol/errors.js';
import { decodeRecords, encodeRecordBatch, splitBatches } from '../../protocol/record-batch.js';
import { waitFor } from '../helpers/client.js';
import { requestsInFlight, testNode } from '../helpers/node.js';
import { RawClient } from '../helpers/raw-client.js';

const enc = (s: string) => new TextEncoder().encode(s);
const values = (records: Uint8Array) => splitBatches(records).flatMap((b) => decodeRecords(b).map((r) => new TextDecoder().decode(r.value!)));

function fetchReq(o: { fetchOffset?: number; isolation?: number; replicaId?: number; maxWaitMs?: number } = {}): FetchRequest {
  return {
    replicaId: o.replicaId ?? -1,
    maxWaitMs: o.maxWaitMs ?? 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolation: o.isolation ?? 1,
    topics: [{ name: 't', partitions: [{ partition: 0, fetchOffset: o.fetchOffset ?? 0, partitionMaxBytes: 1 << 20, ...CONSUMER_PARTITION_EPOCHS }] }],
  };
}

/** A node whose partition t-0 holds a, b below the high watermark (2) and c above it (log end 3). */
async function laggingHighWatermark(): Promise<{ node: RunningNode; client: RawClient; produce: (v: string) => Promise<void> }> {
  const node = await testNode();
  const client = await RawClient.connect(node.url);
  await client.call(Apis.CreateTopics.key, { topics: [{ name: 't', numPartitions: 1, replicationFactor: -1, configs: [] }], timeoutMs: 1000, validateOnly: false });
  const produce = async (v: string) => {
    const r = await client.call(Apis.Produce.key, { acks: 1, timeoutMs: 1000, topics: [{ name: 't', partitions: [{ partition: 0, records: encodeRecordBatch([{ value: enc(v) }]) }] }] });
    expect(r.topics[0].partitions[0].errorCode).toBe(0);
  };
  await produce('a');
  await produce('b');
  node.topics.partition('t', 0).setReplicated(true); // the high watermark now waits for followers
  await produce('c');
  expect(node.topics.partition('t', 0)).toMatchObject({ highWatermark: 2, logEndOffset: 3 });
  return { node, client, produce };
}

const peer = (peerNodeId: number): RequestOrigin => ({ clientId: 'peer', clientHost: '127.0.0.1', peerNodeId });

describe('consumer fetches (replicaId -1)', () => {
  it('never return records at or past the high watermark, with read_committed (1) or read_uncommitted (0), in v1 or v0', async () => {
    const { client } = await laggingHighWatermark();
    for (const isolation of [1, 0]) {
      const p = (await client.call(Apis.Fetch.key, fetchReq({ isolation }))).topics[0].partitions[0];
      expect(p).toMatchObject({ errorCode: 0, highWatermark: 2, logEndOffset: 3 });
      expect(values(p.records)).toEqual(['a', 'b']);
      const { replicaId: _, ...v0 } = fetchReq({ isolation });
      const old = (await client.call(Apis.Fetch.key, v0, 0)).topics[0].partitions[0]; // an old client: v0, read as replicaId -1
      expect(values(old.records)).toEqual(['a', 'b']);
      const atHw = (await client.call(Apis.Fetch.key, fetchReq({ isolation, fetchOffset: 2 }))).topics[0].partitions[0];
      expect(atHw).toMatchObject({ errorCode: 0, highWatermark: 2 });
      expect(atHw.records.length).toBe(0);
    }
  });

  it('long-poll on the high watermark: an append above it does not wake them, the high watermark moving does', async () => {
    const { node, client, produce } = await laggingHighWatermark();
    const waiting = client.call(Apis.Fetch.key, fetchReq({ fetchOffset: 2, maxWaitMs: 4000 }));
    await waitFor(() => requestsInFlight(node) === 1, 'the node to hold the fetch');
    await produce('d');
    // Still held: the append commits (and would wake the fetch) before the produce is answered,
    // and the node runs in this process, so an answer it caused would have left by now.
    expect(requestsInFlight(node)).toBe(1);
    const moved = Date.now();
    node.topics.partition('t', 0).updateHighWatermark(4);
    const p = (await waiting).topics[0].partitions[0];
    expect(Date.now() - moved).toBeLessThan(2000);
    expect(values(p.records)).toEqual(['c', 'd']);
  });

  it('refuse an isolation other than 0 or 1 with INVALID_REQUEST', async () => {
    const { client } = await laggingHighWatermark();
    for (const isolation of [2, -1]) {
      await expect(client.call(Apis.Fetch.key, fetchReq({ isolation }))).rejects.toMatchObject({
        code: ERRORS.INVALID_REQUEST.code,
        message: `isolation ${isolation} is not 0 (read_uncommitted) or 1 (read_committed)`,
      });
    }
  });
});

describe('replica fetches (replicaId >= 0)', () => {
  it('are refused on a client connection with INVALID_REQUEST, and the node keeps serving it', async () => {
    const { client } = await laggingHighWatermark();
    for (const replicaId of [3, 0]) {
      await expect(client.call(Apis.Fetch.key, fetchReq({ replicaId }))).rejects.toMatchObject({
        code: ERRORS.INVALID_REQUEST.code,
        message: `replica fetches (replicaId ${replicaId}) come only over an authenticated peer link; consumers send replicaId -1`,
      });
    }
    await expect(client.call(Apis.Fetch.key, fetchReq({ replicaId: -2 }))).rejects.toMatchObject({ code: ERRORS.INVALID_REQUEST.code });
    const p = (await client.call(Apis.Fetch.key, fetchReq())).topics[0].partitions[0];
    expect(values(p.records)).toEqual(['a', 'b']);
  });

  it('over a peer link, under the peer node id, read past the high watermark up to the log end', async () => {
    const { node } = await laggingHighWatermark();
    const ctx = node.broker.ctx;
    for (const isolation of [0, 1]) {
      const p = (await handleFetch(fetchReq({ replicaId: 1, isolation }), ctx, peer(1))).topics[0]!.partitions[0]!;
      expect(p).toMatchObject({ errorCode: 0, highWatermark: 2, logEndOffset: 3 });
      expect(values(p.records)).toEqual(['a', 'b', 'c']);
    }
    // A peer fetching as a consumer reads as one.
    expect(values((await handleFetch(fetchReq(), ctx, peer(1))).topics[0]!.partitions[0]!.records)).toEqual(['a', 'b']);
    // Another node's id is refused, as from a client.
    await expect(handleFetch(fetchReq({ replicaId: 2 }), ctx, peer(1))).rejects.toMatchObject({
      errorName: 'INVALID_REQUEST',
      detail: expect.stringMatching(/^replica fetches \(replicaId 2\) come only over an authenticated peer link, under the peer's own node id/),
    });
    await expect(handleFetch(fetchReq({ replicaId: 1 }), ctx, { clientId: 'c', clientHost: '127.0.0.1' })).rejects.toMatchObject({ errorName: 'INVALID_REQUEST' });
  });

  it('long-poll on the log end: an append wakes them while the high watermark stands still', async () => {
    const { node, produce } = await laggingHighWatermark();
    let settled = false;
    const waiting = handleFetch(fetchReq({ replicaId: 1, fetchOffset: 3, maxWaitMs: 5000 }), node.broker.ctx, peer(1)).finally(() => (settled = true));
    // It waits: a fetch answered at once settles within the current turn of the event loop.
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    const appended = Date.now();
    await produce('d');
    const p = (await waiting).topics[0]!.partitions[0]!;
    expect(values(p.records)).toEqual(['d']);
    expect(p).toMatchObject({ highWatermark: 2, logEndOffset: 4 });
    expect(Date.now() - appended).toBeLessThan(2000); // the append woke it, not the 5 s timeout
  });
});
