/**
 * ListOffsets as the consumer and admin need it: resolve 'earliest', 'latest' or a timestamp to
 * an offset per partition, in one request. Per-partition errors come back as values so that each
 * caller decides what is fatal.
 */
import { Apis } from '../../protocol/apis/index.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP } from '../../protocol/apis/list-offsets.js';
import { EddyError } from '../../protocol/errors.js';
import { serverError } from './client-errors.js';
import type { BrokerConnections } from './broker-connections.js';
import type { Connection } from './connection.js';
import { groupByTopic, tpKey, type TopicPartition } from './topic-partition.js';

/** Where to look: the log start, the high watermark, or the first record at or after a time. */
export type OffsetSpec = 'earliest' | 'latest' | { timestamp: number };

export interface OffsetQuery extends TopicPartition {
  spec: OffsetSpec;
}

export interface OffsetAnswer extends TopicPartition {
  /** -1 when a timestamp query matched no record. */
  offset: number;
  /** The matched record's timestamp for timestamp queries, else -1. */
  timestamp: number;
  error?: EddyError;
}

export function specTimestamp(spec: OffsetSpec): number {
  if (spec === 'earliest') return EARLIEST_TIMESTAMP;
  if (spec === 'latest') return LATEST_TIMESTAMP;
  if (!Number.isSafeInteger(spec.timestamp) || spec.timestamp < 0) {
    throw new RangeError(`timestamp must be a non-negative integer (ms since the epoch), got ${spec.timestamp}`);
  }
  return spec.timestamp;
}

/**
 * Answers in the same order as the queries. One ListOffsets request per round, where a round asks
 * each partition at most once: answers are matched by topic and partition, so a partition asked
 * twice in one request (as Kafka forbids) could not be told apart.
 */
export async function listOffsets(brokers: BrokerConnections, queries: readonly OffsetQuery[]): Promise<OffsetAnswer[]> {
  const rounds: { query: OffsetQuery; index: number }[][] = [];
  const seen = new Map<string, number>();
  queries.forEach((query, index) => {
    const key = tpKey(query.topic, query.partition);
    const round = seen.get(key) ?? 0;
    seen.set(key, round + 1);
    (rounds[round] ??= []).push({ query, index });
  });
  const answers: OffsetAnswer[] = new Array(queries.length);
  await Promise.all(
    rounds.map(async (round) => {
      const got = await listOffsetsByLeader(brokers, round.map((r) => r.query));
      got.forEach((a, i) => (answers[round[i]!.index] = a));
    }),
  );
  return answers;
}

/**
 * Asks each partition's leader (one request per leader). A partition whose leader is unknown or
 * unreachable, or that its node no longer leads, is answered with that (retriable) error and
 * marks the metadata stale, so that the next attempt asks the new leader.
 */
async function listOffsetsByLeader(brokers: BrokerConnections, queries: readonly OffsetQuery[]): Promise<OffsetAnswer[]> {
  const answers: OffsetAnswer[] = new Array(queries.length);
  const byLeader = new Map<Connection, number[]>();
  await Promise.all(
    queries.map(async (q, i) => {
      try {
        const { conn } = await brokers.leaderFor(q.topic, q.partition);
        const list = byLeader.get(conn);
        if (list) list.push(i);
        else byLeader.set(conn, [i]);
      } catch (err) {
        if (!(err instanceof EddyError)) throw err;
        answers[i] = { topic: q.topic, partition: q.partition, offset: -1, timestamp: -1, error: err };
      }
    }),
  );
  await Promise.all(
    [...byLeader].map(async ([conn, indexes]) => {
      let got: OffsetAnswer[];
      try {
        got = await listOffsetsOnce(conn, indexes.map((i) => queries[i]!));
      } catch (err) {
        if (!(err instanceof EddyError) || !err.retriable) throw err;
        brokers.invalidate();
        got = indexes.map((i) => ({ topic: queries[i]!.topic, partition: queries[i]!.partition, offset: -1, timestamp: -1, error: err }));
      }
      got.forEach((a, j) => {
        if (a.error?.errorName === 'NOT_LEADER_OR_FOLLOWER' || a.error?.errorName === 'LEADER_NOT_AVAILABLE') brokers.invalidate();
        answers[indexes[j]!] = a;
      });
    }),
  );
  return answers;
}

async function listOffsetsOnce(conn: Connection, queries: readonly OffsetQuery[]): Promise<OffsetAnswer[]> {
  const topics = [...groupByTopic(queries)].map(([name, qs]) => ({
    name,
    partitions: qs.map((q) => ({ partition: q.partition, timestamp: specTimestamp(q.spec) })),
  }));
  const res = await conn.request(Apis.ListOffsets, { topics });
  return queries.map(({ topic, partition }) => {
    const p = res.topics.find((t) => t.name === topic)?.partitions.find((x) => x.partition === partition);
    if (!p) {
      const error = new EddyError('UNKNOWN_SERVER_ERROR', `ListOffsets response omitted ${topic}-${partition}`);
      return { topic, partition, offset: -1, timestamp: -1, error };
    }
    if (p.errorCode !== 0) {
      return { topic, partition, offset: -1, timestamp: -1, error: serverError(p.errorCode, p.errorMessage, `${topic}-${partition}`) };
    }
    return { topic, partition, offset: p.offset, timestamp: p.timestamp };
  });
}
