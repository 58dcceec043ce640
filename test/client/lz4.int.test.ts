/** The lz4 codec end to end: the producer compresses, the node validates and stores the bytes, the consumer decodes. */
import { afterEach, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer } from '../../gateway/client/index.js';
import { Apis } from '../../protocol/apis/index.js';
import { CONSUMER_PARTITION_EPOCHS } from '../../protocol/apis/fetch.js';
import { Compression } from '../../protocol/compression.js';
import { readBatchHeader, splitBatches } from '../../protocol/record-batch.js';
import { pollN } from '../helpers/client.js';
import { testNode } from '../helpers/node.js';
import { RawClient } from '../helpers/raw-client.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const reading = (i: number) => JSON.stringify({ device: `sensor-${i % 17}`, ts: 1_700_000_000_000 + i * 1000, temp: 21.43, hum: 48.2, battery: 3.71 });

describe('lz4 compression (client SDK, real node)', () => {
  it('records round-trip; the node stores lz4 batches as sent, smaller than uncompressed', async () => {
    const node = await testNode();
    const admin = new Admin({ server: node.url });
    cleanups.push(() => admin.close());
    await admin.createTopics([{ name: 'lz', partitions: 1 }, { name: 'plain', partitions: 1 }]);
    for (const [topic, compression] of [['lz', 'lz4'], ['plain', 'none']] as const) {
      const p = new Producer({ server: node.url, compression, lingerMs: 50 });
      cleanups.push(() => p.close());
      await p.sendBatch(Array.from({ length: 300 }, (_, i) => ({ topic, key: `k${i}`, value: reading(i) })));
    }

    const c = new Consumer({ server: node.url, autoOffsetReset: 'earliest' });
    cleanups.push(() => c.close());
    c.assign([{ topic: 'lz', partition: 0 }]);
    const got = await pollN(c, 300);
    expect(got.map((r) => new TextDecoder().decode(r.value!))).toEqual(Array.from({ length: 300 }, (_, i) => reading(i)));

    const raw = await RawClient.connect(node.url);
    cleanups.push(() => raw.close());
    const res = await raw.call(Apis.Fetch.key, {
      replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolation: 0,
      topics: [{ name: 'lz', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, ...CONSUMER_PARTITION_EPOCHS }] }],
    });
    const batches = splitBatches(res.topics[0].partitions[0].records as Uint8Array);
    expect(batches.length).toBeGreaterThan(0);
    for (const b of batches) expect(readBatchHeader(b).compression).toBe(Compression.lz4);

    const [lz, plain] = await admin.describeTopics(['lz', 'plain']);
    expect(lz!.partitions[0]!.sizeBytes * 2).toBeLessThan(plain!.partitions[0]!.sizeBytes);
  });
});
