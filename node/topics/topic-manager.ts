/**
 * Topics on this node: their definitions (persisted in the log store's `eddy_topics` table) and
 * the logs of the partitions this node hosts. The cluster's metadata log is the truth: the node's
 * metadata publisher (metadata-publisher.ts) `materialize`s each topic of the image here, with its
 * topic id, the partitions this node holds a replica of, and the ones it leads. A row with no
 * topic id is from before the cluster (the single-node version, or `create` in unit tests): it
 * hosts and leads all its partitions until the controller imports it.
 *
 * Crash safety without a multi-step transaction: a topic row is written (synced) before its
 * partitions are created (also when partitions are added) and deleted before they are dropped,
 * and `open` repairs both halves: missing partitions of a known topic are created, partitions of
 * no topic are dropped.
 */
import { EventEmitter } from 'node:events';
import { EddyError } from '../../protocol/errors.js';
import type { Logger } from '../logger.js';
import type { LogStore } from '../storage/log-store.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { applyTopicConfigChanges, resolveTopicConfig, validateTopicConfigs, type TopicConfig, type TopicConfigChanges } from './topic-config.js';
import { CLUSTER_METADATA_TOPIC, isInternalTopic, validateTopicName } from './topic-name.js';

export interface TopicInfo {
  name: string;
  partitions: number;
  replicationFactor: number;
  /** Configs set on the topic (defaults are not stored). */
  configs: Record<string, string>;
  createdAt: number;
  internal: boolean;
  /** The cluster-wide topic id from the metadata log; null: a topic from before the cluster, not yet imported. */
  topicId: string | null;
  /** The partitions this node holds a log of, ascending. */
  local: readonly number[];
}

/** A topic as the metadata image has it, for this node (see `materialize`). */
export interface MaterializedTopic {
  name: string;
  topicId: string;
  partitions: number;
  configs: Record<string, string>;
  /** Partitions with a replica on this node (their logs are kept here). */
  local: readonly number[];
  /** Of those, the ones this node leads now (the only ones it serves). */
  led: readonly number[];
}

export interface CreateTopicSpec {
  name: string;
  partitions: number;
  /** -1 means the node default (1). */
  replicationFactor: number;
  configs?: Record<string, string>;
}

/**
 * Upper bound on partitions per topic. Each partition is a table in the node's one SQLite file,
 * whose schema every connection parses at open; a gateway needs far fewer.
 */
export const MAX_PARTITIONS = 1000;

interface TopicRow {
  name: string;
  partitions: number;
  replication_factor: number;
  configs: string;
  created_at: number;
  topic_id: string | null;
  /** JSON list of local partitions; null: all of them. */
  local: string | null;
}

interface OpenTopic {
  info: TopicInfo;
  config: TopicConfig;
  /** By partition; absent where this node holds no replica. */
  logs: (PartitionLog | undefined)[];
  /** Partitions this node serves (leads). */
  led: Set<number>;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export class TopicManager {
  readonly #store: LogStore;
  readonly #logger: Logger;
  readonly #topics = new Map<string, OpenTopic>();
  /**
   * Emits 'change' when a topic is created, deleted or altered (waiting fetches re-check; the
   * group coordinator reassigns added partitions).
   */
  readonly events = new EventEmitter();
  /** Alters, partition increases and deletes run one at a time, so none interleaves another's awaits. */
  #changes: Promise<unknown> = Promise.resolve();

  private constructor(store: LogStore, logger: Logger) {
    this.#store = store;
    this.#logger = logger;
    this.events.setMaxListeners(0);
  }

  static async open(store: LogStore, logger: Logger): Promise<TopicManager> {
    await store.submit(
      [
        {
          sql: `CREATE TABLE IF NOT EXISTS eddy_topics (
            name TEXT PRIMARY KEY,
            partitions INTEGER NOT NULL,
            replication_factor INTEGER NOT NULL,
            configs TEXT NOT NULL,
            created_at INTEGER NOT NULL)`,
          args: [],
        },
      ],
      { sync: true },
    );
    // Columns of the cluster version; a data dir of the single-node version lacks them (its rows: null, null).
    const columns = new Set((store.reader.prepare('PRAGMA table_info(eddy_topics)').all() as { name: string }[]).map((c) => c.name));
    const added = [
      ...(columns.has('topic_id') ? [] : [{ sql: 'ALTER TABLE eddy_topics ADD COLUMN topic_id TEXT', args: [] }]),
      ...(columns.has('local') ? [] : [{ sql: 'ALTER TABLE eddy_topics ADD COLUMN local TEXT', args: [] }]),
    ];
    if (added.length > 0) await store.submit(added, { sync: true });
    const tm = new TopicManager(store, logger);
    const rows = store.reader.prepare('SELECT * FROM eddy_topics ORDER BY name').all() as TopicRow[];
    for (const row of rows) {
      const info: TopicInfo = {
        name: row.name,
        partitions: row.partitions,
        replicationFactor: row.replication_factor,
        configs: JSON.parse(row.configs) as Record<string, string>,
        createdAt: row.created_at,
        internal: isInternalTopic(row.name),
        topicId: row.topic_id,
        local: row.local === null ? range(row.partitions) : (JSON.parse(row.local) as number[]),
      };
      // Until the publisher applies the image, a cluster topic's local partitions are not served.
      await tm.#openTopic(info, info.topicId === null ? info.local : []);
    }
    for (const p of store.listPartitions()) {
      if (p.topic === CLUSTER_METADATA_TOPIC) continue; // the quorum driver's, not a topic
      const t = tm.#topics.get(p.topic);
      if (!t || !t.info.local.includes(p.partition)) {
        logger.warn({ topic: p.topic, partition: p.partition }, `dropping partition ${p.topic}-${p.partition}: it belongs to no topic (left by an interrupted delete or create)`);
        await store.dropPartition(p.topic, p.partition);
      }
    }
    return tm;
  }

  async #openTopic(info: TopicInfo, led: readonly number[]): Promise<void> {
    const config = resolveTopicConfig(info.configs);
    // Opened together, so that creating many partitions shares group commits (few syncs).
    const opened = await Promise.all(info.local.map((p) => this.#store.partition(info.name, p, { maxBatchBytes: config.maxMessageBytes })));
    const logs: (PartitionLog | undefined)[] = [];
    info.local.forEach((p, i) => (logs[p] = opened[i]));
    this.#topics.set(info.name, { info, config, logs, led: new Set(led) });
  }

  /**
   * Validates and creates a topic. Throws INVALID_TOPIC_EXCEPTION, TOPIC_ALREADY_EXISTS,
   * INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR or INVALID_CONFIG.
   */
  async create(spec: CreateTopicSpec, opts: { validateOnly?: boolean; internal?: boolean } = {}): Promise<TopicInfo> {
    validateTopicName(spec.name, { internal: opts.internal ?? false });
    if (this.#topics.has(spec.name)) throw new EddyError('TOPIC_ALREADY_EXISTS', `topic "${spec.name}" already exists`);
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1 || spec.partitions > MAX_PARTITIONS) {
      throw new EddyError('INVALID_PARTITIONS', `${spec.partitions} partitions requested; use 1 to ${MAX_PARTITIONS}`);
    }
    const rf = spec.replicationFactor === -1 ? 1 : spec.replicationFactor;
    if (rf !== 1) {
      throw new EddyError(
        'INVALID_REPLICATION_FACTOR',
        `replication factor ${spec.replicationFactor} needs ${spec.replicationFactor} nodes; this node runs alone (replication is not available yet)`,
      );
    }
    const configs = validateTopicConfigs(spec.configs ?? {});
    const info: TopicInfo = {
      name: spec.name,
      partitions: spec.partitions,
      replicationFactor: rf,
      configs,
      createdAt: Date.now(),
      internal: isInternalTopic(spec.name),
      topicId: null,
      local: range(spec.partitions),
    };
    if (opts.validateOnly) return info;
    await this.#insert(info);
    await this.#openTopic(info, info.local);
    // Internal topics are housekeeping the node does by itself: not news for the operator.
    this.#logger[info.internal ? 'debug' : 'info']({ topic: info.name, partitions: info.partitions, configs }, `created topic ${info.name}`);
    this.events.emit('change');
    return info;
  }

  /** Deletes a topic and its logs. Throws UNKNOWN_TOPIC_OR_PARTITION if it does not exist. */
  delete(name: string): Promise<void> {
    return this.#serial(() => this.#delete(name));
  }

  async #delete(name: string): Promise<void> {
    const t = this.#topics.get(name);
    if (!t) throw new EddyError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist`);
    this.#topics.delete(name);
    await this.#store.submit([{ sql: 'DELETE FROM eddy_topics WHERE name = ?', args: [name] }], { sync: true });
    await Promise.all(t.info.local.map((p) => this.#store.dropPartition(name, p)));
    this.#logger.info({ topic: name }, `deleted topic ${name}`);
    this.events.emit('change');
  }

  async #insert(info: TopicInfo): Promise<void> {
    await this.#store.submit(
      [
        {
          sql: 'INSERT INTO eddy_topics (name, partitions, replication_factor, configs, created_at, topic_id, local) VALUES (?, ?, ?, ?, ?, ?, ?)',
          args: [info.name, info.partitions, info.replicationFactor, JSON.stringify(info.configs), info.createdAt, info.topicId, info.topicId === null ? null : JSON.stringify(info.local)],
        },
      ],
      { sync: true },
    );
  }

  /**
   * Makes this node's copy of a topic what the metadata image says (the publisher calls it for
   * every topic of each new image, so it must be cheap when nothing changed): creates the topic,
   * or replaces one of the same name with another topic id (deleted and created again: its data
   * goes), or adopts a pre-cluster topic of that name that the controller imported (its logs
   * stay); opens logs of new local partitions, drops ones no longer local, applies configs, and
   * sets which partitions are served. Returns whether anything changed.
   */
  materialize(spec: MaterializedTopic): Promise<boolean> {
    return this.#serial(async () => {
      let t = this.#topics.get(spec.name);
      if (t && t.info.topicId !== null && t.info.topicId !== spec.topicId) {
        await this.#delete(spec.name);
        t = undefined;
      }
      const local = [...spec.local].sort((a, b) => a - b);
      const info: TopicInfo = {
        name: spec.name,
        partitions: spec.partitions,
        replicationFactor: t?.info.replicationFactor ?? 1,
        configs: { ...spec.configs },
        createdAt: t?.info.createdAt ?? Date.now(),
        internal: isInternalTopic(spec.name),
        topicId: spec.topicId,
        local,
      };
      const led = new Set(spec.led);
      if (t && sameTopic(t.info, info) && sameSet(t.led, led)) return false;
      if (!t) {
        await this.#insert(info);
      } else {
        await this.#store.submit(
          [
            {
              sql: 'UPDATE eddy_topics SET partitions = ?, configs = ?, topic_id = ?, local = ? WHERE name = ?',
              args: [info.partitions, JSON.stringify(info.configs), info.topicId, JSON.stringify(local), info.name],
            },
          ],
          { sync: true },
        );
        const gone = t.info.local.filter((p) => !local.includes(p));
        await Promise.all(gone.map((p) => this.#store.dropPartition(spec.name, p)));
      }
      const adopted = t !== undefined && t.info.topicId === null;
      await this.#openTopic(info, spec.led);
      const opened = this.#topics.get(spec.name)!;
      for (const log of opened.logs) log?.setMaxBatchBytes(opened.config.maxMessageBytes); // cached logs keep the old limit otherwise
      if (!t) this.#logger.debug({ topic: info.name, topicId: info.topicId, partitions: info.partitions, local }, `topic ${info.name} now on this node (partitions here: ${local.join(', ') || 'none'})`);
      else if (adopted) this.#logger.info({ topic: info.name, topicId: info.topicId }, `topic ${info.name} (from before the cluster) is now in the cluster metadata as ${info.topicId}`);
      this.events.emit('change');
      return true;
    });
  }

  /** Drops a topic the metadata image no longer has (deleted). */
  drop(name: string): Promise<void> {
    return this.#serial(() => this.#delete(name));
  }

  /**
   * Sets and deletes (reverts to the default) topic configs; the new max.message.bytes applies to
   * the next append. Throws UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION (internal topic),
   * INVALID_CONFIG or INVALID_REQUEST. Returns the topic as it is (or would be) after the change.
   */
  alterConfigs(name: string, changes: TopicConfigChanges, opts: { validateOnly?: boolean } = {}): Promise<TopicInfo> {
    return this.#serial(async () => {
      const t = this.#changeable(name, 'configs');
      const configs = applyTopicConfigChanges(t.info.configs, changes);
      const info: TopicInfo = { ...t.info, configs };
      if (opts.validateOnly) return info;
      await this.#store.submit([{ sql: 'UPDATE eddy_topics SET configs = ? WHERE name = ?', args: [JSON.stringify(configs), name] }], { sync: true });
      t.info = info;
      t.config = resolveTopicConfig(configs);
      for (const log of t.logs) log?.setMaxBatchBytes(t.config.maxMessageBytes);
      this.#logger.info({ topic: name, set: changes.set ?? {}, deleted: changes.delete ?? [], configs }, `altered configs of topic ${name}`);
      this.events.emit('change');
      return info;
    });
  }

  /**
   * Raises the topic's partition count to `total` (never lowers it). Throws
   * UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION (internal topic) or INVALID_PARTITIONS.
   * Keys hash to new partitions from now on, as in Kafka; records already stored stay where they are.
   */
  addPartitions(name: string, total: number, opts: { validateOnly?: boolean } = {}): Promise<TopicInfo> {
    return this.#serial(async () => {
      const t = this.#changeable(name, 'partitions');
      const current = t.info.partitions;
      if (!Number.isInteger(total) || total < 1 || total > MAX_PARTITIONS) {
        throw new EddyError('INVALID_PARTITIONS', `${total} partitions requested for topic ${name}; use ${current + 1} to ${MAX_PARTITIONS}`);
      }
      if (total < current) throw new EddyError('INVALID_PARTITIONS', `topic ${name} has ${current} partitions; partitions can only be added, never removed`);
      if (total === current) throw new EddyError('INVALID_PARTITIONS', `topic ${name} already has ${current} partitions; ask for more to add some`);
      const info: TopicInfo = { ...t.info, partitions: total, local: [...t.info.local, ...range(total).slice(current)] };
      if (opts.validateOnly) return info;
      // The row first (synced): a crash before the logs exist leaves a known topic with missing
      // partitions, which open() creates.
      await this.#store.submit([{ sql: 'UPDATE eddy_topics SET partitions = ? WHERE name = ?', args: [total, name] }], { sync: true });
      const added = range(total).slice(current);
      await this.#openTopic(info, [...t.led, ...added]); // the open partitions come from the store's cache; the new ones are created
      this.#logger.info({ topic: name, from: current, to: total }, `topic ${name} now has ${total} partitions (was ${current})`);
      this.events.emit('change');
      return info;
    });
  }

  /** The topic, if its configs and partitions may be changed by a client. */
  #changeable(name: string, what: string): OpenTopic {
    const t = this.#topics.get(name);
    if (!t) throw new EddyError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist`);
    if (t.info.internal) {
      throw new EddyError('INVALID_TOPIC_EXCEPTION', `"${name}" is an internal topic: the node manages its ${what}, which cannot be changed`);
    }
    return t;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#changes.then(fn, fn);
    this.#changes = run.catch(() => {});
    return run;
  }

  list(): TopicInfo[] {
    return [...this.#topics.values()].map((t) => t.info).sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): TopicInfo | undefined {
    return this.#topics.get(name)?.info;
  }

  /** The topic's effective configs (defaults filled in), resolved once per change, not per append. */
  config(name: string): TopicConfig | undefined {
    return this.#topics.get(name)?.config;
  }

  /**
   * The log of a partition this node serves (leads): the request path's way in. Throws
   * UNKNOWN_TOPIC_OR_PARTITION if there is no such topic or partition, NOT_LEADER_OR_FOLLOWER if
   * another node holds it or this node does not lead it now.
   */
  partition(topic: string, partition: number): PartitionLog {
    this.checkExists(topic, partition);
    const t = this.#topics.get(topic)!;
    const log = t.logs[partition];
    if (!log) throw new EddyError('NOT_LEADER_OR_FOLLOWER', `partition ${topic}-${partition} is on another node; refresh metadata to find its leader`);
    if (!t.led.has(partition)) throw new EddyError('NOT_LEADER_OR_FOLLOWER', `partition ${topic}-${partition} has no leader on this node right now (its broker may be fenced); refresh metadata and retry`);
    return log;
  }

  /** Throws UNKNOWN_TOPIC_OR_PARTITION unless the topic exists and has the partition (on any node). */
  checkExists(topic: string, partition: number): void {
    const t = this.#topics.get(topic);
    if (!t) throw new EddyError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${topic}" does not exist`);
    if (!Number.isInteger(partition) || partition < 0 || partition >= t.info.partitions) {
      throw new EddyError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${topic}" has partitions 0-${t.info.partitions - 1}, not ${partition}`);
    }
  }

  /** Whether this node serves (leads) the partition now. */
  leads(topic: string, partition: number): boolean {
    const t = this.#topics.get(topic);
    return t !== undefined && t.logs[partition] !== undefined && t.led.has(partition);
  }

  /** The logs this node holds of a topic, led or not (retention, compaction, gauges), by partition. */
  localLogs(topic: string): { partition: number; log: PartitionLog }[] {
    const t = this.#topics.get(topic);
    if (!t) return [];
    return t.info.local.flatMap((p) => (t.logs[p] ? [{ partition: p, log: t.logs[p] }] : []));
  }
}

function sameTopic(a: TopicInfo, b: TopicInfo): boolean {
  return (
    a.topicId === b.topicId &&
    a.partitions === b.partitions &&
    a.local.length === b.local.length &&
    a.local.every((p, i) => p === b.local[i]) &&
    JSON.stringify(Object.entries(a.configs).sort()) === JSON.stringify(Object.entries(b.configs).sort())
  );
}

function sameSet(a: ReadonlySet<number>, b: ReadonlySet<number>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}
