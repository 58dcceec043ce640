/**
 * `npm run bench -- cluster`: three `eddy start` processes on loopback form a metadata quorum over
 * peer links. Each round SIGKILLs the quorum leader and times how long until a survivor leads and
 * has committed a new metadata write (its epoch's LeaderChange entry and its broker registration:
 * the high watermark passes where the old leader left it), then restarts the killed node and
 * waits for it to catch up, so every kill starts from a healthy quorum.
 *
 * Then, on the healthy quorum, commitP50Ms: the round trip of a client's CreateTopics (one
 * partition) sent to the active controller, which commits it to the metadata log on a majority
 * and opens the partition before answering; and the same sent to a follower, which forwards it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { awaitBanner } from '../cli/banner.js';
import { Admin, type QuorumDescription } from '../gateway/client/index.js';
import { benchDir, machine, nowMs, percentile, result, round, say } from './lib.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.EDDY_BENCH_CLUSTER_ROUNDS ?? 12);
const CREATES = 50;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function describeAt(url: string): Promise<QuorumDescription | null> {
  const admin = new Admin({ server: url, requestTimeoutMs: 1000, reconnectBackoffMaxMs: 50 });
  try {
    return await admin.describeQuorum();
  } catch {
    return null;
  } finally {
    await admin.close().catch(() => {});
  }
}

export async function run(): Promise<void> {
  const { dir, cleanup } = benchDir('cluster');
  const ports = [await freePort(), await freePort(), await freePort()];
  const voters = ports.map((p, i) => `${i + 1}@ws://127.0.0.1:${p}`).join(',');
  const secret = join(dir, 'cluster.secret');
  writeFileSync(secret, 'bench-cluster-secret-0123456789\n', { mode: 0o600 });
  const entry = import.meta.url.endsWith('.ts') ? ['--import', 'tsx', join(ROOT, 'cli/main.ts')] : [join(ROOT, 'cli/main.js')];
  const children: (ChildProcess | undefined)[] = [];
  const start = async (i: number): Promise<void> => {
    const args = ['start', '--node-id', String(i + 1), '--controller-quorum-voters', voters, '--cluster-secret-file', secret];
    args.push('--port', String(ports[i]), '--no-mqtt', '--no-http', '--log-level', 'warn', '--data-dir', join(dir, `n${i + 1}`));
    const child = spawn(process.execPath, [...entry, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    await awaitBanner(child, 20_000);
    children[i] = child;
  };
  const urls = ports.map((p) => `ws://127.0.0.1:${p}`);
  const leader = async (among: number[], minHw: number, deadlineMs: number): Promise<{ at: number; q: QuorumDescription }> => {
    const end = nowMs() + deadlineMs;
    while (nowMs() < end) {
      for (const i of among) {
        const q = await describeAt(urls[i]!);
        if (q && q.highWatermark > minHw && q.brokers.some((b) => b.nodeId === q.leaderId)) return { at: i, q };
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`no metadata leader among nodes ${among.map((i) => i + 1).join(', ')} within ${deadlineMs} ms`);
  };
  try {
    await Promise.all([0, 1, 2].map(start));
    let { at, q } = await leader([0, 1, 2], 0, 20_000);
    const failovers: number[] = [];
    for (let round_ = 0; round_ < ROUNDS; round_++) {
      const hw = q.highWatermark;
      const killed = at;
      const child = children[killed]!;
      const exited = new Promise((r) => child.once('exit', r));
      const t0 = nowMs();
      child.kill('SIGKILL');
      ({ at, q } = await leader([0, 1, 2].filter((i) => i !== killed), hw, 20_000));
      failovers.push(nowMs() - t0);
      say(`round ${round_ + 1}: node ${killed + 1} killed, node ${at + 1} leads epoch ${q.leaderEpoch} after ${round(failovers.at(-1)!, 0)} ms`);
      await exited;
      await start(killed);
      // Each kill starts from a healthy quorum: the restarted node has caught up with the leader.
      const end = nowMs() + 20_000;
      for (;;) {
        const now = await describeAt(urls[at]!);
        const back = now?.voters.find((v) => v.nodeId === killed + 1);
        if (now && back && back.logEndOffset === now.voters.find((v) => v.nodeId === now.leaderId)!.logEndOffset) {
          q = now;
          break;
        }
        if (nowMs() > end) throw new Error(`node ${killed + 1} did not catch up with leader ${at + 1} within 20 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const sorted = [...failovers].sort((a, b) => a - b);
    const createP50 = async (url: string, prefix: string): Promise<number> => {
      const admin = new Admin({ server: url, requestTimeoutMs: 10_000 });
      try {
        await admin.createTopics([{ name: `${prefix}-warmup`, partitions: 1 }]);
        const times: number[] = [];
        for (let i = 0; i < CREATES; i++) {
          const t0 = nowMs();
          await admin.createTopics([{ name: `${prefix}-${i}`, partitions: 1 }]);
          times.push(nowMs() - t0);
        }
        return percentile(times.sort((a, b) => a - b), 50);
      } finally {
        await admin.close();
      }
    };
    const viaLeader = await createP50(urls[at]!, 'via-leader');
    const viaFollower = await createP50(urls[(at + 1) % 3]!, 'via-follower');
    say(`machine: ${machine()}`);
    say(`failover (SIGKILL of the leader -> next committed metadata write), ${ROUNDS} rounds: median ${round(percentile(sorted, 50), 0)} ms, p90 ${round(percentile(sorted, 90), 0)} ms`);
    say(`create-topic round trip p50 over ${CREATES} topics: ${round(viaLeader, 1)} ms at the controller, ${round(viaFollower, 1)} ms through a follower (forwarded)`);
    result({ suite: 'cluster', failoverMedianMs: round(percentile(sorted, 50), 1), failoverP90Ms: round(percentile(sorted, 90), 1), commitP50Ms: round(viaLeader, 1) });
  } finally {
    for (const c of children) c?.kill('SIGKILL');
    cleanup();
  }
}
