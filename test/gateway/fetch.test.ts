import { describe, expect, it } from 'vitest';
import { startNode } from '../../app/start-node.js';
import { Apis } from '../../protocol/apis/index.js';
import { CONSUMER_PARTITION_EPOCHS } from '../../protocol/apis/fetch.js';
import { ERRORS } from '../../protocol/errors.js';
import { decodeRecords, encodeRecordBatch, splitBatches } from '../../protocol/record-batch.js';
import { waitFor } from '../helpers/client.js';
import { requestsInFlight } from '../helpers/node.js';
import { RawClient } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/tmp.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null) => new TextDecoder().decode(b!);

function fetchReq(topic: string, partitions: { partition: number; fetchOffset: number; partitionMaxBytes?: number }[], o: { maxWaitMs?: number; minBytes?: number; maxBytes?: number } = {}) {
  return {
    replicaId: -1,
    maxWaitMs: o.maxWaitMs ?? 0,
    minBytes: o.minBytes ?? 1,
    maxBytes: o.maxBytes ?? 1 << 20,
    isolation: 0,
    topics: [{ name: topic, partitions: partitions.map((p) => ({ partitionMaxBytes: 1 << 20, ...CONSUMER_PARTITION_EPOCHS, ...p })) }],
  };
}

async function setup(partitions = 2) {
  const dataDir = tempDir();
  const node = await startNode({ dataDir });
  const client = await RawClient.connect(node.url);
  await client.call(Apis.CreateTopics.key, { topics: [{ name: 't', numPartitions: partitions, replicationFactor: -1, configs: [] }], timeoutMs: 1000, validateOnly: false });
  const produce = (partition: number, ...values: string[]) =>
    client.call(Apis.Produce.key, { acks: 1, timeoutMs: 1000, topics: [{ name: 't', partitions: [{ partition, records: encodeRecordBatch(values.map((v) => ({ value: enc(v) }))) }] }] });
  return { node, client, produce, dataDir };
}

const values = (records: Uint8Array) => splitBatches(records).flatMap((b) => decodeRecords(b).map((r) => dec(r.value)));

describe('fetch long-poll', () => {
  it('waits for data and wakes as soon as a produce lands, long before maxWaitMs', async () => {
    const { node, client, produce } = await setup();
    const waiting = client.call(Apis.Fetch.key, fetchReq('t', [{ partition: 1, fetchOffset: 0 }], { maxWaitMs: 10_000 }));
    // It waits: the node holds the fetch (an empty partition is no answer). One answered at once
    // is never seen in flight here, so this wait would time out.
    await waitFor(() => requestsInFlight(node) === 1, 'the node to hold the fetch');
    const produced = Date.now();
    await produce(1, 'late');
    const r = await waiting;
    expect(values(r.topics[0].partitions[0].records)).toEqual(['late']);
    expect(Date.now() - produced).toBeLessThan(2000); // woken by the data, not by maxWaitMs
    await node.close();
  });

  it('returns empty after maxWaitMs when nothing arrives, and keeps waiting until minBytes are there', async () => {
    const { node, client, produce } = await setup();
    const t0 = Date.now();
    const empty = await client.call(Apis.Fetch.key, fetchReq('t', [{ partition: 0, fetchOffset: 0 }], { maxWaitMs: 150 }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(empty.topics[0].partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 0 });
    expect(empty.topics[0].partitions[0].records.length).toBe(0);

    await produce(0, 'a');
    const oneBatch = (await client.call(Apis.Fetch.key, fetchReq('t', [{ partition: 0, fetchOffset: 0 }]))).topics[0].partitions[0].records.length;
    const waiting = client.call(Apis.Fetch.key, fetchReq('t', [{ partition: 0, fetchOffset: 0 }], { maxWaitMs: 10_000, minBytes: oneBatch * 2 + 1 }));
    await produce(0, 'b');
    // The append of 'b' woke the fetch, which read again as the append committed, before the
    // produce was answered (the node runs in this process): still held, two batches are not yet
    // minBytes. An answer here would have left the node before this line runs.
    expect(requestsInFlight(node)).toBe(1);
    await produce(0, 'c');
    expect(values((await waiting).topics[0].partitions[0].records)).toEqual(['a', 'b', 'c']);
    await node.close();
  });

  it('wakes a waiting fetch with UNKNOWN_TOPIC_OR_PARTITION when its topic is deleted', async () => {
    const { node, client } = await setup();
    const other = await RawClient.connect(node.url);
    const waiting = client.call(Apis.Fetch.key, fetchReq('t', [{ partition: 0, fetchOffset: 0 }], { maxWaitMs: 10_000 }));
    await waitFor(() => requestsInFlight(node) === 1, 'the fetch to be held by the node');
    await other.call(Apis.DeleteTopics.key, { names: ['t'], timeoutMs: 1000 });
    expect((await waiting).topics[0].partitions[0].errorCode).toBe(ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code);
    await node.close();
  });

  it('keeps within maxBytes across partitions, but always returns a first batch larger than it', async () => {
    const { node, client, produce } = await setup(3);
    await produce(0, 'x'.repeat(500));
    await produce(1, 'y'.repeat(500));
    await produce(2, 'z'.repeat(500));
    const r = await client.call(Apis.Fetch.key, fetchReq('t', [0, 1, 2].map((partition) => ({ partition, fetchOffset: 0 })), { maxBytes: 100 }));
    const sizes = r.topics[0].partitions.map((p: { records: Uint8Array }) => p.records.length);
    expect(sizes[0]).toBeGreaterThan(500); // over maxBytes, so the consumer makes progress
    expect(sizes.slice(1)).toEqual([0, 0]); // the budget is spent
    await node.close();
  });

  it('does not let partitions after the first overrun what is left of maxBytes', async () => {
    const { node, client, produce } = await setup(2);
    await produce(0, 'a');
    await produce(1, 'b'.repeat(400));
    const small = (await client.call(Apis.Fetch.key, fetchReq('t', [{ partition: 0, fetchOffset: 0 }]))).topics[0].partitions[0].records.length;
    // Room for partition 0's small batch and a little more, but not for partition 1's large one.
    const r = await client.call(Apis.Fetch.key, fetchReq('t', [0, 1].map((partition) => ({ partition, fetchOffset: 0 })), { maxBytes: small + 100 }));
    const sizes = r.topics[0].partitions.map((p: { records: Uint8Array }) => p.records.length);
    expect(sizes).toEqual([small, 0]);
    await node.close();
  });
});

describe('restart', () => {
  it('serves every record and topic back after the node restarts on the same data dir', async () => {
    const { node, client, produce, dataDir } = await setup(2);
    for (let i = 0; i < 20; i++) await produce(i % 2, `v${i}`);
    client.close();
    await node.close();
    const again = await startNode({ dataDir });
    const c = await RawClient.connect(again.url);
    const md = await c.call(Apis.Metadata.key, { topics: null });
    expect(
      md.topics.filter((t: { isInternal: boolean }) => !t.isInternal).map((t: { name: string; partitions: unknown[] }) => [t.name, t.partitions.length]),
    ).toEqual([['t', 2]]);
    const r = await c.call(Apis.Fetch.key, fetchReq('t', [{ partition: 0, fetchOffset: 0 }, { partition: 1, fetchOffset: 0 }]));
    expect(values(r.topics[0].partitions[0].records)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i * 2}`));
    expect(values(r.topics[0].partitions[1].records)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i * 2 + 1}`));
    c.close();
    await again.close();
  });
});
