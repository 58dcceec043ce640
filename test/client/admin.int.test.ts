/** Admin client against a real node. */
import { afterEach, describe, expect, it } from 'vitest';
import { isEddyError } from '../../protocol/errors.js';
import { startNode, type RunningNode } from '../../app/start-node.js';
import { Admin, Producer } from '../../gateway/client/index.js';
import { tempDir } from '../helpers/tmp.js';

const T0 = 1_700_000_000_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ node: RunningNode; admin: Admin }> {
  const node = await startNode({ dataDir: tempDir(), port: 0 });
  cleanups.push(() => node.close());
  const admin = new Admin({ server: node.url });
  cleanups.push(() => admin.close());
  return { node, admin };
}

async function errorOf(p: Promise<unknown>): Promise<{ name: string; retriable: boolean; message: string }> {
  try {
    await p;
  } catch (err) {
    if (!isEddyError(err)) throw err;
    return { name: err.errorName, retriable: err.retriable, message: err.message };
  }
  throw new Error('expected an EddyError');
}

describe('admin', () => {
  it('creates, lists, describes and deletes topics', async () => {
    const { node, admin } = await setup();
    await admin.createTopics([
      { name: 'orders', partitions: 3, configs: { 'retention.ms': '3600000' } },
      { name: 'alerts', partitions: 1 },
    ]);
    expect(await admin.listTopics()).toEqual(['alerts', 'orders']);

    const p = new Producer({ server: node.url });
    await Promise.all(Array.from({ length: 6 }, (_, i) => p.send({ topic: 'orders', partition: 1, value: `o${i}` })));
    await p.close();

    const [orders] = await admin.describeTopics(['orders']);
    expect(orders!.name).toBe('orders');
    expect(orders!.partitions.map((x) => x.partition)).toEqual([0, 1, 2]);
    const p1 = orders!.partitions[1]!;
    expect(p1).toMatchObject({ logStartOffset: 0, logEndOffset: 6, highWatermark: 6 });
    expect(p1.sizeBytes).toBeGreaterThan(0);
    expect(orders!.partitions[0]).toMatchObject({ logStartOffset: 0, logEndOffset: 0, highWatermark: 0 });
    for (const part of orders!.partitions) {
      expect(part.leader).toBeGreaterThanOrEqual(0);
      expect(part.replicas).toEqual([part.leader]);
      expect(part.isr).toEqual([part.leader]);
    }
    const retention = orders!.configs.find((c) => c.name === 'retention.ms');
    expect(retention).toEqual({ name: 'retention.ms', value: '3600000', source: 'topic' });
    expect(orders!.configs.find((c) => c.name === 'retention.bytes')).toMatchObject({ source: 'default' });

    expect((await admin.describeTopics()).map((t) => t.name).sort()).toEqual(['alerts', 'orders']);

    await admin.deleteTopics(['alerts']);
    expect(await admin.listTopics()).toEqual(['orders']);
    expect((await errorOf(admin.describeTopics(['alerts']))).name).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('surfaces per-topic errors as EddyError with the table name and retriable flag', async () => {
    const { admin } = await setup();
    const rf = await errorOf(admin.createTopics([{ name: 'replicated', partitions: 1, replicationFactor: 2 }]));
    expect(rf).toMatchObject({ name: 'INVALID_REPLICATION_FACTOR', retriable: false });
    expect(rf.message).toContain('replicated');

    await admin.createTopics([{ name: 'once', partitions: 1 }]);
    expect((await errorOf(admin.createTopics([{ name: 'once', partitions: 1 }]))).name).toBe('TOPIC_ALREADY_EXISTS');
    expect((await errorOf(admin.createTopics([{ name: 'zero', partitions: 0 }]))).name).toBe('INVALID_PARTITIONS');
    expect((await errorOf(admin.createTopics([{ name: 'bad/name', partitions: 1 }]))).name).toBe('INVALID_TOPIC_EXCEPTION');
    expect((await errorOf(admin.createTopics([{ name: 'cfg', partitions: 1, configs: { 'retention.ms': 'soon' } }]))).name).toBe(
      'INVALID_CONFIG',
    );
    expect((await errorOf(admin.deleteTopics(['never-was']))).name).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    const internal = await errorOf(admin.deleteTopics(['__consumer_offsets']));
    expect(internal.name).toBe('INVALID_TOPIC_EXCEPTION');
    expect(internal.message).toMatch(/"__consumer_offsets" is an internal topic and cannot be deleted/);
    expect(await admin.listTopics()).toEqual(['once']);
  });

  it('validateOnly checks without creating', async () => {
    const { admin } = await setup();
    await admin.createTopics([{ name: 'dry', partitions: 2 }], { validateOnly: true });
    expect(await admin.listTopics()).toEqual([]);
  });

  it('lists offsets by earliest, latest and timestamp', async () => {
    const { node, admin } = await setup();
    await admin.createTopics([{ name: 'ts', partitions: 1 }]);
    const p = new Producer({ server: node.url });
    await Promise.all(Array.from({ length: 4 }, (_, i) => p.send({ topic: 'ts', value: `${i}`, timestamp: T0 + 1000 * i })));
    await p.close();
    const tp = { topic: 'ts', partition: 0 };
    const answers = await admin.listOffsets([
      { ...tp, spec: 'earliest' },
      { ...tp, spec: 'latest' },
      { ...tp, spec: { timestamp: T0 + 1500 } },
      { ...tp, spec: { timestamp: T0 + 99_000 } },
    ]);
    expect(answers.map((a) => a.offset)).toEqual([0, 4, 2, -1]);
    expect(answers[2]!.timestamp).toBe(T0 + 2000);
    expect((await errorOf(admin.listOffsets([{ topic: 'ts', partition: 5, spec: 'latest' }]))).name).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });
});
