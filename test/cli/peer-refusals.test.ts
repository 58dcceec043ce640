/**
 * Peers that must not join, as real `eddy start` processes on 127.0.0.1: two voters of a
 * three-voter cluster run; a third process with the wrong secret, then one with the right secret
 * but another cluster id, then one whose voter list makes it a voter the cluster does not have,
 * each dials them. Every one is refused and counted by reason in /metrics (the first also logged:
 * refusals are logged once per address per minute), and the voters keep their quorum.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eddyStart, type EddyServer } from '../helpers/eddy-process.js';
import { freePorts } from '../helpers/cluster.js';
import { waitForAsync } from '../helpers/client.js';
import { describeQuorumAt } from '../helpers/cluster-views.js';
import { tempDir } from '../helpers/tmp.js';

const secretFile = (secret: string): string => {
  const f = join(tempDir(), 'cluster.secret');
  writeFileSync(f, `${secret}\n`, { mode: 0o600 });
  return f;
};

async function refusals(httpPort: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^eddy_peer_auth_failures_total\{reason="([A-Z_]+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

describe('eddy start: peers that do not belong are refused', () => {
  it('wrong secret, another cluster id, a voter the cluster does not have', async () => {
    const [p1, p2, p3, h1, h2] = await freePorts(5);
    const voters = `1@ws://127.0.0.1:${p1},2@ws://127.0.0.1:${p2},3@ws://127.0.0.1:${p3}`;
    const good = secretFile('the-right-secret-of-this-cluster');
    const clusterId = 'AAAAAAAAAAAAAAAAAAAAAw';
    const start = (id: number, port: number, extra: string[]): Promise<EddyServer> =>
      eddyStart(['--data-dir', tempDir(), '--port', String(port), '--node-id', String(id), '--no-mqtt', ...extra]);
    const started: EddyServer[] = [];
    try {
      for (const [id, port, http] of [[1, p1, h1], [2, p2, h2]] as const) {
        started.push(await start(id, port!, ['--controller-quorum-voters', voters, '--cluster-secret-file', good, '--cluster-id', clusterId, '--http-port', String(http)]));
      }
      await waitForAsync(async () => (await describeQuorumAt(`ws://127.0.0.1:${p1}`)) !== null || (await describeQuorumAt(`ws://127.0.0.1:${p2}`)) !== null, 'a leader among nodes 1 and 2', 20_000);

      const cases: { reason: string; args: string[] }[] = [
        { reason: 'BAD_PROOF', args: ['--controller-quorum-voters', voters, '--cluster-secret-file', secretFile('not-the-secret-of-this-cluster'), '--cluster-id', clusterId] },
        { reason: 'CLUSTER_ID_MISMATCH', args: ['--controller-quorum-voters', voters, '--cluster-secret-file', good, '--cluster-id', 'BBBBBBBBBBBBBBBBBBBBBw'] },
        // Node 3 under a voter list that has node 9 instead: as node 9 it claims a vote the cluster never gave.
        { reason: 'UNKNOWN_NODE_ID', args: ['--controller-quorum-voters', `1@ws://127.0.0.1:${p1},2@ws://127.0.0.1:${p2},9@ws://127.0.0.1:${p3}`, '--cluster-secret-file', good, '--cluster-id', clusterId] },
      ];
      for (const c of cases) {
        const id = c.reason === 'UNKNOWN_NODE_ID' ? 9 : 3;
        const impostor = await start(id, p3!, [...c.args, '--no-http']);
        await waitForAsync(async () => ((await refusals(h1!))[c.reason] ?? 0) > 0 && ((await refusals(h2!))[c.reason] ?? 0) > 0, `${c.reason} counted by both voters`, 15_000);
        // Logged once per address per minute (all three come from 127.0.0.1): the first one is.
        if (c === cases[0]) for (const v of started) expect(v.errors()).toContain(`refused: ${c.reason}`);
        expect(await impostor.stop()).toBe(0);
      }
      // The two voters still have their quorum, and never saw node 3 or 9 as one of theirs.
      const q = (await describeQuorumAt(`ws://127.0.0.1:${p1}`)) ?? (await describeQuorumAt(`ws://127.0.0.1:${p2}`));
      expect(q).not.toBeNull();
      expect(q!.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2]);
    } finally {
      for (const s of started) await s.stop().catch(() => {});
    }
  }, 120_000);
});
