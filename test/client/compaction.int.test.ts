/** Compacted topics end to end: producer → node → cleaner → consumer, with an injected clock. */
import { afterEach, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer, type ConsumedRecord } from '../../gateway/client/index.js';
import { startNode, type RunningNode } from '../../app/start-node.js';
import { isEddyError } from '../../protocol/errors.js';
import { pollN, rejection } from '../helpers/client.js';
import { tempDir } from '../helpers/tmp.js';

const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
const T0 = 1_700_000_000_000;
const RETENTION = 60_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function node(dataDir: string, clock: () => number): Promise<RunningNode> {
  // Rounds only when the test asks (runOnce): the interval is an hour.
  const n = await startNode({ dataDir, port: 0, clock, cleanerIntervalMs: 3_600_000, cleanerMinDirtyBatches: 1 });
  let closed: Promise<void> | undefined;
  const close = n.close.bind(n);
  n.close = () => (closed ??= close());
  cleanups.push(() => n.close());
  return n;
}

function client<T extends { close(): Promise<void> }>(c: T): T {
  cleanups.push(() => c.close());
  return c;
}

/** Everything from the log start up to the high watermark, as a consumer reading from the beginning sees it. */
async function readAll(url: string, expected: number): Promise<string[]> {
  const c = client(new Consumer({ server: url, autoOffsetReset: 'earliest', maxWaitMs: 100 }));
  c.assign([{ topic: 'state', partition: 0 }]);
  const records: ConsumedRecord[] = await pollN(c, expected);
  expect(await c.poll({ timeoutMs: 150 })).toEqual([]);
  await c.close();
  return records.map((r) => `${text(r.key)}=${text(r.value)?.slice(0, 12) ?? '✝'}@${r.offset}`);
}

describe('compacted topics', () => {
  it("a consumer from the beginning sees every key's latest value at its original offset; tombstones go after delete.retention.ms; the file shrinks", async () => {
    let now = T0;
    const dir = tempDir();
    let n = await node(dir, () => now);
    const admin = client(new Admin({ server: n.url }));
    await admin.createTopics([{ name: 'state', partitions: 1, configs: { 'cleanup.policy': 'compact', 'delete.retention.ms': String(RETENTION) } }]);
    const producer = client(new Producer({ server: n.url, lingerMs: 0 }));
    const big = 'x'.repeat(1500);
    const last = new Map<string, number>();
    for (let round = 0; round < 30; round++) {
      const sent = await producer.sendBatch(
        ['s0', 's1', 's2', 's3', 's4'].map((key) => ({ topic: 'state', key, value: `${key}/${round}/${big}`, timestamp: T0 + round })),
      );
      expect(sent).toHaveLength(1); // one run of 5 records
      for (let i = 0; i < 5; i++) last.set(`s${i}`, sent[0]!.baseOffset + i);
    }
    const tomb = await producer.send({ topic: 'state', key: 's0', value: null, timestamp: T0 + 100 });
    const tail = await producer.send({ topic: 'state', key: 'tail', value: 'end', timestamp: T0 + 200 });
    expect(await readAll(n.url, 152)).toHaveLength(152);
    const pages = () => n.store.reader.pragma('page_count', { simple: true }) as number;
    const before = pages();

    const results = await n.cleaner.runOnce();
    expect(results.find((r) => r.topic === 'state')).toMatchObject({ recordsRemoved: 146, tombstonesRemoved: 0 });
    const latest = ['s1', 's2', 's3', 's4'].map((k) => `${k}=${k}/29/xxxxxx@${last.get(k)}`);
    expect(await readAll(n.url, 6)).toEqual([...latest, `s0=✝@${tomb.offset}`, `tail=end@${tail.offset}`]);
    expect(pages()).toBeLessThan(before / 3); // 30 rounds of 5 big values down to 6 records

    // The tombstone stays until delete.retention.ms has passed since its timestamp.
    now = T0 + 100 + RETENTION - 1;
    await n.cleaner.runOnce();
    expect(await readAll(n.url, 6)).toContain(`s0=✝@${tomb.offset}`);
    now = T0 + 100 + RETENTION;
    await n.cleaner.runOnce();
    expect(await readAll(n.url, 5)).toEqual([...latest, `tail=end@${tail.offset}`]);

    // Offsets and contents survive a restart; new records continue after the same log end.
    await n.close();
    n = await node(dir, () => now);
    expect(await readAll(n.url, 5)).toEqual([...latest, `tail=end@${tail.offset}`]);
    const p2 = client(new Producer({ server: n.url, lingerMs: 0 }));
    expect((await p2.send({ topic: 'state', key: 's1', value: 'new' })).offset).toBe(tail.offset + 1);
  });

  it('refuses records without a key on a compacted topic with INVALID_RECORD, and accepts them elsewhere', async () => {
    const n = await node(tempDir(), Date.now);
    const admin = client(new Admin({ server: n.url }));
    await admin.createTopics([
      { name: 'state', partitions: 1, configs: { 'cleanup.policy': 'compact,delete' } },
      { name: 'events', partitions: 1 },
    ]);
    const producer = client(new Producer({ server: n.url, lingerMs: 0 }));
    const err = await rejection(producer.send({ topic: 'state', key: null, value: 'no key' }));
    expect(isEddyError(err) && err.errorName).toBe('INVALID_RECORD');
    expect(isEddyError(err) && err.retriable).toBe(false);
    expect(isEddyError(err) && err.detail).toMatch(/compacted topic cannot accept a record without a key/);
    expect((await producer.send({ topic: 'state', key: 'k', value: 'keyed' })).offset).toBe(0);
    expect((await producer.send({ topic: 'events', key: null, value: 'no key' })).offset).toBe(0);
  });
});
