/**
 * Three `eddy start` processes on 127.0.0.1 as one cluster (replication factor 1):
 * - a topic created through any node appears in every node's Metadata, and its six partitions
 *   are spread over the three nodes, two led by each;
 * - keyed records produced through a client given one bootstrap address land on their
 *   partitions' leaders and read back in order; a node refuses partitions it does not lead;
 * - consumers of one group, each bootstrapped at a different node, share the partitions;
 * - a SIGKILLed node takes down only its own partitions, with a clear error, while the others
 *   keep flowing; metadata writes still work with one node down, and with two down they fail
 *   with a retriable NOT_CONTROLLER while the survivor still serves the metadata it has.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer, isEddyError, type ConsumedRecord } from '../../gateway/client/index.js';
import { Apis } from '../../protocol/apis/index.js';
import { partitionForKey } from '../../protocol/partitioner.js';
import { rejection, waitForAsync } from '../helpers/client.js';
import { metadataAt } from '../helpers/cluster-views.js';
import { Cluster, type NodePlan } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/tmp.js';

let cluster: Cluster | undefined;
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  // In parallel: clients of dead nodes each wait out their request timeout (a group member's leave).
  await Promise.allSettled(closers.splice(0).map((close) => close()));
  await cluster?.close();
  cluster = undefined;
}, 60_000);

const SECRET = 'a-test-secret-of-more-than-16-bytes';
const utf8 = new TextEncoder();

function threeNodes(): Cluster {
  const secretFile = join(tempDir(), 'cluster.secret');
  writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  const voters = (plan: readonly NodePlan[]): string => plan.map((p) => `${p.index + 1}@ws://127.0.0.1:${p.port}`).join(',');
  return new Cluster({
    nodes: 3,
    // A short session so that a SIGKILLed node is fenced (its partitions leaderless) within the test.
    args: (i, plan) => ['--node-id', String(i + 1), '--controller-quorum-voters', voters(plan), '--cluster-secret-file', secretFile, '--broker-session-timeout-ms', '2000'],
  });
}

/** Until every node's Metadata lists all three brokers (registered and unfenced). */
async function allRegistered(c: Cluster): Promise<void> {
  await waitForAsync(
    async () => {
      for (const url of c.urls()) if ((await metadataAt(url))?.brokers.length !== 3) return false;
      return true;
    },
    'all three brokers registered and unfenced in every node',
    30_000,
  );
}

function track<T extends { close(): Promise<unknown> }>(x: T): T {
  closers.push(() => x.close());
  return x;
}

async function pollUntil(consumers: Consumer[], done: (got: ConsumedRecord[]) => boolean, what: string, ms = 20_000): Promise<ConsumedRecord[]> {
  const got: ConsumedRecord[] = [];
  const end = Date.now() + ms;
  while (!done(got)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: got ${got.length} records`);
    for (const c of consumers) got.push(...(await c.poll({ timeoutMs: 100 })));
  }
  return got;
}

describe('partitions spread over three gateways', () => {
  it('place, route, share and survive a node', async () => {
    cluster = threeNodes();
    await cluster.start();
    await allRegistered(cluster);
    const [n1, n2, n3] = [cluster.node(0), cluster.node(1), cluster.node(2)];

    // Created through node 2 (whichever is the controller: the others forward).
    const admin = track(new Admin({ server: n2.url, requestTimeoutMs: 10_000 }));
    await admin.createTopics([{ name: 'readings', partitions: 6 }]);
    let leaders: number[] = [];
    await waitForAsync(
      async () => {
        const views = await Promise.all(cluster!.urls().map((u) => metadataAt(u, ['readings'])));
        const lists = views.map((v) => v?.topics[0]?.partitions.map((p) => p.leader) ?? []);
        leaders = lists[0]!;
        return lists.every((l) => l.length === 6 && l.join() === leaders.join());
      },
      'readings in the Metadata of every node, with the same leaders',
      10_000,
    );
    // Balanced: two partitions led by each node.
    for (const id of [1, 2, 3]) expect(leaders.filter((l) => l === id)).toHaveLength(2);

    // A node refuses a partition it does not lead, naming what to do.
    const notMine = leaders.findIndex((l) => l !== 1);
    const raw = await RawClient.connect(n1.url);
    const refused = await raw.call(Apis.ListOffsets.key, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'readings', partitions: [{ partition: notMine, timestamp: -1 }] }] }).catch((e: unknown) => e);
    raw.close();
    expect(JSON.stringify(refused)).toMatch(/"errorCode":6/); // NOT_LEADER_OR_FOLLOWER

    // Keyed records through one bootstrap address land on their leaders, in order.
    const producer = track(new Producer({ server: n1.url, lingerMs: 1 }));
    const keys = Array.from({ length: 60 }, (_, i) => `sensor-${i % 12}`);
    const sent = await Promise.all(keys.map((k, i) => producer.send({ topic: 'readings', key: k, value: `v${i}` })));
    sent.forEach((m, i) => expect(m.partition).toBe(partitionForKey(utf8.encode(keys[i]!), 6)));
    expect(new Set(sent.map((m) => m.partition)).size).toBeGreaterThanOrEqual(4);
    // Each partition's records are on its leader's disk (DescribeLogDirs is per node).
    const described = await admin.describeTopics(['readings']);
    for (const p of described[0]!.partitions) {
      expect(p.logEndOffset).toBe(sent.filter((m) => m.partition === p.partition).length);
    }

    const reader = track(new Consumer({ server: n3.url, autoOffsetReset: 'earliest' }));
    reader.assign(Array.from({ length: 6 }, (_, partition) => ({ topic: 'readings', partition })));
    const all = await pollUntil([reader], (g) => g.length >= 60, 'all 60 records through node 3');
    for (let p = 0; p < 6; p++) {
      const values = all.filter((r) => r.partition === p).map((r) => new TextDecoder().decode(r.value!));
      expect(values).toEqual(keys.map((_, i) => `v${i}`).filter((_, i) => sent[i]!.partition === p));
    }

    // One group, three members bootstrapped at three different nodes, share the six partitions.
    const members = [n1, n2, n3].map((n, i) =>
      track(new Consumer({ server: n.url, groupId: 'dashboard', clientId: `member-${i}`, autoOffsetReset: 'earliest', sessionTimeoutMs: 6_000, requestTimeoutMs: 5_000 })),
    );
    for (const m of members) await m.subscribe(['readings']);
    const shared = await pollUntil(members, (g) => new Set(g.map((r) => `${r.partition}:${r.offset}`)).size >= 60, 'the group to read all 60 records', 30_000);
    expect(new Set(shared.map((r) => `${r.partition}:${r.offset}`)).size).toBe(60);
    await waitForAsync(async () => {
      for (const m of members) await m.poll({ timeoutMs: 50 });
      return members.every((m) => m.assignment().length === 2);
    }, 'two partitions for each member', 20_000);
    // Their commits land at the coordinator; describe shows every partition's lag (0: all read),
    // the high watermarks of partitions on other nodes asked of their leaders.
    for (const m of members) await m.commit();
    const group = await admin.describeGroup('dashboard');
    expect(group.members).toHaveLength(3);
    expect(group.partitions.map((p) => [p.partition, p.lag])).toEqual([0, 1, 2, 3, 4, 5].map((p) => [p, 0]));
    expect(group.partitions.map((p) => p.highWatermark)).toEqual([0, 1, 2, 3, 4, 5].map((p) => sent.filter((m) => m.partition === p).length));

    // SIGKILL node 3: only its partitions go away; the others keep taking records.
    await cluster.kill(2);
    const mine3 = leaders.map((l, p) => (l === 3 ? p : -1)).filter((p) => p >= 0);
    const others = leaders.map((l, p) => (l !== 3 ? p : -1)).filter((p) => p >= 0);
    const survivorProducer = track(new Producer({ server: `${n1.url},${n2.url}`, lingerMs: 1, deliveryTimeoutMs: 4_000, requestTimeoutMs: 2_000 }));
    for (const p of others) await survivorProducer.send({ topic: 'readings', partition: p, value: 'after-the-kill' });
    const lost = await rejection(survivorProducer.send({ topic: 'readings', partition: mine3[0]!, value: 'to-a-dead-node' }));
    expect(isEddyError(lost)).toBe(true);
    expect((lost as Error).message).toMatch(new RegExp(`readings-${mine3[0]}`));

    // Metadata writes with one of three down: still fine (through a survivor).
    const survivorsAdmin = track(new Admin({ server: `${n1.url},${n2.url}`, requestTimeoutMs: 10_000 }));
    await survivorsAdmin.createTopics([{ name: 'after-one-down', partitions: 1 }]);
    expect(await survivorsAdmin.listTopics()).toContain('after-one-down');
    // Node 3's partitions are fenced away: leaderless in the survivors' Metadata.
    await waitForAsync(async () => {
      const m = await metadataAt(n1.url, ['readings']);
      return mine3.every((p) => m?.topics[0]?.partitions[p]?.leader === -1);
    }, "node 3's partitions leaderless once its session expired", 15_000);

    // Two of three down: writes fail, retriable, and say why; reads of what exists still work.
    await cluster.kill(1);
    // Until the lone survivor notices it lost its majority (check-quorum, 2 s) a write may time
    // out instead; every refusal is retriable, and then it says there is no controller.
    const lone = track(new Admin({ server: n1.url, requestTimeoutMs: 3_000 }));
    let refusedWrite: unknown;
    await waitForAsync(async () => {
      refusedWrite = await rejection(lone.createTopics([{ name: 'never', partitions: 1 }]));
      expect(isEddyError(refusedWrite) && refusedWrite.retriable).toBe(true);
      return (refusedWrite as { errorName?: string }).errorName === 'NOT_CONTROLLER';
    }, 'NOT_CONTROLLER from the lone survivor', 20_000);
    expect((refusedWrite as Error).message).toMatch(/no active controller|the active controller, node \d+, is unreachable/);
    const stillThere = await metadataAt(n1.url, ['readings']);
    expect(stillThere?.topics[0]?.partitions).toHaveLength(6);
  }, 180_000);
});
