/** Idempotent producers and retries against real nodes: lost responses, fencing, kill -9, expiry. */
import { describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer, isEddyError, type ConsumedRecord, type SocketFactory } from '../../gateway/client/index.js';
import { wsSocketFactory } from '../../gateway/client/ws-socket.js';
import { Apis } from '../../protocol/apis/index.js';
import { encodeRecordBatch } from '../../protocol/record-batch.js';
import { within } from '../helpers/client.js';
import { eddyStart } from '../helpers/eddy-process.js';
import { flakyProxy } from '../helpers/flaky-proxy.js';
import { testNode } from '../helpers/node.js';
import { RawClient } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/tmp.js';
import { mulberry32 } from '../sim/prng.js';

const enc = new TextEncoder();
const text = (b: Uint8Array | null) => (b === null ? '' : new TextDecoder().decode(b));


async function readAll(url: string, topic: string, partitions: number, expected: number): Promise<ConsumedRecord[]> {
  const c = new Consumer({ server: url, autoOffsetReset: 'earliest', maxWaitMs: 100 });
  c.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  const out: ConsumedRecord[] = [];
  const end = Date.now() + 10_000;
  while (out.length < expected && Date.now() < end) out.push(...(await c.poll({ timeoutMs: 200 })));
  out.push(...(await c.poll({ timeoutMs: 200 }))); // anything beyond the expected count shows up too
  await c.close();
  return out;
}

function idempotentBatch(producerId: number, epoch: number, baseSequence: number, values: string[]): Uint8Array {
  return encodeRecordBatch(
    values.map((v) => ({ value: enc.encode(v) })),
    { producerId, producerEpoch: epoch, baseSequence },
  );
}

async function produceRaw(c: RawClient, topic: string, batch: Uint8Array): Promise<{ errorCode: number; baseOffset: number; errorMessage: string | null }> {
  const res = await c.call(Apis.Produce.key, { acks: -1, timeoutMs: 1000, topics: [{ name: topic, partitions: [{ partition: 0, records: batch }] }] });
  return res.topics[0].partitions[0];
}

describe('idempotent producer', () => {
  it('retries through a connection that loses responses; the log holds every record exactly once, in order per key', async () => {
    const node = await testNode();
    const admin = new Admin({ server: node.url });
    await admin.createTopics([{ name: 'events', partitions: 3 }]);
    await admin.close();
    const proxy = await flakyProxy({ host: '127.0.0.1', port: node.port }, { dropResponse: 0.25, random: mulberry32(42) });
    const producer = new Producer({ server: proxy.url, lingerMs: 2, batchSizeBytes: 512, retryBackoffMs: 20, requestTimeoutMs: 2000 });
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const sent = Array.from({ length: 1200 }, (_, i) => ({ key: keys[i % keys.length]!, value: `v${i}` }));
    // In waves, so several batches per partition are in flight when a connection is cut.
    for (let i = 0; i < sent.length; i += 100) {
      await Promise.all(sent.slice(i, i + 100).map((r) => producer.send({ topic: 'events', key: r.key, value: r.value })));
    }
    await producer.close();
    expect(proxy.cuts(), 'the proxy cut some responses').toBeGreaterThan(2);

    const stored = await readAll(node.url, 'events', 3, sent.length);
    const values = stored.map((r) => text(r.value));
    expect(values.length).toBe(sent.length); // nothing twice
    expect(new Set(values)).toEqual(new Set(sent.map((r) => r.value))); // nothing lost
    for (const key of keys) {
      const order = stored.filter((r) => text(r.key) === key).map((r) => Number(text(r.value).slice(1)));
      expect(order, `order of key ${key}`).toEqual([...order].sort((x, y) => x - y));
    }
  }, 60_000);

  it('fails at once, with the code, on an error retrying cannot fix', async () => {
    const node = await testNode();
    const admin = new Admin({ server: node.url });
    await admin.createTopics([{ name: 'small', partitions: 1, configs: { 'max.message.bytes': '1024' } }]);
    await admin.close();
    const producer = new Producer({ server: node.url });
    const started = Date.now();
    const err = await producer.send({ topic: 'small', value: new Uint8Array(4096) }).catch((e: unknown) => e);
    expect(isEddyError(err, 'MESSAGE_TOO_LARGE')).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    // The partition's sequence continues cleanly after the refused batch.
    expect(await producer.send({ topic: 'small', value: 'fits' })).toMatchObject({ offset: 0 });
    expect(await producer.send({ topic: 'small', value: 'fits too' })).toMatchObject({ offset: 1 });
    await producer.close();
  });

  it('a batch refused for good in the middle of a pipeline: the batches behind it are renumbered and stored once, in order', async () => {
    const node = await testNode();
    const admin = new Admin({ server: node.url });
    await admin.createTopics([{ name: 'small', partitions: 1, configs: { 'max.message.bytes': '1024' } }]);
    await admin.close();
    // One record per batch, five batches in flight: the large one fails while later ones are out.
    const producer = new Producer({ server: node.url, lingerMs: 0, batchSizeBytes: 100, retryBackoffMs: 10 });
    const small = (i: number) => producer.send({ topic: 'small', value: `s${i}` });
    const before = [0, 1].map(small);
    const big = producer.send({ topic: 'small', value: new Uint8Array(4096) }).catch((e: unknown) => e);
    const after = Array.from({ length: 8 }, (_, i) => small(i + 2));
    const results = await Promise.all([...before, ...after]);
    expect(isEddyError(await big, 'MESSAGE_TOO_LARGE')).toBe(true);
    expect(results.map((r) => r.offset)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    await producer.close();
    const stored = await readAll(node.url, 'small', 1, 10);
    expect(stored.map((r) => text(r.value))).toEqual(Array.from({ length: 10 }, (_, i) => `s${i}`));
  });

  it('never has more than maxInFlightPerPartition batches of a partition in flight, even with many ready at once', async () => {
    const node = await testNode();
    const admin = new Admin({ server: node.url });
    await admin.createTopics([{ name: 'capped', partitions: 1 }]);
    await admin.close();
    // Watches Produce requests on the wire; responses arrive 20 ms late, so that batches queue up.
    const PRODUCE = Apis.Produce.key;
    const outstanding = new Set<number>();
    let most = 0;
    const watching: SocketFactory = (url, handlers) => {
      const socket = wsSocketFactory(url, {
        ...handlers,
        message: (frame) => {
          // A deliberate delay, the thing the test needs: late answers make batches queue up.
          setTimeout(() => {
            outstanding.delete(new DataView(frame.buffer, frame.byteOffset).getInt32(0));
            handlers.message(frame);
          }, 20);
        },
      });
      return {
        send(frame) {
          const view = new DataView(frame.buffer, frame.byteOffset);
          if (view.getInt16(0) === PRODUCE) outstanding.add(view.getInt32(4));
          most = Math.max(most, outstanding.size);
          socket.send(frame);
        },
        close: () => socket.close(),
      };
    };
    const producer = new Producer({ server: node.url, socketFactory: watching, maxInFlightPerPartition: 2, batchSizeBytes: 64, lingerMs: 0 });
    const values = Array.from({ length: 60 }, (_, i) => `${i}`.padEnd(100, '.')); // each one a full batch
    const metas = await Promise.all(values.map((value) => producer.send({ topic: 'capped', value })));
    await producer.close();
    expect(metas.map((m) => m.offset)).toEqual(values.map((_, i) => i));
    expect(most).toBe(2); // one partition: a Produce request carries one of its batches
    expect((await readAll(node.url, 'capped', 1, 60)).map((r) => text(r.value))).toEqual(values);
  });

  it('after batches time out against a node that is gone, flush and close return instead of waiting for it; the next send after its return is stored once', async () => {
    const dir = tempDir();
    const node = await testNode(dir);
    const port = Number(new URL(node.url).port);
    const admin = new Admin({ server: node.url });
    await admin.createTopics([{ name: 'gone', partitions: 1 }]);
    await admin.close();
    // requestTimeoutMs (30 s by default) is longer than deliveryTimeoutMs: the delivery timeout wins.
    // Reconnect attempts at most 100 ms apart, so that once the node is back the send of 'd' finds it
    // well within its 1.5 s (with the default 1 s cap, a busy machine could push it past).
    const producer = new Producer({
      server: node.url,
      deliveryTimeoutMs: 1500,
      retryBackoffMs: 20,
      lingerMs: 0,
      reconnectBackoffMs: 20,
      reconnectBackoffMaxMs: 100,
    });
    expect(await producer.send({ topic: 'gone', value: 'a' })).toMatchObject({ offset: 0 });
    await node.close();

    const started = Date.now();
    const outcomes = await Promise.allSettled([producer.send({ topic: 'gone', value: 'b' }), producer.send({ topic: 'gone', value: 'c' })]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(Date.now() - started).toBeLessThan(5000);
    // Nothing left to deliver: flush returns although the node is still down.
    await within(producer.flush(), 'flush to return while the node is down', 5000);

    const back = await testNode(dir, port);
    expect(await producer.send({ topic: 'gone', value: 'd' })).toMatchObject({ offset: 1 });
    await within(producer.close(), 'close to return', 5000);
    expect((await readAll(back.url, 'gone', 1, 2)).map((r) => Buffer.from(r.value!).toString())).toEqual(['a', 'd']);
  });

  it('the node answers a resent batch with its original offset, refuses gaps, and fences an older epoch', async () => {
    const node = await testNode();
    const c = await RawClient.connect(node.url);
    await c.call(Apis.CreateTopics.key, { topics: [{ name: 't', numPartitions: 1, replicationFactor: -1, configs: [] }], timeoutMs: 1000, validateOnly: false });
    const a = await c.call(Apis.InitProducerId.key, { transactionalId: null, transactionTimeoutMs: -1, producerId: -1, producerEpoch: -1 });
    const b = await c.call(Apis.InitProducerId.key, { transactionalId: null, transactionTimeoutMs: -1, producerId: -1, producerEpoch: -1 });
    expect(b.producerId).not.toBe(a.producerId);
    expect(a.producerEpoch).toBe(0);

    const first = idempotentBatch(a.producerId, 0, 0, ['x0', 'x1']);
    expect(await produceRaw(c, 't', first.slice())).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await produceRaw(c, 't', first.slice())).toMatchObject({ errorCode: 0, baseOffset: 0 }); // resent: same offset
    expect(await produceRaw(c, 't', idempotentBatch(a.producerId, 0, 5, ['gap']))).toMatchObject({ errorCode: 45 }); // OUT_OF_ORDER
    expect(await produceRaw(c, 't', idempotentBatch(a.producerId, 0, 2, ['x2']))).toMatchObject({ errorCode: 0, baseOffset: 2 });

    const bumped = await c.call(Apis.InitProducerId.key, { transactionalId: null, transactionTimeoutMs: -1, producerId: a.producerId, producerEpoch: 0 });
    expect(bumped).toEqual({ producerId: a.producerId, producerEpoch: 1 });
    expect(await produceRaw(c, 't', idempotentBatch(a.producerId, 1, 0, ['y0']))).toMatchObject({ errorCode: 0, baseOffset: 3 });
    const fenced = await produceRaw(c, 't', idempotentBatch(a.producerId, 0, 3, ['zombie']));
    expect(fenced.errorCode).toBe(90); // PRODUCER_FENCED
    expect(fenced.errorMessage).toMatch(/epoch 0 .* older than its current epoch 1/);
    const log = node.topics.partition('t', 0);
    expect(log.logEndOffset).toBe(4); // x0 x1 x2 y0: nothing twice, nothing refused stored
  });

  it('producer state survives kill -9: after a restart a resent batch is still answered with its original offset', async () => {
    const dir = tempDir();
    let node = await eddyStart(['--data-dir', dir, '--port', '0']);
    let c = await RawClient.connect(node.url);
    await c.call(Apis.CreateTopics.key, { topics: [{ name: 't', numPartitions: 1, replicationFactor: -1, configs: [] }], timeoutMs: 1000, validateOnly: false });
    const { producerId } = await c.call(Apis.InitProducerId.key, { transactionalId: null, transactionTimeoutMs: -1, producerId: -1, producerEpoch: -1 });
    const batches = [0, 3, 6].map((seq, i) => idempotentBatch(producerId, 0, seq, [`a${i}`, `b${i}`, `c${i}`]));
    for (const [i, b] of batches.entries()) expect(await produceRaw(c, 't', b.slice())).toMatchObject({ errorCode: 0, baseOffset: 3 * i });
    c.close();
    await node.stop('SIGKILL');

    node = await eddyStart(['--data-dir', dir, '--port', '0']);
    c = await RawClient.connect(node.url);
    // The last batch again (its acknowledgement was "lost"): same offset, not stored twice.
    expect(await produceRaw(c, 't', batches[2]!.slice())).toMatchObject({ errorCode: 0, baseOffset: 6 });
    expect(await produceRaw(c, 't', idempotentBatch(producerId, 0, 9, ['next']))).toMatchObject({ errorCode: 0, baseOffset: 9 });
    const again = await c.call(Apis.InitProducerId.key, { transactionalId: null, transactionTimeoutMs: -1, producerId: -1, producerEpoch: -1 });
    expect(again.producerId).toBeGreaterThan(producerId); // ids are never handed out twice
    c.close();
    await node.stop('SIGTERM');
  }, 60_000);

  it('forgets a producer idle longer than the expiration time', async () => {
    // The default is a day; here 50 ms.
    const node = await testNode(tempDir(), 0, { producerIdExpirationMs: 50 });
    await node.topics.create({ name: 't', partitions: 1, replicationFactor: -1 });
    const log = node.topics.partition('t', 0);
    await log.append([idempotentBatch(5, 0, 0, ['one'])]);
    expect(log.producerBatches(5)).toHaveLength(1);
    await expect(log.append([idempotentBatch(5, 0, 7, ['gap'])])).rejects.toMatchObject({ errorName: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    // A sleep: the partition judges idleness by the wall clock (Date.now(), no injected clock).
    await new Promise((r) => setTimeout(r, 120));
    // Once forgotten, the producer may start at any sequence, as a new one.
    await expect(log.append([idempotentBatch(5, 0, 7, ['later'])])).resolves.toMatchObject({ baseOffset: 1 });
  });
});
