import { describe, expect, it } from 'vitest';
import { startNode, type RunningNode } from '../../app/start-node.js';
import { Apis } from '../../protocol/apis/index.js';
import { CONSUMER_PARTITION_EPOCHS } from '../../protocol/apis/fetch.js';
import { ERRORS } from '../../protocol/errors.js';
import { writeRequest } from '../../protocol/frame.js';
import { Field, encodeRecordBatch } from '../../protocol/record-batch.js';
import { encode } from '../../protocol/wire/schema.js';
import { RawClient } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/tmp.js';

const enc = (s: string) => new TextEncoder().encode(s);

async function nodeWithTopic(maxFrameBytes = 64 * 1024): Promise<{ node: RunningNode; client: RawClient }> {
  const node = await startNode({ dataDir: tempDir(), maxFrameBytes });
  const client = await RawClient.connect(node.url);
  const created = await client.call(Apis.CreateTopics.key, {
    topics: [{ name: 'orders', numPartitions: 2, replicationFactor: -1, configs: [] }],
    timeoutMs: 1000,
    validateOnly: false,
  });
  expect(created.topics[0].errorCode).toBe(0);
  return { node, client };
}

function produce(client: RawClient, topic: string, partition: number, records: Uint8Array, acks = -1) {
  return client.call(Apis.Produce.key, { acks, timeoutMs: 1000, topics: [{ name: topic, partitions: [{ partition, records }] }] });
}

/** The node answers a valid request (on a fresh connection) and the log still ends at `leo`. */
async function expectHealthy(node: RunningNode, leo: number) {
  const c = await RawClient.connect(node.url);
  const r = await c.call(Apis.ListOffsets.key, { topics: [{ name: 'orders', partitions: [{ partition: 0, timestamp: -1 }] }] });
  expect(r.topics[0].partitions[0]).toMatchObject({ errorCode: 0, offset: leo });
  c.close();
}

describe('server: malformed and hostile frames', () => {
  it('closes the connection (1002) on a frame too short for its header, and keeps serving others', async () => {
    const { node, client } = await nodeWithTopic();
    client.sendRaw(Uint8Array.of(0, 3, 0));
    expect((await client.closed).code).toBe(1002);
    const other = await RawClient.connect(node.url);
    other.sendRaw(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 0x00)); // clientId claims 32512 bytes
    expect((await other.closed).code).toBe(1002);
    await expectHealthy(node, 0);
    await node.close();
  });

  it('answers an unknown API key or version with UNSUPPORTED_VERSION and keeps the connection', async () => {
    const { node, client } = await nodeWithTopic();
    const unknown = await client.send(99, new Uint8Array(0));
    expect(unknown.header.errorCode).toBe(ERRORS.UNSUPPORTED_VERSION.code);
    expect(unknown.header.errorMessage).toMatch(/unknown API key 99/);
    const version = await client.send(Apis.Produce.key, new Uint8Array(0), 7);
    expect(version.header.errorMessage).toMatch(/Produce v7 is not supported; use v0 to v0/);
    const fetchV3 = await client.send(Apis.Fetch.key, new Uint8Array(0), 3);
    expect(fetchV3.header.errorMessage).toMatch(/Fetch v3 is not supported; use v0 to v2/);
    // Peer APIs are never the client port's, whatever a client sends.
    for (const api of [Apis.Vote, Apis.BrokerHeartbeat, Apis.PeerHello]) {
      const r = await client.send(api.key, new Uint8Array(0));
      expect(r.header.errorCode).toBe(ERRORS.CLUSTER_AUTHORIZATION_FAILED.code);
    }
    const ok = await client.call(Apis.ApiVersions.key, {});
    expect(ok.apiKeys.map((a: { apiKey: number }) => a.apiKey)).toEqual([0, 1, 2, 3, 8, 9, 10, 16, 18, 19, 20, 22, 32, 35, 37, 42, 44, 55, 68, 69]);
    expect(ok.apiKeys.find((a: { apiKey: number }) => a.apiKey === Apis.Fetch.key)).toEqual({ apiKey: 1, minVersion: 0, maxVersion: 2 });
    await node.close();
  });

  it('answers a body that does not decode with INVALID_REQUEST', async () => {
    const { node, client } = await nodeWithTopic();
    const hugeCount = Uint8Array.of(0x7f, 0xff, 0xff, 0xff); // Metadata topics: 2^31-1 names in 0 bytes
    const r = await client.send(Apis.Metadata.key, hugeCount);
    expect(r.header.errorCode).toBe(ERRORS.INVALID_REQUEST.code);
    expect(r.header.errorMessage).toMatch(/Metadata body does not decode: array count 2147483647 exceeds/);
    const trailing = await client.send(Apis.ApiVersions.key, Uint8Array.of(1, 2, 3));
    expect(trailing.header.errorMessage).toMatch(/3 unexpected bytes/);
    await expectHealthy(node, 0);
    await node.close();
  });

  it('closes the connection (1009) on a frame over the limit, before buffering it, and writes nothing', async () => {
    const { node, client } = await nodeWithTopic(64 * 1024);
    const big = encodeRecordBatch([{ value: new Uint8Array(100 * 1024) }]);
    client.sendRaw(
      writeRequest(
        { apiKey: Apis.Produce.key, apiVersion: 0, correlationId: 1, clientId: null },
        encode(Apis.Produce.versions[0]!.request, { acks: -1, timeoutMs: 1000, topics: [{ name: 'orders', partitions: [{ partition: 0, records: big }] }] }),
      ),
    );
    expect((await client.closed).code).toBe(1009);
    await expectHealthy(node, 0);
    await node.close();
  });

  it('closes the connection (1003) on a text frame', async () => {
    const { node, client } = await nodeWithTopic();
    client.ws.send('{"hello":"json"}');
    expect((await client.closed).code).toBe(1003);
    await expectHealthy(node, 0);
    await node.close();
  });
});

describe('server: bad produce and fetch requests', () => {
  it('rejects a batch with a bad CRC (CORRUPT_MESSAGE), trailing garbage, or bad acks, leaving the log unchanged', async () => {
    const { node, client } = await nodeWithTopic();
    expect((await produce(client, 'orders', 0, encodeRecordBatch([{ value: enc('good') }]))).topics[0].partitions[0].errorCode).toBe(0);
    const bad = encodeRecordBatch([{ value: enc('bad') }]);
    bad[bad.length - 1]! ^= 0xff;
    const r1 = (await produce(client, 'orders', 0, bad)).topics[0].partitions[0];
    expect(r1).toMatchObject({ errorCode: ERRORS.CORRUPT_MESSAGE.code, baseOffset: -1 });
    expect(r1.errorMessage).toMatch(/CRC mismatch/);
    const good = encodeRecordBatch([{ value: enc('x') }]);
    const garbage = new Uint8Array(good.length + 5);
    garbage.set(good);
    const r2 = (await produce(client, 'orders', 0, garbage)).topics[0].partitions[0];
    expect(r2.errorCode).toBe(ERRORS.CORRUPT_MESSAGE.code);
    await expect(produce(client, 'orders', 0, good, 5)).rejects.toMatchObject({ code: ERRORS.INVALID_REQUIRED_ACKS.code });
    const empty = (await produce(client, 'orders', 0, new Uint8Array(0))).topics[0].partitions[0];
    expect(empty.errorCode).toBe(ERRORS.INVALID_REQUEST.code);
    await expectHealthy(node, 1);
    await node.close();
  });

  it('reports UNKNOWN_TOPIC_OR_PARTITION per partition, next to partitions that succeed', async () => {
    const { node, client } = await nodeWithTopic();
    const batch = () => encodeRecordBatch([{ value: enc('v') }]);
    const r = await client.call(Apis.Produce.key, {
      acks: 1,
      timeoutMs: 1000,
      topics: [
        { name: 'orders', partitions: [{ partition: 0, records: batch() }, { partition: 9, records: batch() }] },
        { name: 'no-such-topic', partitions: [{ partition: 0, records: batch() }] },
      ],
    });
    expect(r.topics[0].partitions.map((p: { errorCode: number }) => p.errorCode)).toEqual([0, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code]);
    expect(r.topics[1].partitions[0].errorMessage).toMatch(/topic "no-such-topic" does not exist/);
    await expectHealthy(node, 1);
    await node.close();
  });

  it('answers a fetch beyond the log end, or below its start, with OFFSET_OUT_OF_RANGE', async () => {
    const { node, client } = await nodeWithTopic();
    await produce(client, 'orders', 0, encodeRecordBatch([{ value: enc('a') }, { value: enc('b') }]));
    const fetch = (fetchOffset: number) =>
      client.call(Apis.Fetch.key, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolation: 0,
        topics: [{ name: 'orders', partitions: [{ partition: 0, fetchOffset, partitionMaxBytes: 1 << 20, ...CONSUMER_PARTITION_EPOCHS }] }],
      });
    for (const offset of [3, 1000, -1]) {
      const p = (await fetch(offset)).topics[0].partitions[0];
      expect(p).toMatchObject({ errorCode: ERRORS.OFFSET_OUT_OF_RANGE.code, highWatermark: -1 });
    }
    const atEnd = (await fetch(2)).topics[0].partitions[0]; // the log end itself is a valid, empty position
    expect(atEnd).toMatchObject({ errorCode: 0, highWatermark: 2 });
    expect(atEnd.records.length).toBe(0);
    await node.close();
  });

  it('a batch header stamped by a hostile producer is overwritten: the broker assigns offsets and epoch', async () => {
    const { node, client } = await nodeWithTopic();
    const b = encodeRecordBatch([{ value: enc('z') }]);
    new DataView(b.buffer).setBigInt64(Field.baseOffset, 123456789n);
    const r = (await produce(client, 'orders', 1, b)).topics[0].partitions[0];
    expect(r).toMatchObject({ errorCode: 0, baseOffset: 0 });
    await node.close();
  });
});
