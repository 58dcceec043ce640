/**
 * Upgrade in place: a data directory written by the single-node version (test/fixtures/
 * single-node-v0, made at a4d6b18 by test/fixtures/make-single-node-dir.ts) opens on the cluster
 * version. Its topics are imported into the metadata log once, with their partition counts and
 * configs; every record and the group's committed offsets carry over; and a restart neither loses
 * nor imports anything again.
 */
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startNode, type RunningNode } from '../../app/start-node.js';
import { Admin, Consumer, Producer, type ConsumedRecord } from '../../gateway/client/index.js';
import { Apis } from '../../protocol/apis/index.js';
import { pollN } from '../helpers/client.js';
import { eddyStart } from '../helpers/eddy-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/tmp.js';

const FIXTURE = new URL('../fixtures/single-node-v0/', import.meta.url);

interface Expected {
  topics: { name: string; partitions: number; logEndOffsets: number[]; configs: Record<string, string> }[];
  group: { groupId: string; offsets: { topic: string; partition: number; offset: number; metadata: string }[] };
  records: { topic: string; partition: number; offset: number; timestamp: number; key: string | null; value: string | null; headers: { key: string; value: string | null }[] }[];
}
const expected = JSON.parse(readFileSync(new URL('expected.json', FIXTURE), 'utf8')) as Expected;
const NAMES = expected.topics.map((t) => t.name);

/** A copy of the fixture's data dir (the fixture itself is never opened: a node writes to it). */
function upgradedDir(): string {
  const dir = tempDir('eddy-upgrade-');
  cpSync(new URL('log.db', FIXTURE), join(dir, 'log.db'));
  return dir;
}

const dec = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));
const asJson = (r: ConsumedRecord): Expected['records'][number] => ({
  topic: r.topic,
  partition: r.partition,
  offset: r.offset,
  timestamp: r.timestamp,
  key: dec(r.key),
  value: dec(r.value),
  headers: r.headers.map((h) => ({ key: h.key, value: dec(h.value) })),
});
const order = (a: { topic: string; partition: number; offset: number }, b: typeof a) =>
  a.topic.localeCompare(b.topic) || a.partition - b.partition || a.offset - b.offset;

/** Every record of the fixture's topics, read by assignment from the log start. */
async function readAll(url: string, count: number): Promise<Expected['records']> {
  const c = new Consumer({ server: url, autoOffsetReset: 'earliest', maxWaitMs: 100 });
  try {
    c.assign(expected.topics.flatMap((t) => Array.from({ length: t.partitions }, (_, partition) => ({ topic: t.name, partition }))));
    return (await pollN(c, count)).map(asJson).sort(order);
  } finally {
    await c.close();
  }
}

/** What a client sees over the socket: the fixture's topics, records and committed offsets. */
async function expectFixtureServed(url: string, extra: Expected['records'] = []): Promise<void> {
  const raw = await RawClient.connect(url);
  try {
    const md = await raw.call(Apis.Metadata.key, { topics: null });
    const served = md.topics
      .filter((t: { isInternal: boolean }) => !t.isInternal)
      .map((t: { name: string; errorCode: number; partitions: unknown[] }) => [t.name, t.errorCode, t.partitions.length])
      .sort();
    expect(served).toEqual(expected.topics.map((t) => [t.name, 0, t.partitions]).sort());
  } finally {
    raw.close();
  }
  const admin = new Admin({ server: url });
  try {
    const described = await admin.describeTopics(NAMES);
    for (const t of expected.topics) {
      const d = described.find((x) => x.name === t.name)!;
      expect(d.partitions.map((p) => p.logStartOffset), t.name).toEqual(t.logEndOffsets.map(() => 0));
      const ends = t.logEndOffsets.map((end, p) => end + extra.filter((r) => r.topic === t.name && r.partition === p).length);
      expect(d.partitions.map((p) => p.logEndOffset), t.name).toEqual(ends);
      expect(Object.fromEntries(d.configs.filter((c) => c.source === 'topic').map((c) => [c.name, c.value])), t.name).toEqual(t.configs);
    }
    expect(await admin.fetchOffsets(expected.group.groupId)).toEqual(expected.group.offsets);
  } finally {
    await admin.close();
  }
  const all = [...expected.records, ...extra].sort(order);
  expect(await readAll(url, all.length)).toEqual(all);
}

/** The topic ids this node's metadata image holds, by name; every fixture topic has one, once. */
function imageTopicIds(node: RunningNode): Record<string, string> {
  const image = node.quorum.image;
  const ids: Record<string, string> = {};
  for (const name of NAMES) {
    const id = image.topicIdsByName.get(name);
    expect(id, `${name} in the metadata image`).toBeTruthy();
    expect(node.topics.get(name)?.topicId, `${name} adopted under its image id`).toBe(id);
    ids[name] = id!;
  }
  // No topic twice: one image entry per name (the fixture's three and __consumer_offsets).
  const names = [...image.topicsById.values()].map((t) => t.name);
  expect(new Set(names).size).toBe(names.length);
  expect(names.sort()).toEqual([...NAMES, '__consumer_offsets'].sort());
  return ids;
}

describe('a single-node data dir (a4d6b18) opened by the cluster version', () => {
  it('serves its topics from the metadata image, with every record and committed offset, and keeps them over a restart', async () => {
    const dataDir = upgradedDir();
    let node = await startNode({ dataDir });
    try {
      expect(existsSync(join(dataDir, 'cluster.json'))).toBe(true);
      const ids = imageTopicIds(node);
      await expectFixtureServed(node.url);

      // The group resumes where it committed, not at auto.offset.reset.
      const member = new Consumer({ server: node.url, groupId: expected.group.groupId, autoOffsetReset: 'earliest', autoCommit: false, maxWaitMs: 100 });
      await member.subscribe(['readings']);
      const resumed = expected.records.filter((r) => {
        const committed = expected.group.offsets.find((o) => o.partition === r.partition && o.topic === r.topic);
        return r.topic === 'readings' && r.offset >= committed!.offset;
      });
      expect((await pollN(member, resumed.length)).map(asJson).sort(order)).toEqual(resumed);
      await member.close(); // without committing: the fixture's offsets stay

      // New produce lands after the imported records.
      const producer = new Producer({ server: node.url });
      const sent = await producer.send({ topic: 'readings', partition: 1, key: 'sensor-new', value: 'after-upgrade', timestamp: expected.records[0]!.timestamp });
      await producer.close();
      // Producer ids the single-node version handed out (below its table's mark, 1000) stay
      // taken: the controller's blocks start past them, in the metadata log.
      expect(node.quorum.image.producerIds.nextProducerId).toBeGreaterThan(1000);
      expect((await node.broker.ctx.producerIds.newProducer()).producerId).toBeGreaterThanOrEqual(1000);
      const end1 = expected.topics.find((t) => t.name === 'readings')!.logEndOffsets[1]!;
      expect(sent).toEqual({ topic: 'readings', partition: 1, offset: end1 });
      const extra = [{ topic: 'readings', partition: 1, offset: end1, timestamp: expected.records[0]!.timestamp, key: 'sensor-new', value: 'after-upgrade', headers: [] }];
      const identity = (): { clusterId: string; nodeId: number } => JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8'));
      const before = identity();
      expect(before).toMatchObject({ clusterId: node.cluster.clusterId, nodeId: 0 });

      await node.close();
      node = await startNode({ dataDir });
      // Same cluster and node (a one-voter cluster's voter URL follows the port, which is new).
      expect(identity()).toMatchObject({ clusterId: before.clusterId, nodeId: 0 });
      expect(imageTopicIds(node)).toEqual(ids);
      await expectFixtureServed(node.url, extra);
    } finally {
      await node.close();
    }
  }, 60_000);

  it('opens with `eddy start --data-dir` too', async () => {
    const dataDir = upgradedDir();
    let server = await eddyStart(['--data-dir', dataDir, '--port', '0']);
    try {
      expect(existsSync(join(dataDir, 'cluster.json'))).toBe(true);
      await expectFixtureServed(server.url);
      expect(server.errors()).toMatch(/imported 4 topic\(s\) from before the cluster/);
      expect(await server.stop()).toBe(0);
      server = await eddyStart(['--data-dir', dataDir, '--port', '0']);
      await expectFixtureServed(server.url);
      expect(server.errors()).not.toMatch(/from before the cluster/);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
