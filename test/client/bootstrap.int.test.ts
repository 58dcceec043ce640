/**
 * Bootstrap lists against a real node on 127.0.0.1: a dead first address, duplicates, the broker
 * URL learned from Metadata, and a node that restarts on the same port (metadata refresh + retry).
 * One node leads every partition today; routing across several leaders needs the cluster server.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer } from '../../gateway/client/index.js';
import { BrokerConnections } from '../../gateway/client/broker-connections.js';
import { Connection } from '../../gateway/client/connection.js';
import { isEddyError } from '../../protocol/errors.js';
import { rejection } from '../helpers/client.js';
import { eddy } from '../helpers/eddy-process.js';
import { pollN } from '../helpers/client.js';
import { testNode } from '../helpers/node.js';
import { tempDir } from '../helpers/tmp.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
function track<T extends { close(): Promise<void> }>(c: T): T {
  cleanups.push(() => c.close());
  return c;
}

/** ws:// URL of a port that was free a moment ago and has nothing listening: connects are refused. */
async function deadUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return `ws://127.0.0.1:${port}`;
}

const text = (b: Uint8Array | null) => new TextDecoder().decode(b!);

describe('bootstrap list', () => {
  it('a dead first address: admin, producer and consumer go on to the live one at once', async () => {
    const node = await testNode();
    const servers = `${await deadUrl()},${node.url}`;
    const admin = track(new Admin({ server: servers, requestTimeoutMs: 5000 }));
    const started = Date.now();
    await admin.createTopics([{ name: 't', partitions: 3 }]);
    expect(Date.now() - started).toBeLessThan(3000); // not a request timeout spent on the dead address
    expect(await admin.listTopics()).toEqual(['t']);

    const producer = track(new Producer({ server: servers.split(','), lingerMs: 0 }));
    const sent = await Promise.all([0, 1, 2].map((partition) => producer.send({ topic: 't', partition, value: `v${partition}` })));
    expect(sent.map((m) => m.offset)).toEqual([0, 0, 0]);

    const consumer = track(new Consumer({ server: servers, autoOffsetReset: 'earliest', maxWaitMs: 100 }));
    consumer.assign([0, 1, 2].map((partition) => ({ topic: 't', partition })));
    const got = await pollN(consumer, 3);
    expect(got.map((r) => text(r.value)).sort()).toEqual(['v0', 'v1', 'v2']);

    const offsets = await admin.listOffsets([{ topic: 't', partition: 1, spec: 'latest' }]);
    expect(offsets[0]!.offset).toBe(1);
    const [described] = await admin.describeTopics(['t']);
    expect(described!.partitions).toHaveLength(3);
  });

  it('a list with duplicates and a dead address works like the live address alone', async () => {
    const node = await testNode();
    const dead = await deadUrl();
    const servers = [dead, node.url, dead, node.url];
    const admin = track(new Admin({ server: servers }));
    await admin.createTopics([{ name: 'd', partitions: 1 }]);
    const producer = track(new Producer({ server: servers.join(','), lingerMs: 0 }));
    await producer.send({ topic: 'd', value: 'x' });
    expect((await admin.listOffsets([{ topic: 'd', partition: 0, spec: 'latest' }]))[0]!.offset).toBe(1);
  });

  it('Connection.ready() rejects (retriable) as soon as a connect is refused, not after its timeout', async () => {
    const node = await testNode();
    const dead = track(new Connection({ url: await deadUrl() }));
    const started = Date.now();
    const err = await rejection(dead.ready(5000));
    expect(isEddyError(err, 'REQUEST_TIMED_OUT') && err.retriable).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    await track(new Connection({ url: node.url })).ready(5000);
  });

  it('learns the broker URL (node id → ws://host:port) from Metadata', async () => {
    const node = await testNode();
    const brokers = track(new BrokerConnections({ servers: [await deadUrl(), node.url], connection: { requestTimeoutMs: 5000 } }));
    await brokers.refresh();
    expect([...brokers.metadata.brokers.values()]).toEqual([node.url]);
    const [nodeId] = [...brokers.metadata.brokers.keys()];
    expect(brokers.nodeUrl(nodeId!)).toBe(node.url);
  });

  it('a consumer group found through a dead first address: FindCoordinator, heartbeats and commits go to the coordinator', async () => {
    const node = await testNode();
    const servers = `${await deadUrl()},${node.url}`;
    const admin = track(new Admin({ server: servers }));
    await admin.createTopics([{ name: 'g', partitions: 2 }]);
    const producer = track(new Producer({ server: servers, lingerMs: 0 }));
    await Promise.all([0, 1].map((partition) => producer.send({ topic: 'g', partition, value: `r${partition}` })));
    const consumer = track(new Consumer({ server: servers, groupId: 'grp', autoOffsetReset: 'earliest', maxWaitMs: 100, sessionTimeoutMs: 2000 }));
    await consumer.subscribe(['g']);
    expect((await pollN(consumer, 2)).map((r) => text(r.value)).sort()).toEqual(['r0', 'r1']);
    await consumer.commit();
    const committed = await admin.fetchOffsets('grp');
    expect(committed.map((o) => o.offset)).toEqual([1, 1]);
    expect((await admin.listGroups()).map((g) => g.groupId)).toContain('grp');
    expect((await admin.describeGroup('grp')).groupId).toBe('grp');
  });

  it('a node restarting on the same port: the producer refreshes metadata and retries, the consumer resumes', async () => {
    const dataDir = tempDir();
    let node = await testNode(dataDir);
    const port = Number(new URL(node.url).port);
    const servers = `${await deadUrl()},${node.url}`;
    const admin = track(new Admin({ server: servers }));
    await admin.createTopics([{ name: 'r', partitions: 2 }]);
    const producer = track(new Producer({ server: servers, lingerMs: 0, deliveryTimeoutMs: 20_000 }));
    const consumer = track(new Consumer({ server: servers, autoOffsetReset: 'earliest', maxWaitMs: 100 }));
    consumer.assign([0, 1].map((partition) => ({ topic: 'r', partition })));
    await producer.send({ topic: 'r', partition: 0, value: 'before' });
    expect((await pollN(consumer, 1)).map((r) => text(r.value))).toEqual(['before']);

    await node.close();
    const during = producer.send({ topic: 'r', partition: 1, value: 'during' }); // retried until the node is back
    await new Promise((r) => setTimeout(r, 300));
    node = await testNode(dataDir, port);
    expect((await during).offset).toBe(0);
    await producer.send({ topic: 'r', partition: 0, value: 'after' });
    expect((await pollN(consumer, 2)).map((r) => text(r.value)).sort()).toEqual(['after', 'during']);
  });

  it('the CLI takes a comma-separated --server whose first address is dead', async () => {
    const node = await testNode();
    const env = { EDDY_SERVER: `${await deadUrl()},${node.url}` };
    expect(await eddy(['topics', 'create', 'c', '--partitions', '2'], { env })).toMatchObject({ code: 0 });
    expect((await eddy(['topics', 'list', '--server', `${await deadUrl()},${node.url},${node.url}`], { env: {} })).out).toBe('c\n');
  });
});
