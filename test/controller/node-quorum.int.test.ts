/** The metadata quorum a started node runs: it elects itself, registers itself once per start, and answers DescribeQuorum. */
import { afterEach, describe, expect, it } from 'vitest';
import { startNode, type RunningNode } from '../../app/start-node.js';
import { selfRegistrationRecords } from '../../app/metadata-quorum.js';
import { Admin, isEddyError } from '../../gateway/client/index.js';
import { tempDir } from '../helpers/tmp.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function describeVia(node: RunningNode) {
  const admin = new Admin({ server: node.url });
  try {
    return await admin.describeQuorum();
  } finally {
    await admin.close();
  }
}

describe('the node metadata quorum', () => {
  it('elects itself, registers itself, and DescribeQuorum shows it', async () => {
    const node = await startNode({ dataDir: tempDir(), nodeId: 3 });
    cleanups.push(() => node.close());
    // startNode waits for a one-voter quorum to commit the registration.
    expect(node.quorum.role).toBe('leader');
    const q = await describeVia(node);
    expect(q.leaderId).toBe(3);
    expect(q.leaderEpoch).toBeGreaterThanOrEqual(1);
    expect(q.highWatermark).toBeGreaterThan(0);
    expect(q.clusterId).toBe(node.cluster.clusterId);
    expect(q.voters).toHaveLength(1);
    expect(q.voters[0]).toMatchObject({ nodeId: 3, logEndOffset: q.highWatermark });
    expect(q.voters[0]!.lastFetchTimestamp).toBeGreaterThan(0);
    expect(q.observers).toEqual([]);
    expect(q.brokers).toEqual([{ nodeId: 3, endpoint: node.url, fenced: false, brokerEpoch: expect.any(Number) }]);
  });

  it('keeps the epoch monotonic across restarts and the image holds one registration, of the new incarnation', async () => {
    const dataDir = tempDir();
    const first = await startNode({ dataDir });
    const e1 = first.quorum.epoch;
    const b1 = first.quorum.image.brokers.get(0)!;
    await first.close();
    const second = await startNode({ dataDir });
    cleanups.push(() => second.close());
    expect(second.quorum.role).toBe('leader');
    expect(second.quorum.epoch).toBeGreaterThan(e1);
    const image = second.quorum.image;
    expect(image.brokers.size).toBe(1);
    const b2 = image.brokers.get(0)!;
    expect(b2.incarnationId).not.toBe(b1.incarnationId);
    expect(b2.brokerEpoch).toBeGreaterThan(b1.brokerEpoch);
    expect(b1.fenced).toBe(false); // the old incarnation was still unfenced: it was fenced, then the new one registered and unfenced
    expect(b2.fenced).toBe(false);
    expect(image.clusterId).toBe(second.cluster.clusterId);
    // Nothing more to write for this incarnation: a new election would propose nothing.
    const incarnationId = b2.incarnationId;
    expect(selfRegistrationRecords(image, { nodeId: 0, incarnationId, url: second.url, clusterId: second.cluster.clusterId }, second.quorum.logEndOffset)).toEqual([]);
    const q = await describeVia(second);
    expect(q.leaderEpoch).toBe(second.quorum.epoch);
    expect(q.brokers).toHaveLength(1);
  });

  it('a voter of a larger quorum without peer links elects no one and answers NOT_LEADER_OR_FOLLOWER', async () => {
    const node = await startNode({ dataDir: tempDir(), nodeId: 1, voters: [{ id: 1, url: 'ws://127.0.0.1:1' }, { id: 2, url: 'ws://127.0.0.1:2' }, { id: 3, url: 'ws://127.0.0.1:3' }] });
    cleanups.push(() => node.close());
    expect(node.quorum.role).not.toBe('leader');
    const err = await describeVia(node).catch((e: unknown) => e);
    expect(isEddyError(err, 'NOT_LEADER_OR_FOLLOWER')).toBe(true);
    expect((err as Error).message).toMatch(/not the metadata leader/);
  });
});
