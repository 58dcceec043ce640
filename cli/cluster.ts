/**
 * `eddy cluster describe`, after Kafka's `kafka-metadata-quorum describe --status` and
 * `--replication` in one: the quorum's leader, epoch and high watermark, each voter's and
 * observer's replication state, and the brokers registered in the cluster metadata.
 */
import type { Command } from 'commander';
import { newClusterId } from '../node/cluster/cluster-identity.js';
import type { QuorumDescription, QuorumReplica } from '../gateway/client/index.js';
import { withAdmin } from './admin-client.js';
import { withServer } from './server-option.js';
import { table } from './table.js';

type Out = (line: string) => void;

/** "120 ms ago", "never" for −1 (the leader has not heard from the replica). */
function ago(ts: number, now: number): string {
  if (ts < 0) return 'never';
  return `${Math.max(0, now - ts)} ms ago`;
}

/** The lines of `eddy cluster describe`; `now` is the local clock (ms since the epoch). */
export function describeClusterLines(q: QuorumDescription, now: number): string[] {
  const leader = q.voters.find((v) => v.nodeId === q.leaderId);
  const leaderEnd = leader?.logEndOffset ?? q.highWatermark;
  const lag = (r: QuorumReplica): number | null => (r.logEndOffset < 0 ? null : Math.max(0, leaderEnd - r.logEndOffset));
  const followers = [...q.voters, ...q.observers].filter((r) => r.nodeId !== q.leaderId);
  const lags = followers.map(lag);
  const known = lags.filter((l): l is number => l !== null);
  const maxLag = followers.length === 0 ? '0' : known.length === lags.length ? String(Math.max(...known)) : `unknown (${lags.length - known.length} of ${lags.length} not heard from)`;
  const caughtUp = followers.map((r) => r.lastCaughtUpTimestamp);
  const maxLagTime = followers.length === 0 ? '0' : caughtUp.some((t) => t < 0) ? 'unknown' : String(Math.max(...caughtUp.map((t) => Math.max(0, now - t))));
  const ids = (rs: readonly QuorumReplica[]): string => `[${rs.map((r) => r.nodeId).join(',')}]`;
  const status: [string, string | number][] = [
    ['ClusterId', q.clusterId ?? '- (not yet in the metadata log)'],
    ['LeaderId', q.leaderId],
    ['LeaderEpoch', q.leaderEpoch],
    ['HighWatermark', q.highWatermark],
    ['MaxFollowerLag', maxLag],
    ['MaxFollowerLagTimeMs', maxLagTime],
    ['CurrentVoters', ids(q.voters)],
    ['CurrentObservers', ids(q.observers)],
  ];
  const width = Math.max(...status.map(([k]) => k.length)) + 1;
  const lines = status.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`);
  lines.push('');
  const row = (r: QuorumReplica, role: string): (string | number)[] => [
    r.nodeId,
    r.logEndOffset < 0 ? '-' : r.logEndOffset,
    lag(r) ?? '-',
    ago(r.lastFetchTimestamp, now),
    ago(r.lastCaughtUpTimestamp, now),
    role,
  ];
  lines.push(
    table(
      ['NODE-ID', 'LOG-END-OFFSET', 'LAG', 'LAST-FETCH', 'LAST-CAUGHT-UP', 'STATUS'],
      [...q.voters.map((r) => row(r, r.nodeId === q.leaderId ? 'Leader' : 'Follower')), ...q.observers.map((r) => row(r, 'Observer'))],
    ),
  );
  lines.push('');
  if (q.brokers.length === 0) lines.push('no brokers registered in the cluster metadata');
  else {
    lines.push(
      table(
        ['BROKER-ID', 'ENDPOINT', 'BROKER-EPOCH', 'STATE'],
        q.brokers.map((b) => [b.nodeId, b.endpoint, b.brokerEpoch, b.fenced ? 'fenced' : 'unfenced']),
      ),
    );
  }
  return lines;
}

export function registerCluster(program: Command, out: Out): void {
  const cluster = program.command('cluster').description('the metadata quorum and the brokers of the cluster');

  withServer(
    cluster
      .command('describe')
      .description('leader, epoch and high watermark of the metadata quorum, the replication state of each node, and the registered brokers (any node: the quorum leader answers)'),
  ).action(async (o: { server?: string }) => {
    const q = await withAdmin(o.server, (a) => a.describeQuorum({ followLeader: true }));
    for (const line of describeClusterLines(q, Date.now())) out(line);
  });

  cluster
    .command('new-id')
    .description('print a new random cluster id, to give every node of a new cluster as --cluster-id (as kafka-storage random-uuid)')
    .action(() => out(newClusterId()));
}
