/** Consumer positions, seeks, long-poll and reconnects against a real node. */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../app/start-node.js';
import { Admin, Consumer, Producer, type ConsumedRecord, type ConsumerOptions } from '../../gateway/client/index.js';
import { requestsInFlight, testNode } from '../helpers/node.js';
import { tempDir } from '../helpers/tmp.js';
import { pollN, waitFor } from '../helpers/client.js';

const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
const T0 = 1_700_000_000_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const node = testNode;

/** A node with topic `t` (1 partition) holding `count` records "r<i>" at timestamps T0 + 1000·i. */
async function nodeWithRecords(count: number): Promise<RunningNode> {
  const n = await node();
  const admin = new Admin({ server: n.url });
  await admin.createTopics([{ name: 't', partitions: 1 }]);
  await admin.close();
  const p = new Producer({ server: n.url });
  await Promise.all(Array.from({ length: count }, (_, i) => p.send({ topic: 't', value: `r${i}`, timestamp: T0 + 1000 * i })));
  await p.close();
  return n;
}

function consumer(url: string, opts: Partial<ConsumerOptions> = {}): Consumer {
  const c = new Consumer({ server: url, maxWaitMs: 200, ...opts });
  cleanups.push(() => c.close());
  return c;
}

const TP = { topic: 't', partition: 0 };

describe('consumer positions', () => {
  it('starts at the end by default (latest) and at the start with autoOffsetReset earliest', async () => {
    const n = await nodeWithRecords(5);
    const latest = consumer(n.url);
    latest.assign([TP]);
    expect(await latest.position(TP)).toBe(5);
    expect(await latest.poll({ timeoutMs: 100 })).toEqual([]);
    const earliest = consumer(n.url, { autoOffsetReset: 'earliest' });
    earliest.assign([TP]);
    expect(await earliest.position(TP)).toBe(0);
    expect((await pollN(earliest, 5)).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
    expect(await earliest.position(TP)).toBe(5);
    expect(earliest.highWatermark(TP)).toBe(5);
  });

  it('seeks to an offset, earliest, latest and a timestamp', async () => {
    const n = await nodeWithRecords(10);
    const c = consumer(n.url);
    c.assign([TP]);
    await c.seek(TP, 7);
    expect((await pollN(c, 3)).map((r) => text(r.value))).toEqual(['r7', 'r8', 'r9']);
    await c.seek(TP, 'earliest');
    expect(await c.position(TP)).toBe(0);
    expect((await pollN(c, 10))[0]!.offset).toBe(0);
    await c.seek(TP, { timestamp: T0 + 4500 }); // first record at or after: r5
    expect(await c.position(TP)).toBe(5);
    expect((await pollN(c, 5)).map((r) => r.offset)).toEqual([5, 6, 7, 8, 9]);
    await c.seek(TP, { timestamp: T0 + 1_000_000 }); // after the last record: the end
    expect(await c.position(TP)).toBe(10);
    await c.seek(TP, 3);
    await c.seek(TP, 'latest');
    expect(await c.position(TP)).toBe(10);
    expect(await c.poll({ timeoutMs: 100 })).toEqual([]);
  });

  it('starts mid-batch and skips the records before the position', async () => {
    const n = await nodeWithRecords(10); // sent together: one or two stored batches
    const c = consumer(n.url);
    c.assign([TP]);
    await c.seek(TP, 4);
    const got = await pollN(c, 6);
    expect(got.map((r) => r.offset)).toEqual([4, 5, 6, 7, 8, 9]);
  });

  it('resets an out-of-range position per autoOffsetReset', async () => {
    const n = await nodeWithRecords(4);
    const early = consumer(n.url, { autoOffsetReset: 'earliest' });
    early.assign([TP]);
    await early.seek(TP, 1000);
    expect((await pollN(early, 4)).map((r) => r.offset)).toEqual([0, 1, 2, 3]);
    const late = consumer(n.url, { autoOffsetReset: 'latest' });
    late.assign([TP]);
    await late.seek(TP, 1000);
    expect(await late.poll({ timeoutMs: 300 })).toEqual([]);
    expect(await late.position(TP)).toBe(4);
  });

  it('a seek wins over a fetch that was still in flight for the old position', async () => {
    const n = await nodeWithRecords(5);
    const c = consumer(n.url, { maxWaitMs: 5000 });
    c.assign([TP]);
    expect(await c.position(TP)).toBe(5);
    expect(await c.poll({ timeoutMs: 100 })).toEqual([]); // leaves a long poll open at offset 5
    await c.seek(TP, 0);
    const p = new Producer({ server: n.url, lingerMs: 0 });
    cleanups.push(() => p.close());
    await p.send({ topic: 't', value: 'r5' }); // answers the open long poll with offset 5
    expect((await pollN(c, 6)).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('the async iterator yields records and rewinds unyielded ones when left early', async () => {
    const n = await nodeWithRecords(6);
    const c = consumer(n.url, { autoOffsetReset: 'earliest' });
    c.assign([TP]);
    const first: number[] = [];
    for await (const r of c) {
      first.push(r.offset);
      if (first.length === 2) break;
    }
    expect(first).toEqual([0, 1]);
    expect(await c.position(TP)).toBe(2);
    expect((await pollN(c, 4)).map((r) => r.offset)).toEqual([2, 3, 4, 5]);
  });
});

describe('consumer waiting', () => {
  it('a long poll returns soon after a record is produced', async () => {
    const n = await nodeWithRecords(0);
    const c = consumer(n.url, { maxWaitMs: 5000 });
    c.assign([TP]);
    expect(await c.position(TP)).toBe(0);
    const polled = c.poll({ timeoutMs: 8000 });
    // A long poll: its fetch is held by the node (the topic is empty). A consumer that fetched
    // with no wait, again and again, would never be seen holding one, and this would time out.
    await waitFor(() => requestsInFlight(n) === 1, 'the node to hold the poll’s fetch');
    const p = new Producer({ server: n.url, lingerMs: 0 });
    cleanups.push(() => p.close());
    const produced = Date.now();
    await p.send({ topic: 't', value: 'wake' });
    const got = await polled;
    expect(got.map((r) => text(r.value))).toEqual(['wake']);
    expect(Date.now() - produced).toBeLessThan(2000); // woken by the record, not at maxWaitMs (5 s)
  });

  it('poll returns [] within its timeout when nothing arrives', async () => {
    const n = await nodeWithRecords(0);
    const c = consumer(n.url, { maxWaitMs: 5000 });
    c.assign([TP]);
    const started = Date.now();
    expect(await c.poll({ timeoutMs: 300 })).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('close() ends a poll in progress and the iterator', async () => {
    const n = await nodeWithRecords(0);
    const c = consumer(n.url, { maxWaitMs: 5000 });
    c.assign([TP]);
    const it = (async () => {
      const got: ConsumedRecord[] = [];
      for await (const r of c) got.push(r);
      return got;
    })();
    await waitFor(() => requestsInFlight(n) === 1, 'the node to hold the iterator’s fetch');
    const started = Date.now();
    await c.close();
    expect(await it).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1500);
    await expect(c.poll()).rejects.toThrow(/closed/);
  });
});

describe('consumer across a node restart', () => {
  it('keeps its position, waits out the outage and resumes without gaps or repeats', async () => {
    const dataDir = tempDir();
    let n = await node(dataDir);
    const port = n.port;
    const admin = new Admin({ server: n.url });
    await admin.createTopics([{ name: 't', partitions: 1 }]);
    await admin.close();
    const p = new Producer({ server: n.url, lingerMs: 0 });
    cleanups.push(() => p.close());
    await Promise.all(Array.from({ length: 5 }, (_, i) => p.send({ topic: 't', value: `before${i}` })));

    const c = consumer(n.url, { autoOffsetReset: 'earliest', requestTimeoutMs: 2000 });
    c.assign([TP]);
    expect((await pollN(c, 5)).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
    const inFlight = c.poll({ timeoutMs: 1000 }); // a long poll is open when the node goes away

    await n.close();
    expect(await inFlight).toEqual([]);
    const down = Date.now();
    expect(await c.poll({ timeoutMs: 300 })).toEqual([]); // bounded while nothing listens
    expect(Date.now() - down).toBeLessThan(1500);

    n = await node(dataDir, port);
    const metas = await Promise.all(Array.from({ length: 5 }, (_, i) => p.send({ topic: 't', value: `after${i}` })));
    expect(metas.map((m) => m.offset)).toEqual([5, 6, 7, 8, 9]);
    const got = await pollN(c, 5);
    expect(got.map((r) => r.offset)).toEqual([5, 6, 7, 8, 9]);
    expect(got.map((r) => text(r.value))).toEqual(['after0', 'after1', 'after2', 'after3', 'after4']);
  });
});
