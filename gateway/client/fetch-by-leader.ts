/**
 * The consumer's Fetch in a cluster: one request per partition leader, sent at once, answers
 * merged into one response. A partition whose leader is unknown or unreachable, or whose
 * leader's request fails, is left out of the merged answer (its position stays, the next fetch
 * asks again after a metadata refresh): the partitions of the other leaders keep flowing.
 */
import { Apis } from '../../protocol/apis/index.js';
import type { FetchRequest, FetchResponse } from '../../protocol/apis/fetch.js';
import { errorNameForCode, type ErrorName } from '../../protocol/errors.js';
import type { BrokerConnections } from './broker-connections.js';
import { isRetriable } from './client-errors.js';
import type { Connection } from './connection.js';
import type { TopicPartition } from './topic-partition.js';

export interface FetchTarget extends TopicPartition {
  position: number;
}

/** Per-partition answers that mean the leader moved: refresh metadata before the next fetch. */
const LEADER_MOVED = new Set<string>(['NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH'] satisfies ErrorName[]);

export async function fetchByLeader(
  brokers: BrokerConnections,
  targets: readonly FetchTarget[],
  body: (items: readonly FetchTarget[]) => FetchRequest,
  timeoutMs: number,
): Promise<FetchResponse> {
  const byLeader = new Map<Connection, FetchTarget[]>();
  const add = (t: FetchTarget, conn: Connection): void => {
    const list = byLeader.get(conn);
    if (list) list.push(t);
    else byLeader.set(conn, [t]);
  };
  let firstError: unknown;
  const slow: FetchTarget[] = [];
  for (const t of targets) {
    const conn = brokers.leaderNow(t.topic, t.partition);
    if (conn) add(t, conn);
    else slow.push(t);
  }
  if (byLeader.size > 0 && slow.length > 0) {
    // Some leaders are up: fetch from them now, and look the others up meanwhile (their
    // partitions join the next fetch), so that one unreachable leader never holds the rest.
    for (const t of slow) void brokers.leaderFor(t.topic, t.partition).catch(() => {});
    slow.length = 0;
  }
  await Promise.all(
    slow.map(async (t) => {
      try {
        add(t, (await brokers.leaderFor(t.topic, t.partition)).conn);
      } catch (err) {
        if (!isRetriable(err)) throw err;
        firstError ??= err;
      }
    }),
  );
  const answers = await Promise.allSettled(
    [...byLeader].map(([conn, items]) => conn.request(Apis.Fetch, body(items), { timeoutMs })),
  );
  const merged: FetchResponse = { topics: [] };
  let anyAnswer = false;
  for (const a of answers) {
    if (a.status === 'rejected') {
      if (!isRetriable(a.reason)) throw a.reason;
      brokers.invalidate(); // the leader's connection failed: it may have moved
      firstError ??= a.reason;
      continue;
    }
    anyAnswer = true;
    for (const t of a.value.topics) {
      merged.topics.push(t);
      if (t.partitions.some((p) => p.errorCode !== 0 && LEADER_MOVED.has(errorNameForCode(p.errorCode)))) brokers.invalidate();
    }
  }
  // Nothing came back at all: report why, so that the poll backs off before trying again.
  if (!anyAnswer && firstError !== undefined) throw firstError;
  return merged;
}
