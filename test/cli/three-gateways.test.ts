/**
 * Three `eddy start` processes on 127.0.0.1 form one metadata quorum over authenticated peer
 * links: one leader, every node's cluster id the one given, and when the leader is SIGKILLed the
 * other two elect a new one in a later epoch, admin writes resume through either survivor, and
 * the killed node comes back as a follower with the topics created while it was down.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Admin, type QuorumDescription } from '../../gateway/client/index.js';
import { describeQuorumAt } from '../helpers/cluster-views.js';
import { derivedClusterId } from '../../node/cluster/cluster-identity.js';
import { waitForAsync } from '../helpers/client.js';
import { Cluster, type NodePlan } from '../helpers/cluster.js';
import { eddy } from '../helpers/eddy-process.js';
import { tempDir } from '../helpers/tmp.js';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

/** The leader's description, asked of the given nodes, once one of them leads with a majority caught up. */
async function leaderView(c: Cluster, nodes: number[], ms = 20_000): Promise<QuorumDescription & { at: number }> {
  let found: (QuorumDescription & { at: number }) | undefined;
  await waitForAsync(
    async () => {
      for (const i of nodes) {
        const q = await describeQuorumAt(c.node(i).url);
        if (q && q.brokers.length > 0) {
          found = { ...q, at: i };
          return true;
        }
      }
      return false;
    },
    'a metadata quorum leader',
    ms,
  );
  return found!;
}

describe('three gateways', () => {
  it('elect one metadata leader over peer links; a SIGKILLed leader is replaced in a later epoch and rejoins', async () => {
    const secretFile = join(tempDir(), 'cluster.secret');
    writeFileSync(secretFile, 'a-test-secret-of-more-than-16-bytes\n', { mode: 0o600 });
    const voterList = (plan: readonly NodePlan[]) => plan.map((p) => ({ id: p.index + 1, url: `ws://127.0.0.1:${p.port}` }));
    const voters = (plan: readonly NodePlan[]): string => voterList(plan).map((v) => `${v.id}@${v.url}`).join(',');
    cluster = new Cluster({
      nodes: 3,
      args: (i, plan) => ['--node-id', String(i + 1), '--controller-quorum-voters', voters(plan), '--cluster-secret-file', secretFile],
    });
    await cluster.start();
    // No --cluster-id: every node derives the same id from the secret and the voter list.
    const clusterId = derivedClusterId(Buffer.from('a-test-secret-of-more-than-16-bytes'), voterList(cluster.plan()));
    const first = await leaderView(cluster, [0, 1, 2]);
    expect(first.clusterId).toBe(clusterId);
    expect(first.leaderId).toBe(first.at + 1);
    expect(first.voters.map((v) => v.nodeId).sort()).toEqual([1, 2, 3]);
    expect(first.leaderEpoch).toBeGreaterThanOrEqual(1);
    // Exactly one leader: the others answer NOT_LEADER_OR_FOLLOWER.
    const others = [0, 1, 2].filter((i) => i !== first.at);
    for (const i of others) expect(await describeQuorumAt(cluster.node(i).url)).toBeNull();
    // The CLI, given a follower, follows it to the leader.
    const described = await eddy(['cluster', 'describe', '--server', cluster.node(others[0]!).url]);
    expect(described.code).toBe(0);
    expect(described.out).toMatch(new RegExp(`^LeaderId: +${first.leaderId}$`, 'm'));

    await cluster.kill(first.at);
    const second = await leaderView(cluster, others);
    expect(second.leaderId).not.toBe(first.leaderId);
    expect(second.leaderEpoch).toBeGreaterThan(first.leaderEpoch);
    expect(second.clusterId).toBe(clusterId);

    // Admin writes resume under the new controller, through either survivor (the other forwards).
    for (const i of others) {
      const admin = new Admin({ server: cluster.node(i).url, requestTimeoutMs: 10_000 });
      try {
        await admin.createTopics([{ name: `after-failover-${i}`, partitions: 1 }]);
      } finally {
        await admin.close();
      }
    }

    await cluster.restart(first.at);
    // The restarted node follows: the leader sees it fetch up to its log end.
    await waitForAsync(
      async () => {
        const q = await describeQuorumAt(cluster!.node(second.at).url);
        const back = q?.voters.find((v) => v.nodeId === first.leaderId);
        return q !== null && back !== undefined && back.logEndOffset === q.voters.find((v) => v.nodeId === q.leaderId)!.logEndOffset;
      },
      'the restarted node to catch up with the new leader',
      20_000,
    );
    expect(await describeQuorumAt(cluster.node(first.at).url)).toBeNull();
    // The restarted node has the topics created while it was down, from the metadata log.
    const back = new Admin({ server: cluster.node(first.at).url, requestTimeoutMs: 10_000 });
    try {
      await waitForAsync(async () => {
        const names = await back.listTopics().catch(() => [] as string[]);
        return others.every((i) => names.includes(`after-failover-${i}`));
      }, 'the topics created during the outage on the restarted node', 10_000);
    } finally {
      await back.close();
    }
  }, 90_000);
});
