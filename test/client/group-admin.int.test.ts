/** Admin client: consumer groups and their offsets, against a real node. */
import { afterEach, describe, expect, it } from 'vitest';
import { Apis } from '../../protocol/apis/index.js';
import { ERRORS, isEddyError } from '../../protocol/errors.js';
import { startNode, type RunningNode } from '../../app/start-node.js';
import { Admin, Connection, Producer } from '../../gateway/client/index.js';
import { tempDir } from '../helpers/tmp.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function openAdmin(node: RunningNode): Promise<Admin> {
  const admin = new Admin({ server: node.url });
  cleanups.push(() => admin.close());
  return admin;
}

async function setup(dataDir = tempDir()): Promise<{ node: RunningNode; admin: Admin }> {
  const node = await startNode({ dataDir });
  cleanups.push(() => node.close());
  return { node, admin: await openAdmin(node) };
}

async function errorName(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (!isEddyError(err)) throw err;
    return err.errorName;
  }
  throw new Error('expected an EddyError');
}

/** Joins `groupId` as a member subscribed to `topic` with one raw heartbeat; returns how to leave. */
async function joinRaw(node: RunningNode, groupId: string, topic: string): Promise<{ memberId: string; leave(): Promise<void> }> {
  const conn = new Connection({ url: node.url, clientId: 'raw-member' });
  cleanups.push(() => conn.close());
  const base = { groupId, rebalanceTimeoutMs: -1, sessionTimeoutMs: -1, subscribedTopicRegex: null, serverAssignor: null, maxWaitMs: 0 };
  const joined = await conn.request(Apis.ConsumerGroupHeartbeat, { ...base, memberId: '', memberEpoch: 0, subscribedTopicNames: [topic], ownedPartitions: [] });
  expect(joined.memberId).not.toBe('');
  return {
    memberId: joined.memberId,
    async leave() {
      const left = await conn.request(Apis.ConsumerGroupHeartbeat, { ...base, memberId: joined.memberId, memberEpoch: -1, subscribedTopicNames: null, ownedPartitions: null });
      expect(left.memberEpoch).toBe(-1);
    },
  };
}

async function produce(node: RunningNode, topic: string, partition: number, count: number): Promise<void> {
  const p = new Producer({ server: node.url });
  try {
    await Promise.all(Array.from({ length: count }, (_, i) => p.send({ topic, partition, value: `v${i}` })));
  } finally {
    await p.close();
  }
}

describe('admin: consumer groups', () => {
  it('resets offsets and fetches them back; a reset creates the group', async () => {
    const { admin } = await setup();
    await admin.createTopics([{ name: 't', partitions: 3 }]);
    expect(await admin.fetchOffsets('g')).toEqual([]);

    await admin.resetOffsets('g', [
      { topic: 't', partition: 2, offset: 7, metadata: 'by hand' },
      { topic: 't', partition: 0, offset: 0 },
    ]);
    expect(await admin.fetchOffsets('g')).toEqual([
      { topic: 't', partition: 0, offset: 0, metadata: null },
      { topic: 't', partition: 2, offset: 7, metadata: 'by hand' },
    ]);
    // Asking for named partitions also answers the uncommitted one, with null.
    expect(await admin.fetchOffsets('g', [{ topic: 't', partition: 1 }, { topic: 't', partition: 2 }])).toEqual([
      { topic: 't', partition: 1, offset: null, metadata: null },
      { topic: 't', partition: 2, offset: 7, metadata: 'by hand' },
    ]);
    expect(await admin.listGroups()).toEqual([{ groupId: 'g', state: 'empty', members: 0, assignor: null }]);

    expect(await errorName(admin.resetOffsets('g', [{ topic: 'nope', partition: 0, offset: 1 }]))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(await errorName(admin.resetOffsets('g', [{ topic: 't', partition: 0, offset: -1 }]))).toBe('INVALID_REQUEST');
    expect(await errorName(admin.fetchOffsets('g', [{ topic: 'nope', partition: 0 }]))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('describes lag as high watermark minus committed offset', async () => {
    const { node, admin } = await setup();
    await admin.createTopics([{ name: 't', partitions: 2 }]);
    await produce(node, 't', 0, 5);
    await produce(node, 't', 1, 2);
    await admin.resetOffsets('g', [{ topic: 't', partition: 0, offset: 2 }]);

    const d = await admin.describeGroup('g');
    expect(d).toMatchObject({ groupId: 'g', state: 'empty', members: [], assignor: null });
    // An empty group subscribes to nothing: only the committed partition is shown.
    expect(d.partitions).toEqual([
      { topic: 't', partition: 0, committedOffset: 2, metadata: null, logEndOffset: 5, highWatermark: 5, lag: 3, owner: null },
    ]);

    await produce(node, 't', 0, 4);
    expect((await admin.describeGroup('g')).partitions[0]).toMatchObject({ committedOffset: 2, highWatermark: 9, lag: 7 });

    expect(await errorName(admin.describeGroup('unknown'))).toBe('GROUP_ID_NOT_FOUND');
  });

  it('describes members, their assignments and every subscribed partition', async () => {
    const { node, admin } = await setup();
    await admin.createTopics([{ name: 't', partitions: 2 }]);
    const member = await joinRaw(node, 'g', 't');

    const d = await admin.describeGroup('g');
    expect(d.members).toHaveLength(1);
    const m = d.members[0]!;
    expect(m).toMatchObject({ memberId: member.memberId, clientId: 'raw-member', subscribedTopicNames: ['t'], subscribedTopicRegex: null });
    expect(m.clientHost).toMatch(/127\.0\.0\.1/);
    expect(m.targetAssignment).toEqual([
      { topic: 't', partition: 0 },
      { topic: 't', partition: 1 },
    ]);
    expect(d.assignor).toBe('sticky');
    expect(d.groupEpoch).toBeGreaterThan(0);
    // Nothing committed: both partitions of the subscribed topic, with no offset and no lag.
    expect(d.partitions.map((p) => [p.topic, p.partition, p.committedOffset, p.lag])).toEqual([
      ['t', 0, null, null],
      ['t', 1, null, null],
    ]);
    expect(await admin.listGroups()).toEqual([{ groupId: 'g', state: d.state, members: 1, assignor: 'sticky' }]);
    await member.leave();
  });

  it('lists and deletes groups', async () => {
    const { admin } = await setup();
    await admin.createTopics([{ name: 't', partitions: 1 }]);
    await admin.resetOffsets('b', [{ topic: 't', partition: 0, offset: 1 }]);
    await admin.resetOffsets('a', [{ topic: 't', partition: 0, offset: 1 }]);
    expect((await admin.listGroups()).map((g) => g.groupId)).toEqual(['a', 'b']);

    await admin.deleteGroups(['a']);
    expect((await admin.listGroups()).map((g) => g.groupId)).toEqual(['b']);
    expect(await admin.fetchOffsets('a')).toEqual([]);
    expect(await errorName(admin.describeGroup('a'))).toBe('GROUP_ID_NOT_FOUND');
    expect(await errorName(admin.deleteGroups(['a']))).toBe('GROUP_ID_NOT_FOUND');
    // The first refusal is thrown; the other groups in the request are still deleted.
    expect(await errorName(admin.deleteGroups(['missing', 'b']))).toBe('GROUP_ID_NOT_FOUND');
    expect(await admin.listGroups()).toEqual([]);
  });

  it('refuses to delete or reset a group with a live member, and allows both once it has left', async () => {
    const { node, admin } = await setup();
    await admin.createTopics([{ name: 't', partitions: 1 }]);
    await admin.resetOffsets('g', [{ topic: 't', partition: 0, offset: 3 }]);
    const member = await joinRaw(node, 'g', 't');

    expect(await errorName(admin.resetOffsets('g', [{ topic: 't', partition: 0, offset: 0 }]))).toBe('NON_EMPTY_GROUP');
    expect(await errorName(admin.deleteGroups(['g']))).toBe('NON_EMPTY_GROUP');
    expect(await admin.fetchOffsets('g')).toEqual([{ topic: 't', partition: 0, offset: 3, metadata: null }]);

    await member.leave();
    await admin.resetOffsets('g', [{ topic: 't', partition: 0, offset: 0 }]);
    expect(await admin.fetchOffsets('g')).toEqual([{ topic: 't', partition: 0, offset: 0, metadata: null }]);
    await admin.deleteGroups(['g']);
    expect(await admin.listGroups()).toEqual([]);
  });

  it('keeps committed offsets across a node restart', async () => {
    const dataDir = tempDir();
    const first = await startNode({ dataDir });
    const admin1 = new Admin({ server: first.url });
    await admin1.createTopics([{ name: 't', partitions: 2 }]);
    await admin1.resetOffsets('g', [
      { topic: 't', partition: 0, offset: 4, metadata: 'm' },
      { topic: 't', partition: 1, offset: 9 },
    ]);
    await admin1.resetOffsets('gone', [{ topic: 't', partition: 0, offset: 1 }]);
    await admin1.deleteGroups(['gone']);
    await admin1.close();
    await first.close();

    const { admin } = await setup(dataDir);
    expect(await admin.fetchOffsets('g')).toEqual([
      { topic: 't', partition: 0, offset: 4, metadata: 'm' },
      { topic: 't', partition: 1, offset: 9, metadata: null },
    ]);
    // The deletion (tombstones) survived too.
    expect(await admin.listGroups()).toEqual([{ groupId: 'g', state: 'empty', members: 0, assignor: null }]);
  });
});

describe('FindCoordinator', () => {
  it("names the node that leads the group's offsets partition: on one node, the node itself, as Metadata names it", async () => {
    const { node, admin } = await setup();
    const meta = new Connection({ url: node.url, clientId: 'meta' });
    cleanups.push(() => meta.close());
    const [broker] = (await meta.request(Apis.Metadata, { topics: [] })).brokers;
    expect(await admin.findCoordinator('plant-7-dashboard')).toEqual({ nodeId: broker!.nodeId, host: broker!.host, port: broker!.port });
    expect(node.groups.offsets.partitionFor('plant-7-dashboard')).toBeGreaterThanOrEqual(0);
  });

  it('refuses an empty or over-long group id with INVALID_GROUP_ID and a key type other than groups with INVALID_REQUEST', async () => {
    const { node, admin } = await setup();
    expect(await errorName(admin.findCoordinator(''))).toBe('INVALID_GROUP_ID');
    expect(await errorName(admin.findCoordinator('g'.repeat(256)))).toBe('INVALID_GROUP_ID');
    const conn = new Connection({ url: node.url, clientId: 'raw' });
    cleanups.push(() => conn.close());
    const res = await conn.request(Apis.FindCoordinator, { key: 'g', keyType: 1 });
    expect(res).toMatchObject({ errorCode: ERRORS.INVALID_REQUEST.code, nodeId: -1, host: '', port: -1 });
    expect(res.errorMessage).toMatch(/keyType 1/);
  });
});
