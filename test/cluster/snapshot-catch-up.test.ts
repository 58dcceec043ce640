/**
 * KIP-630 across processes: three `eddy start` nodes snapshot the metadata every 10 records. A
 * follower is SIGKILLed, the survivors commit far more than that (their logs are cut below what
 * the follower has), and the restarted follower catches up by installing the leader's snapshot
 * and then following the log: it serves every topic created while it was down.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Admin, type QuorumDescription } from '../../gateway/client/index.js';
import { describeQuorumAt, metadataAt } from '../helpers/cluster-views.js';
import { waitForAsync } from '../helpers/client.js';
import { Cluster, type NodePlan } from '../helpers/cluster.js';
import { tempDir } from '../helpers/tmp.js';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

/** Snapshot end offsets in a node's data dir. */
const snapshotEnds = (dataDir: string): number[] => {
  try {
    return readdirSync(join(dataDir, 'snapshots')).map((n) => Number(n.split('-')[0])).filter(Number.isFinite);
  } catch {
    return [];
  }
};

describe('metadata snapshots across processes', () => {
  it('a follower that was down while the log was cut catches up from the leader snapshot', async () => {
    const secretFile = join(tempDir(), 'cluster.secret');
    writeFileSync(secretFile, 'a-test-secret-of-more-than-16-bytes\n', { mode: 0o600 });
    const voters = (plan: readonly NodePlan[]): string => plan.map((p) => `${p.index + 1}@ws://127.0.0.1:${p.port}`).join(',');
    cluster = new Cluster({
      nodes: 3,
      args: (i, plan) => ['--node-id', String(i + 1), '--controller-quorum-voters', voters(plan), '--cluster-secret-file', secretFile, '--metadata-snapshot-records', '10'],
    });
    await cluster.start();
    let q: QuorumDescription | null = null;
    let leaderAt = -1;
    await waitForAsync(async () => {
      for (let i = 0; i < 3; i++) {
        q = await describeQuorumAt(cluster!.node(i).url);
        if (q && q.voters.every((v) => v.logEndOffset === q!.voters.find((l) => l.nodeId === q!.leaderId)!.logEndOffset)) {
          leaderAt = i;
          return true;
        }
      }
      return false;
    }, 'a leader with every voter caught up', 20_000);
    const follower = [0, 1, 2].find((i) => i !== leaderAt)!;
    const behindAt = q!.voters.find((v) => v.nodeId === follower + 1)!.logEndOffset;
    await cluster.kill(follower);

    const survivor = [0, 1, 2].find((i) => i !== follower && i !== leaderAt)!;
    const admin = new Admin({ server: `${cluster.node(leaderAt).url},${cluster.node(survivor).url}`, requestTimeoutMs: 10_000 });
    const names = Array.from({ length: 30 }, (_, i) => `while-down-${i}`);
    try {
      for (const name of names) await admin.createTopics([{ name, partitions: 1 }]);
    } finally {
      await admin.close();
    }
    // The leader snapshotted past what the follower holds (and cut its log there).
    await waitForAsync(async () => snapshotEnds(cluster!.node(leaderAt).dataDir).some((end) => end > behindAt + 10), 'a leader snapshot past the follower', 10_000);

    await cluster.restart(follower);
    await waitForAsync(
      async () => {
        const m = await metadataAt(cluster!.node(follower).url);
        return m !== null && names.every((n) => m.topics.some((t) => t.name === n && t.errorCode === 0));
      },
      'the restarted follower serving every topic created while it was down',
      20_000,
    );
    expect(cluster.node(follower).errors()).toMatch(/installed the metadata leader's snapshot up to offset \d+/);
  }, 120_000);
});
