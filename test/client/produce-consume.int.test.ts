/** Producer and consumer against a real node on an ephemeral port with a temp data dir. */
import { afterEach, describe, expect, it } from 'vitest';
import { Apis } from '../../protocol/apis/index.js';
import { CONSUMER_PARTITION_EPOCHS } from '../../protocol/apis/fetch.js';
import { isEddyError } from '../../protocol/errors.js';
import { readBatchHeader, splitBatches } from '../../protocol/record-batch.js';
import { startNode, type RunningNode } from '../../app/start-node.js';
import { Admin, Connection, Consumer, partitionForKey, Producer, type ConsumedRecord, type ProducerOptions } from '../../gateway/client/index.js';
import { tempDir } from '../helpers/tmp.js';
import { pollN, rejection } from '../helpers/client.js';

const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
const utf8 = (s: string) => new TextEncoder().encode(s);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function node(): Promise<RunningNode> {
  const n = await startNode({ dataDir: tempDir(), port: 0 });
  cleanups.push(() => n.close());
  return n;
}

async function createTopic(url: string, name: string, partitions: number, configs?: Record<string, string>): Promise<void> {
  const admin = new Admin({ server: url });
  try {
    await admin.createTopics([{ name, partitions, ...(configs ? { configs } : {}) }]);
  } finally {
    await admin.close();
  }
}

function producer(opts: ProducerOptions): Producer {
  const p = new Producer(opts);
  cleanups.push(() => p.close());
  return p;
}

function consumer(url: string, opts: Partial<ConstructorParameters<typeof Consumer>[0]> = {}): Consumer {
  const c = new Consumer({ server: url, autoOffsetReset: 'earliest', maxWaitMs: 200, ...opts });
  cleanups.push(() => c.close());
  return c;
}

describe('producer → node → consumer', () => {
  it('keyed and unkeyed records across 3 partitions come back in order per partition, at the offsets send reported', async () => {
    const n = await node();
    await createTopic(n.url, 'mixed', 3);
    const p = producer({ server: n.url, lingerMs: 2, batchSizeBytes: 512 });
    const keys = ['sensor-1', 'sensor-2', 'sensor-3', 'sensor-4', 'sensor-5'];
    const sends = [];
    for (let i = 0; i < 300; i++) {
      const key = i % 3 === 0 ? null : keys[i % keys.length]!;
      sends.push(p.send({ topic: 'mixed', key, value: `v${i}`, timestamp: 1_700_000_000_000 + i }).then((m) => ({ ...m, i, key })));
    }
    const acked = await Promise.all(sends);

    // Same key → same partition, and the one Kafka's default partitioner would pick.
    for (const a of acked) if (a.key !== null) expect(a.partition).toBe(partitionForKey(utf8(a.key), 3));
    // Unkeyed records were spread (sticky switches partition as batches complete).
    expect(new Set(acked.filter((a) => a.key === null).map((a) => a.partition)).size).toBeGreaterThan(1);
    // Offsets are dense per partition and follow send order.
    for (const part of [0, 1, 2]) {
      const offs = acked.filter((a) => a.partition === part).map((a) => a.offset);
      expect(offs).toEqual(offs.map((_, i) => i));
    }

    const c = consumer(n.url);
    c.assign([0, 1, 2].map((partition) => ({ topic: 'mixed', partition })));
    const got = await pollN(c, 300);
    for (const part of [0, 1, 2]) {
      const expected = acked.filter((a) => a.partition === part);
      const mine = got.filter((r) => r.partition === part);
      expect(mine.map((r) => r.offset)).toEqual(expected.map((a) => a.offset));
      expect(mine.map((r) => text(r.value))).toEqual(expected.map((a) => `v${a.i}`));
      expect(mine.map((r) => text(r.key))).toEqual(expected.map((a) => a.key));
      expect(mine.map((r) => r.timestamp)).toEqual(expected.map((a) => 1_700_000_000_000 + a.i));
    }
  });

  it.each([
    [0, -1],
    [1, 0],
    ['all', 0],
  ] as const)('acks=%s: every record arrives; send reports offset from %i', async (acks, firstOffset) => {
    const n = await node();
    await createTopic(n.url, 'acks', 1);
    const p = producer({ server: n.url, acks, lingerMs: 1 });
    const metas = await Promise.all(Array.from({ length: 20 }, (_, i) => p.send({ topic: 'acks', value: `a${i}` })));
    expect(metas[0]).toEqual({ topic: 'acks', partition: 0, offset: firstOffset });
    if (acks === 0) expect(metas.every((m) => m.offset === -1)).toBe(true);
    else expect(metas.map((m) => m.offset)).toEqual(metas.map((_, i) => i));
    const c = consumer(n.url);
    c.assign([{ topic: 'acks', partition: 0 }]);
    expect((await pollN(c, 20)).map((r) => text(r.value))).toEqual(metas.map((_, i) => `a${i}`));
  });

  it('gzip: records round-trip and the node stores the compressed batch', async () => {
    const n = await node();
    await createTopic(n.url, 'zipped', 1);
    await createTopic(n.url, 'plain', 1);
    const value = 'temperature=21.5;humidity=40;'.repeat(20);
    for (const [topic, compression] of [['zipped', 'gzip'], ['plain', 'none']] as const) {
      const p = producer({ server: n.url, compression, lingerMs: 50 });
      await Promise.all(Array.from({ length: 50 }, (_, i) => p.send({ topic, key: `k${i}`, value })));
    }
    const c = consumer(n.url);
    c.assign([{ topic: 'zipped', partition: 0 }]);
    const got = await pollN(c, 50);
    expect(got.every((r) => text(r.value) === value)).toBe(true);
    expect(got.map((r) => text(r.key))).toEqual(Array.from({ length: 50 }, (_, i) => `k${i}`));

    const admin = new Admin({ server: n.url });
    cleanups.push(() => admin.close());
    const [zipped, plain] = await admin.describeTopics(['zipped', 'plain']);
    expect(zipped!.partitions[0]!.sizeBytes).toBeGreaterThan(0);
    expect(zipped!.partitions[0]!.sizeBytes * 5).toBeLessThan(plain!.partitions[0]!.sizeBytes);
  });

  it('headers, null values and explicit partitions survive the trip', async () => {
    const n = await node();
    await createTopic(n.url, 'h', 2);
    const p = producer({ server: n.url });
    await p.send({ topic: 'h', partition: 1, key: 'k', value: null, headers: { trace: 'abc', raw: new Uint8Array([1, 2, 3]), none: null } });
    await p.send({ topic: 'h', partition: 1, value: utf8('bytes'), headers: [{ key: 'dup', value: '1' }, { key: 'dup', value: '2' }] });
    const c = consumer(n.url);
    c.assign([{ topic: 'h', partition: 1 }]);
    const [a, b] = await pollN(c, 2);
    expect(a!.value).toBeNull();
    expect(a!.headers.map((h) => [h.key, h.value && Array.from(h.value)])).toEqual([
      ['trace', Array.from(utf8('abc'))],
      ['raw', [1, 2, 3]],
      ['none', null],
    ]);
    expect(text(b!.value)).toBe('bytes');
    expect(b!.headers.map((h) => `${h.key}=${text(h.value)}`)).toEqual(['dup=1', 'dup=2']);
  });

  it('batches a burst: records sent within linger share a few stored batches', async () => {
    const n = await node();
    await createTopic(n.url, 'burst', 1);
    const p = producer({ server: n.url, lingerMs: 30, batchSizeBytes: 1 << 20 });
    await Promise.all(Array.from({ length: 200 }, (_, i) => p.send({ topic: 'burst', value: `b${i}` })));
    const conn = new Connection({ url: n.url });
    cleanups.push(() => conn.close());
    const res = await conn.request(Apis.Fetch, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolation: 0,
      topics: [{ name: 'burst', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, ...CONSUMER_PARTITION_EPOCHS }] }],
    });
    const batches = splitBatches(res.topics[0]!.partitions[0]!.records);
    expect(batches.reduce((sum, b) => sum + readBatchHeader(b).recordCount, 0)).toBe(200);
    expect(batches.length).toBeLessThanOrEqual(3);
  });

  it('keeps per-partition order across many pipelined Produce requests', async () => {
    const n = await node();
    await createTopic(n.url, 'order', 2);
    // Tiny batches: every few records close a batch, so dozens of requests are in flight at once.
    const p = producer({ server: n.url, lingerMs: 0, batchSizeBytes: 100 });
    const metas = await Promise.all(Array.from({ length: 400 }, (_, i) => p.send({ topic: 'order', partition: i % 2, value: `${i}` })));
    const c = consumer(n.url);
    c.assign([{ topic: 'order', partition: 0 }, { topic: 'order', partition: 1 }]);
    const got = await pollN(c, 400);
    for (const part of [0, 1]) {
      const values = got.filter((r) => r.partition === part).map((r) => Number(text(r.value)));
      expect(values).toEqual(values.slice().sort((x, y) => x - y));
      expect(metas.filter((m) => m.partition === part).map((m) => m.offset)).toEqual(values.map((_, i) => i));
    }
  });

  it('uses a custom partitioner for every record without an explicit partition', async () => {
    const n = await node();
    await createTopic(n.url, 'custom', 4);
    const seen: [string | null, number, string][] = [];
    const p = producer({
      server: n.url,
      partitioner: (key, count, topic) => {
        seen.push([text(key), count, topic]);
        return count - 1;
      },
    });
    const metas = await Promise.all([p.send({ topic: 'custom', key: 'a', value: '1' }), p.send({ topic: 'custom', value: '2' })]);
    expect(metas.map((m) => m.partition)).toEqual([3, 3]);
    expect(seen).toEqual([
      ['a', 4, 'custom'],
      [null, 4, 'custom'],
    ]);
  });

  it('refuses unknown topics and partitions with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const n = await node();
    await createTopic(n.url, 'known', 2);
    const p = producer({ server: n.url });
    const started = Date.now();
    const err = await rejection(p.send({ topic: 'no-such-topic', value: 'x' }));
    expect(isEddyError(err, 'UNKNOWN_TOPIC_OR_PARTITION')).toBe(true);
    expect((err as { retriable: boolean }).retriable).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(isEddyError(await rejection(p.send({ topic: 'known', partition: 2, value: 'x' })), 'UNKNOWN_TOPIC_OR_PARTITION')).toBe(true);
    // The producer still works for good records afterwards.
    expect((await p.send({ topic: 'known', partition: 1, value: 'ok' })).offset).toBe(0);
  });

  it('forgets a cached partition count when the node says the topic is gone', async () => {
    const n = await node();
    await createTopic(n.url, 'reborn', 2);
    // UNKNOWN_TOPIC_OR_PARTITION is retriable (the topic may be on its way, as in Kafka): it is
    // retried until the delivery timeout, kept short here.
    const p = producer({ server: n.url, deliveryTimeoutMs: 800 });
    await p.send({ topic: 'reborn', partition: 1, value: 'first life' });
    const admin = new Admin({ server: n.url });
    cleanups.push(() => admin.close());
    await admin.deleteTopics(['reborn']);
    // The cached count (2) lets this through to the node, which refuses it until the timeout.
    expect(isEddyError(await rejection(p.send({ topic: 'reborn', partition: 0, value: 'x' })), 'UNKNOWN_TOPIC_OR_PARTITION')).toBe(true);
    await admin.createTopics([{ name: 'reborn', partitions: 4 }]);
    // Partition 3 only exists if the producer looked the topic up again.
    expect(await p.send({ topic: 'reborn', partition: 3, value: 'second life' })).toEqual({ topic: 'reborn', partition: 3, offset: 0 });
  });

  it('surfaces a per-partition error from the node: MESSAGE_TOO_LARGE', async () => {
    const n = await node();
    await createTopic(n.url, 'small', 1, { 'max.message.bytes': '1024' });
    const p = producer({ server: n.url });
    const err = await rejection(p.send({ topic: 'small', value: new Uint8Array(4096) }));
    expect(isEddyError(err, 'MESSAGE_TOO_LARGE')).toBe(true);
    expect((err as { retriable: boolean }).retriable).toBe(false);
  });

  it('close() flushes what was sent before it', async () => {
    const n = await node();
    await createTopic(n.url, 'flush', 1);
    const p = new Producer({ server: n.url, lingerMs: 60_000 });
    const sends = Array.from({ length: 10 }, (_, i) => p.send({ topic: 'flush', value: `f${i}` }));
    await p.close();
    expect((await Promise.all(sends)).map((m) => m.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await expect(p.send({ topic: 'flush', value: 'late' })).rejects.toThrow(/closed/);
  });
});
