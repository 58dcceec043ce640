import { describe, expect, it } from 'vitest';
import { Apis } from '../../protocol/apis/index.js';
import { CONSUMER_PARTITION_EPOCHS, FetchRequestV1, FetchResponseV1 } from '../../protocol/apis/fetch.js';
import { encode, decode } from '../../protocol/wire/schema.js';
import { encodeRecordBatch, readBatchHeader, splitBatches } from '../../protocol/record-batch.js';
import { fetchReservation } from '../../gateway/server-connection.js';
import { waitFor } from '../helpers/client.js';
import { testNode } from '../helpers/node.js';
import { RawClient } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/tmp.js';

const LIMIT = 1 << 20;
/** One batch of 250 records of 1000 bytes: a fetch of FETCH_BYTES answers with exactly one. */
const RECORDS_PER_BATCH = 250;
const BATCHES = 40;
const FETCH_BYTES = 256 * 1024;
const PIPELINED = 120;

const fetchBody = (topic: string, fetchOffset: number, maxBytes: number) =>
  encode(FetchRequestV1, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes,
    isolation: 0,
    topics: [{ name: topic, partitions: [{ partition: 0, fetchOffset, partitionMaxBytes: maxBytes }] }],
  });

describe('a client that does not read its responses (stalled consumer)', () => {
  it('is no longer read once its unsent responses pass the limit; others are served meanwhile; it gets every response in order once it reads', async () => {
    const node = await testNode(tempDir(), 0, { maxBufferedBytesPerConnection: LIMIT });
    const admin = await RawClient.connect(node.url);
    await admin.call(Apis.CreateTopics.key, { topics: [{ name: 'big', numPartitions: 1, replicationFactor: -1, configs: [] }, { name: 'small', numPartitions: 1, replicationFactor: -1, configs: [] }], timeoutMs: 1000, validateOnly: false });
    const value = new Uint8Array(1000).fill(7);
    for (let b = 0; b < BATCHES; b++) {
      const records = encodeRecordBatch(Array.from({ length: RECORDS_PER_BATCH }, () => ({ value })));
      expect(records.length).toBeLessThan(FETCH_BYTES);
      const r = await admin.call(Apis.Produce.key, { acks: 1, timeoutMs: 5000, topics: [{ name: 'big', partitions: [{ partition: 0, records }] }] });
      expect(r.topics[0].partitions[0].errorCode).toBe(0);
    }

    // The stalled client: its socket is paused, so responses pile up in the kernel buffers and
    // then in the node, while it keeps pipelining fetches (each answered with one ~250 KB batch).
    const stalled = await RawClient.connect(node.url);
    stalled.ws.pause();
    const arrived: number[] = [];
    const responses = Array.from({ length: PIPELINED }, (_, i) => {
      const offset = (i % BATCHES) * RECORDS_PER_BATCH;
      return stalled.send(Apis.Fetch.key, fetchBody('big', offset, FETCH_BYTES), 1, 60_000).then((r) => {
        arrived.push(r.header.correlationId);
        return { i, offset, r };
      });
    });
    // Over 29 MB of answers were asked for; wait until the node has stopped taking requests: the
    // socket is paused with more than the limit unsent. That lasts: the kernel's buffers are full
    // (the client does not read), so the socket cannot drain, and nothing starts until it does.
    const stalledStats = () => node.connectionStats().reduce((a, b) => (b.maxBufferedBytes > a.maxBufferedBytes ? b : a));
    await waitFor(() => stalledStats().paused && stalledStats().bufferedBytes >= LIMIT, 'the node to stop reading the stalled client', 10_000);

    // Meanwhile other clients are served: produce, and fetch what was produced.
    const other = await RawClient.connect(node.url);
    const t0 = Date.now();
    const produced = await other.call(Apis.Produce.key, { acks: 1, timeoutMs: 5000, topics: [{ name: 'small', partitions: [{ partition: 0, records: encodeRecordBatch([{ value: new TextEncoder().encode('still here') }]) }] }] });
    expect(produced.topics[0].partitions[0].errorCode).toBe(0);
    const { header, body } = await other.send(Apis.Fetch.key, fetchBody('small', 0, 1 << 20), 1);
    expect(header.errorCode).toBe(0);
    const fetched = decode(FetchResponseV1, body);
    expect(fetched.topics[0]!.partitions[0]!.records.length).toBeGreaterThan(0);
    expect(Date.now() - t0).toBeLessThan(3000);

    const s = stalledStats();
    expect(arrived).toEqual([]); // nothing read yet
    // Buffered answers stay under the limit plus the one fetch that may be answered past it.
    expect(s.maxBufferedBytes).toBeGreaterThan(0);
    expect(s.maxBufferedBytes).toBeLessThanOrEqual(LIMIT + FETCH_BYTES + 1024);
    expect(s.queued + s.inFlight).toBeGreaterThan(0); // the node holds requests, not answers
    expect(s.paused).toBe(true);

    // Reading again: every response arrives, in the order asked, with the batch asked for.
    stalled.ws.resume();
    const all = await Promise.all(responses);
    expect(arrived).toEqual(Array.from({ length: PIPELINED }, (_, i) => i + 1));
    for (const { offset, r } of all) {
      expect(r.header.errorCode).toBe(0);
      const res = decode(FetchResponseV1, r.body);
      const batches = splitBatches(res.topics[0]!.partitions[0]!.records);
      expect(batches.length).toBe(1);
      expect(readBatchHeader(batches[0]!).baseOffset).toBe(offset);
    }
    const after = node.connectionStats();
    expect(after.every((c) => c.queued === 0 && !c.paused)).toBe(true);
    stalled.close();
    other.close();
    admin.close();
  }, 60_000);

  it('does not hold other requests behind fetches waiting for room; fetches keep their order', async () => {
    const node = await testNode(tempDir(), 0, { maxBufferedBytesPerConnection: LIMIT });
    const client = await RawClient.connect(node.url);
    await client.call(Apis.CreateTopics.key, { topics: [{ name: 'empty', numPartitions: 1, replicationFactor: -1, configs: [] }], timeoutMs: 1000, validateOnly: false });
    // Fetches waiting for data that never comes, each reserving 8 MiB (a consumer's fetch over
    // many partitions): the second waits for the first to finish.
    const longPoll = (maxWaitMs: number) =>
      encode(FetchRequestV1, {
        replicaId: -1,
        maxWaitMs,
        minBytes: 1,
        maxBytes: 8 << 20,
        isolation: 0,
        topics: [{ name: 'empty', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 8 << 20 }] }],
      });
    const t0 = Date.now();
    const first = client.send(Apis.Fetch.key, longPoll(2000), 1, 10_000).then(() => Date.now() - t0);
    const second = client.send(Apis.Fetch.key, longPoll(500), 1, 10_000).then(() => Date.now() - t0);
    await waitFor(() => node.connectionStats()[0]!.inFlight + node.connectionStats()[0]!.queued === 2, 'both fetches to reach the node');
    expect(node.connectionStats()[0]).toMatchObject({ inFlight: 1, queued: 1, paused: false });
    // A heartbeat or commit on the same connection meanwhile is answered at once.
    const metadata = await client.call(Apis.Metadata.key, { topics: null });
    expect(metadata.topics.map((t: { name: string }) => t.name)).toContain('empty');
    expect(Date.now() - t0).toBeLessThan(1500);
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBeGreaterThanOrEqual(1900);
    expect(b).toBeGreaterThanOrEqual(a + 400); // started once the first was answered
    client.close();
  });
});

describe('fetchReservation', () => {
  const req = (maxBytes: number, ...partitionMaxBytes: number[]) => ({
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes,
    isolation: 0,
    topics: [{ name: 't', partitions: partitionMaxBytes.map((m, partition) => ({ partition, fetchOffset: 0, partitionMaxBytes: m, ...CONSUMER_PARTITION_EPOCHS })) }],
  });
  it('is the most a fetch may answer: the smaller of maxBytes and the sum over its partitions, at least 1', () => {
    expect(fetchReservation(req(50 << 20, 1 << 20, 1 << 20, 1 << 20))).toBe(3 << 20);
    expect(fetchReservation(req(1000, 1 << 20, 1 << 20))).toBe(1000);
    expect(fetchReservation(req(-5, 100))).toBe(1);
    expect(fetchReservation(req(100))).toBe(1);
  });
});
