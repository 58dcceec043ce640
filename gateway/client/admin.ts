/**
 * The admin client: topics and what is in them. Each call is one or a few requests; per-topic
 * and per-partition errors in the responses are thrown as EddyError (the first one met, naming
 * its topic), so that a caller never mistakes a partial failure for success.
 */
import { Apis } from '../../node/protocol/apis/index.js';
import type { MetadataResponse } from '../../node/protocol/apis/metadata.js';
import { serverError } from './client-errors.js';
import { Connection } from './connection.js';
import { listOffsets, type OffsetQuery } from './list-offsets.js';
import type { SocketFactory } from './socket.js';
import { tpKey, type TopicPartition } from './topic-partition.js';

export interface AdminOptions {
  /** `ws://host:port` of the node. */
  server: string;
  clientId?: string;
  /** Per request. Default 30 s. */
  requestTimeoutMs?: number;
  /** The transport; defaults to the `ws` package. */
  socketFactory?: SocketFactory;
}

export interface NewTopic {
  name: string;
  partitions: number;
  /** Default 1 (a single node has no followers to replicate to). */
  replicationFactor?: number;
  /** Topic configs (e.g. retention.ms), overriding the node defaults. */
  configs?: Readonly<Record<string, string>>;
}

export interface PartitionDescription {
  partition: number;
  /** Node id of the leader. */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  /** -1 where the node reported no log for the partition. */
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
  sizeBytes: number;
}

export interface ConfigEntry {
  name: string;
  value: string;
  /** "topic" when set on the topic, "default" when it is the node default. */
  source: string;
}

export interface TopicDescription {
  name: string;
  isInternal: boolean;
  partitions: PartitionDescription[];
  configs: ConfigEntry[];
}

export interface ListedOffset extends TopicPartition {
  /** -1 when a timestamp query matched no record. */
  offset: number;
  timestamp: number;
}

function throwFirst(errors: readonly { name: string; errorCode: number; errorMessage: string | null }[], what: string): void {
  const bad = errors.find((e) => e.errorCode !== 0);
  if (bad) throw serverError(bad.errorCode, bad.errorMessage, `${what} ${bad.name}`);
}

/** Manages topics on a node and reports on them. */
export class Admin {
  readonly #conn: Connection;
  readonly #timeoutMs: number;

  constructor(options: AdminOptions) {
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#conn = new Connection({
      url: options.server,
      clientId: options.clientId ?? 'eddy-admin',
      requestTimeoutMs: this.#timeoutMs,
      ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
    });
  }

  /**
   * Creates topics. Throws EddyError for the first topic the node refused (e.g.
   * TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR); the others were created.
   * With `validateOnly` the node only checks the request.
   */
  async createTopics(topics: readonly NewTopic[], options: { validateOnly?: boolean } = {}): Promise<void> {
    const res = await this.#conn.request(Apis.CreateTopics, {
      topics: topics.map((t) => ({
        name: t.name,
        numPartitions: t.partitions,
        replicationFactor: t.replicationFactor ?? 1,
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs: this.#timeoutMs,
      validateOnly: options.validateOnly ?? false,
    });
    throwFirst(res.topics, 'create topic');
  }

  /** Deletes topics and their logs. Throws EddyError for the first topic the node refused. */
  async deleteTopics(names: readonly string[]): Promise<void> {
    const res = await this.#conn.request(Apis.DeleteTopics, { names: [...names], timeoutMs: this.#timeoutMs });
    throwFirst(res.topics, 'delete topic');
  }

  /** Names of the topics on the node (internal topics left out), sorted. */
  async listTopics(): Promise<string[]> {
    const res = await this.#conn.request(Apis.Metadata, { topics: null });
    return res.topics
      .filter((t) => t.errorCode === 0 && !t.isInternal)
      .map((t) => t.name)
      .sort();
  }

  /**
   * Leader, replicas, offsets and size of every partition, and the effective configs, of the
   * named topics (all but internal topics when omitted). Throws UNKNOWN_TOPIC_OR_PARTITION for a
   * missing topic.
   */
  async describeTopics(names?: readonly string[]): Promise<TopicDescription[]> {
    const metadata = await this.#conn.request(Apis.Metadata, { topics: names ? [...names] : null });
    throwFirst(metadata.topics, 'topic');
    if (!names) metadata.topics = metadata.topics.filter((t) => !t.isInternal);
    const topics = metadata.topics.map((t) => t.name);
    if (topics.length === 0) return [];
    const [logDirs, configs] = await Promise.all([
      this.#conn.request(Apis.DescribeLogDirs, { topics }),
      this.#conn.request(Apis.DescribeConfigs, { topics: topics.map((name) => ({ name, configNames: null })) }),
    ]);
    throwFirst(logDirs.topics, 'log dir of topic');
    throwFirst(configs.topics, 'configs of topic');
    const logs = new Map(logDirs.topics.flatMap((t) => t.partitions.map((p) => [tpKey(t.name, p.partition), p] as const)));
    return metadata.topics.map((t) => describeTopic(t, logs, configs.topics.find((c) => c.name === t.name)?.configs ?? []));
  }

  /**
   * Offsets by time: 'earliest' (log start), 'latest' (high watermark) or `{ timestamp }` (first
   * record at or after it; offset -1 if none). Throws the first per-partition error.
   */
  async listOffsets(queries: readonly OffsetQuery[]): Promise<ListedOffset[]> {
    const answers = await listOffsets(this.#conn, queries);
    const failed = answers.find((a) => a.error);
    if (failed?.error) throw failed.error;
    return answers.map(({ topic, partition, offset, timestamp }) => ({ topic, partition, offset, timestamp }));
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    await this.#conn.close();
  }
}

type MetadataTopic = MetadataResponse['topics'][number];
type LogDirPartition = { sizeBytes: number; logStartOffset: number; logEndOffset: number; highWatermark: number };

function describeTopic(t: MetadataTopic, logs: ReadonlyMap<string, LogDirPartition>, configs: ConfigEntry[]): TopicDescription {
  const partitions = t.partitions.map((p): PartitionDescription => {
    if (p.errorCode !== 0) throw serverError(p.errorCode, null, `partition ${t.name}-${p.partition}`);
    const log = logs.get(tpKey(t.name, p.partition));
    return {
      partition: p.partition,
      leader: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicas: p.replicas,
      isr: p.isr,
      logStartOffset: log?.logStartOffset ?? -1,
      logEndOffset: log?.logEndOffset ?? -1,
      highWatermark: log?.highWatermark ?? -1,
      sizeBytes: log?.sizeBytes ?? -1,
    };
  });
  partitions.sort((a, b) => a.partition - b.partition);
  return { name: t.name, isInternal: t.isInternal, partitions, configs: configs.map(({ name, value, source }) => ({ name, value, source })) };
}
