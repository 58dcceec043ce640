/**
 * The admin client: topics and what is in them, consumer groups and their offsets. Each call is
 * one or a few requests; per-topic, per-partition and per-group errors in the responses are thrown
 * as EddyError (the first one met, naming its topic or group), so that a caller never mistakes a
 * partial failure for success.
 */
import { Apis } from '../../protocol/apis/index.js';
import type { ConsumerGroupDescribeResponse } from '../../protocol/apis/consumer-group-describe.js';
import { ConfigOperation } from '../../protocol/apis/incremental-alter-configs.js';
import type { MetadataResponse } from '../../protocol/apis/metadata.js';
import { serverError } from './client-errors.js';
import { ERRORS } from '../../protocol/errors.js';
import { BrokerConnections } from './broker-connections.js';
import type { ServerList } from './bootstrap.js';
import { controllerRequest } from './controller-requests.js';
import { GroupCoordinator } from './group-coordinator.js';
import type { GroupDescription, GroupListing, GroupOffset, GroupState, OffsetReset } from './group-types.js';
import { describeLogDirs } from './describe-log-dirs.js';
import { listOffsets, type OffsetQuery } from './list-offsets.js';
import { reconnectBackoff, type ReconnectOptions } from './backoff.js';
import type { SocketFactory } from './socket.js';
import { groupByTopic, tpKey, type TopicPartition } from './topic-partition.js';

export interface AdminOptions extends ReconnectOptions {
  /**
   * The bootstrap list: `ws://host:port` of one node, or several (`'ws://a:9400,ws://b:9400'` or
   * an array). Topic admin goes to any broker, group calls to the group's coordinator.
   */
  server: ServerList;
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

/** Configs to set on a topic and configs to remove from it (they revert to the node default). */
export interface TopicConfigChanges {
  set?: Readonly<Record<string, string>>;
  delete?: readonly string[];
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

/** One replica of the metadata log as the quorum leader tracks it; −1 where unknown. */
export interface QuorumReplica {
  nodeId: number;
  logEndOffset: number;
  /** ms since the Unix epoch of the replica's last fetch (the leader's own: now). */
  lastFetchTimestamp: number;
  /** ms since the Unix epoch when the replica was last caught up to the leader's log end. */
  lastCaughtUpTimestamp: number;
}

/** A broker registered in the cluster metadata. */
export interface RegisteredBroker {
  nodeId: number;
  /** Its WebSocket URL. */
  endpoint: string;
  /** A fenced broker leads nothing and is given no new replicas. */
  fenced: boolean;
  brokerEpoch: number;
}

/** The metadata quorum (KRaft) as its leader sees it: DescribeQuorum (key 55). */
export interface QuorumDescription {
  /** Null when the metadata log has no cluster id yet. */
  clusterId: string | null;
  leaderId: number;
  leaderEpoch: number;
  highWatermark: number;
  voters: QuorumReplica[];
  observers: QuorumReplica[];
  brokers: RegisteredBroker[];
}

function throwFirst(errors: readonly { name: string; errorCode: number; errorMessage: string | null }[], what: string): void {
  const bad = errors.find((e) => e.errorCode !== 0);
  if (bad) throw serverError(bad.errorCode, bad.errorMessage, `${what} ${bad.name}`);
}

/** Manages topics and consumer groups on a node and reports on them. */
export class Admin {
  readonly #brokers: BrokerConnections;
  readonly #timeoutMs: number;
  readonly #coordinators = new Map<string, GroupCoordinator>();

  constructor(options: AdminOptions) {
    this.#timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#brokers = new BrokerConnections({
      servers: options.server,
      connection: {
        clientId: options.clientId ?? 'eddy-admin',
        requestTimeoutMs: this.#timeoutMs,
        ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
        reconnectBackoff: reconnectBackoff(options),
      },
    });
  }

  /** Requests for one group, sent to its coordinator. */
  #coordinator(groupId: string): GroupCoordinator {
    let c = this.#coordinators.get(groupId);
    if (!c) {
      c = new GroupCoordinator(this.#brokers, groupId, this.#timeoutMs);
      this.#coordinators.set(groupId, c);
    }
    return c;
  }

  /**
   * Creates topics. Throws EddyError for the first topic the node refused (e.g.
   * TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR); the others were created.
   * With `validateOnly` the node only checks the request.
   */
  async createTopics(topics: readonly NewTopic[], options: { validateOnly?: boolean } = {}): Promise<void> {
    const res = await controllerRequest(this.#brokers, Apis.CreateTopics, {
      topics: topics.map((t) => ({
        name: t.name,
        numPartitions: t.partitions,
        replicationFactor: t.replicationFactor ?? 1,
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs: this.#timeoutMs,
      validateOnly: options.validateOnly ?? false,
    }, this.#timeoutMs);
    throwFirst(res.topics, 'create topic');
  }

  /** Deletes topics and their logs. Throws EddyError for the first topic the node refused. */
  async deleteTopics(names: readonly string[]): Promise<void> {
    const res = await controllerRequest(this.#brokers, Apis.DeleteTopics, { names: [...names], timeoutMs: this.#timeoutMs }, this.#timeoutMs);
    throwFirst(res.topics, 'delete topic');
  }

  /**
   * Sets and deletes configs of a topic; a deleted config reverts to the node default, configs
   * not named keep their values. Throws INVALID_CONFIG (naming every bad entry; nothing changes),
   * UNKNOWN_TOPIC_OR_PARTITION, or INVALID_TOPIC_EXCEPTION for an internal topic.
   */
  async alterTopicConfigs(name: string, changes: TopicConfigChanges, options: { validateOnly?: boolean } = {}): Promise<void> {
    const configs = [
      ...Object.entries(changes.set ?? {}).map(([config, value]) => ({ name: config, operation: ConfigOperation.SET, value })),
      ...(changes.delete ?? []).map((config) => ({ name: config, operation: ConfigOperation.DELETE, value: null })),
    ];
    const res = await controllerRequest(this.#brokers, Apis.IncrementalAlterConfigs, { topics: [{ name, configs }], validateOnly: options.validateOnly ?? false }, this.#timeoutMs);
    throwFirst(res.topics, 'alter configs of topic');
  }

  /**
   * Raises a topic's partition count to `total` (the new total, as in Kafka; partitions are never
   * removed). Throws INVALID_PARTITIONS, UNKNOWN_TOPIC_OR_PARTITION, or INVALID_TOPIC_EXCEPTION.
   */
  async createPartitions(name: string, total: number, options: { validateOnly?: boolean } = {}): Promise<void> {
    const res = await controllerRequest(this.#brokers, Apis.CreatePartitions, {
      topics: [{ name, count: total }],
      timeoutMs: this.#timeoutMs,
      validateOnly: options.validateOnly ?? false,
    }, this.#timeoutMs);
    throwFirst(res.topics, 'create partitions of topic');
  }

  /** Names of the topics on the node (internal topics left out), sorted. */
  async listTopics(): Promise<string[]> {
    const res = await this.#brokers.request(Apis.Metadata, { topics: null });
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
    const metadata = await this.#brokers.request(Apis.Metadata, { topics: names ? [...names] : null });
    throwFirst(metadata.topics, 'topic');
    if (!names) metadata.topics = metadata.topics.filter((t) => !t.isInternal);
    const topics = metadata.topics.map((t) => t.name);
    if (topics.length === 0) return [];
    const [logDirs, configs] = await Promise.all([
      describeLogDirs(this.#brokers, topics),
      this.#brokers.request(Apis.DescribeConfigs, { topics: topics.map((name) => ({ name, configNames: null })) }),
    ]);
    throwFirst(configs.topics, 'configs of topic');
    const logs = new Map(logDirs.flatMap((t) => t.partitions.map((p) => [tpKey(t.name, p.partition), p] as const)));
    return metadata.topics.map((t) => describeTopic(t, logs, configs.topics.find((c) => c.name === t.name)?.configs ?? []));
  }

  /**
   * Offsets by time: 'earliest' (log start), 'latest' (high watermark) or `{ timestamp }` (first
   * record at or after it; offset -1 if none). Throws the first per-partition error.
   */
  async listOffsets(queries: readonly OffsetQuery[]): Promise<ListedOffset[]> {
    const answers = await listOffsets(this.#brokers, queries);
    const failed = answers.find((a) => a.error);
    if (failed?.error) throw failed.error;
    return answers.map(({ topic, partition, offset, timestamp }) => ({ topic, partition, offset, timestamp }));
  }

  /**
   * The node that coordinates a group (FindCoordinator, key 10): the leader of the group's
   * `__consumer_offsets` partition, where its members heartbeat and commit.
   */
  async findCoordinator(groupId: string): Promise<{ nodeId: number; host: string; port: number }> {
    const res = await this.#brokers.request(Apis.FindCoordinator, { key: groupId, keyType: 0 });
    if (res.errorCode !== 0) throw serverError(res.errorCode, res.errorMessage, `find the coordinator of group ${groupId}`);
    return { nodeId: res.nodeId, host: res.host, port: res.port };
  }

  /**
   * The metadata quorum: leader, epoch, high watermark, each voter's and observer's replication
   * state, the cluster id and the registered brokers. Only the quorum leader answers: another
   * node throws NOT_LEADER_OR_FOLLOWER naming the leader it knows.
   */
  async describeQuorum(options: { followLeader?: boolean } = {}): Promise<QuorumDescription> {
    let res = await this.#brokers.request(Apis.DescribeQuorum, {});
    // Only the quorum leader answers (it alone sees the replicas' fetches); the others name it.
    if (options.followLeader && res.errorCode === ERRORS.NOT_LEADER_OR_FOLLOWER.code && res.leaderId >= 0) {
      if (this.#brokers.nodeUrl(res.leaderId) === undefined) await this.#brokers.refresh();
      const url = this.#brokers.nodeUrl(res.leaderId);
      if (url !== undefined) res = await this.#brokers.connection(url).request(Apis.DescribeQuorum, {});
    }
    if (res.errorCode !== 0) throw serverError(res.errorCode, res.errorMessage, 'describe the metadata quorum');
    const replica = (r: (typeof res.currentVoters)[number]): QuorumReplica => ({
      nodeId: r.replicaId,
      logEndOffset: r.logEndOffset,
      lastFetchTimestamp: r.lastFetchTimestamp,
      lastCaughtUpTimestamp: r.lastCaughtUpTimestamp,
    });
    return {
      clusterId: res.clusterId,
      leaderId: res.leaderId,
      leaderEpoch: res.leaderEpoch,
      highWatermark: res.highWatermark,
      voters: res.currentVoters.map(replica),
      observers: res.observers.map(replica),
      brokers: res.brokers.map((b) => ({ nodeId: b.brokerId, endpoint: b.endpoint, fenced: b.fenced, brokerEpoch: b.brokerEpoch })),
    };
  }

  /** Every group with members or committed offsets, sorted by id. */
  async listGroups(): Promise<GroupListing[]> {
    // Each node lists the groups it coordinates: ask every broker and merge.
    const answers = await Promise.all((await this.#brokers.allBrokers()).map(({ conn }) => conn.request(Apis.ListGroups, { statesFilter: [] })));
    const groups = new Map(answers.flatMap((res) => res.groups.map((g) => [g.groupId, g] as const)));
    return [...groups.values()]
      .map((g) => ({ groupId: g.groupId, state: g.state as GroupState, members: g.members, assignor: g.assignor || null }))
      .sort((a, b) => compare(a.groupId, b.groupId));
  }

  /**
   * Members, assignments and, for every partition the group subscribes to or has committed, the
   * committed offset, log end, high watermark and lag. Throws GROUP_ID_NOT_FOUND for a group with
   * neither members nor commits.
   */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    const res = await this.#coordinator(groupId).request(Apis.ConsumerGroupDescribe, { groupIds: [groupId] });
    const g = res.groups.find((x) => x.groupId === groupId);
    if (!g) throw serverError(-1, 'ConsumerGroupDescribe response omitted the group', `group ${groupId}`);
    if (g.errorCode !== 0) throw serverError(g.errorCode, g.errorMessage, `describe group ${groupId}`);
    const d = describeGroup(g);
    // The coordinator knows the log positions of the partitions it leads; the others' high
    // watermarks come from their leaders (as Kafka's tool does), where those answer.
    const unknown = d.partitions.filter((p) => p.highWatermark < 0);
    if (unknown.length > 0) {
      const answers = await listOffsets(this.#brokers, unknown.map((p) => ({ topic: p.topic, partition: p.partition, spec: 'latest' as const }))).catch(() => []);
      answers.forEach((a, i) => {
        const p = unknown[i]!;
        if (a.error || a.offset < 0) return;
        p.highWatermark = a.offset;
        if (p.committedOffset !== null) p.lag = a.offset - p.committedOffset;
      });
    }
    return d;
  }

  /**
   * Deletes groups and their committed offsets. Throws EddyError for the first group the node
   * refused (NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND); the others were deleted.
   */
  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    // Each group at its own coordinator.
    const answers = await Promise.all(groupIds.map((id) => this.#coordinator(id).request(Apis.DeleteGroups, { groupIds: [id] })));
    throwFirst(answers.flatMap((res) => res.results).map((r) => ({ name: r.groupId, errorCode: r.errorCode, errorMessage: r.errorMessage })), 'delete group');
  }

  /**
   * The group's committed offsets, sorted by topic and partition: of the given partitions (offset
   * null where nothing is committed), or of every partition with a commit when omitted. Throws the
   * first per-partition error (e.g. UNKNOWN_TOPIC_OR_PARTITION).
   */
  async fetchOffsets(groupId: string, partitions?: readonly TopicPartition[]): Promise<GroupOffset[]> {
    const topics = partitions ? [...groupByTopic(partitions)].map(([name, tps]) => ({ name, partitions: tps.map((tp) => tp.partition) })) : null;
    const res = await this.#coordinator(groupId).request(Apis.OffsetFetch, { groupId, topics });
    const flat = res.topics.flatMap((t) => t.partitions.map((p) => ({ name: `${t.name}-${p.partition} of group ${groupId}`, topic: t.name, ...p })));
    throwFirst(flat, 'fetch offset of');
    return flat
      .map(({ topic, partition, committedOffset, metadata }) => ({ topic, partition, offset: committedOffset < 0 ? null : committedOffset, metadata }))
      .sort(byTopicPartition);
  }

  /**
   * Commits offsets for a group without being a member of it (memberId "", epoch -1), as `eddy
   * groups reset-offsets` does; a group that does not exist yet is created by it. The node allows
   * this only while the group has no members: otherwise every partition is refused with
   * NON_EMPTY_GROUP (stop the consumers first). Throws the first per-partition error; the other
   * partitions were committed.
   */
  async resetOffsets(groupId: string, offsets: readonly OffsetReset[]): Promise<void> {
    const res = await this.#coordinator(groupId).request(Apis.OffsetCommit, {
      groupId,
      memberId: '',
      memberEpoch: -1,
      topics: [...groupByTopic(offsets)].map(([name, os]) => ({
        name,
        partitions: os.map((o) => ({ partition: o.partition, committedOffset: o.offset, committedMetadata: o.metadata ?? null })),
      })),
    });
    throwFirst(
      res.topics.flatMap((t) => t.partitions.map((p) => ({ ...p, name: `${t.name}-${p.partition} for group ${groupId}` }))),
      'reset offset of',
    );
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    await this.#brokers.close();
  }
}

type MetadataTopic = MetadataResponse['topics'][number];
type LogDirPartition = { sizeBytes: number; logStartOffset: number; logEndOffset: number; highWatermark: number };

function describeTopic(t: MetadataTopic, logs: ReadonlyMap<string, LogDirPartition>, configs: ConfigEntry[]): TopicDescription {
  const partitions = t.partitions.map((p): PartitionDescription => {
    // A leaderless partition is described as such (leader -1), not an error: describing is how one finds it.
    if (p.errorCode !== 0 && p.errorCode !== ERRORS.LEADER_NOT_AVAILABLE.code) throw serverError(p.errorCode, null, `partition ${t.name}-${p.partition}`);
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

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byTopicPartition = (a: TopicPartition, b: TopicPartition): number => compare(a.topic, b.topic) || a.partition - b.partition;

type DescribedGroup = ConsumerGroupDescribeResponse['groups'][number];

function flattenPartitions(list: readonly { topic: string; partitions: readonly number[] }[]): TopicPartition[] {
  return list.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition }))).sort(byTopicPartition);
}

/** The wire's -1 ("none") becomes null. */
function describeGroup(g: DescribedGroup): GroupDescription {
  return {
    groupId: g.groupId,
    state: g.state as GroupState,
    groupEpoch: g.groupEpoch,
    assignmentEpoch: g.assignmentEpoch,
    assignor: g.assignor || null,
    members: g.members.map((m) => ({
      memberId: m.memberId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      memberEpoch: m.memberEpoch,
      subscribedTopicNames: m.subscribedTopicNames,
      subscribedTopicRegex: m.subscribedTopicRegex,
      assignment: flattenPartitions(m.assignment),
      targetAssignment: flattenPartitions(m.targetAssignment),
    })),
    partitions: g.offsets
      .map((o) => ({
        topic: o.topic,
        partition: o.partition,
        committedOffset: o.committedOffset < 0 ? null : o.committedOffset,
        metadata: o.metadata,
        logEndOffset: o.logEndOffset,
        highWatermark: o.highWatermark,
        lag: o.lag < 0 ? null : o.lag,
        owner: o.owner,
      }))
      .sort(byTopicPartition),
  };
}
