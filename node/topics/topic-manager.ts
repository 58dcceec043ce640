/**
 * Topics on this node: their definitions (persisted in the log store's `eddy_topics` table) and
 * their partition logs. Until the Raft metadata log exists this table is the metadata.
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
}

export class TopicManager {
  readonly #store: LogStore;
  readonly #logger: Logger;
  readonly #topics = new Map<string, { info: TopicInfo; config: TopicConfig; logs: PartitionLog[] }>();
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
      };
      await tm.#openTopic(info);
    }
    for (const p of store.listPartitions()) {
      if (p.topic === CLUSTER_METADATA_TOPIC) continue; // the quorum driver's, not a topic
      const t = tm.#topics.get(p.topic);
      if (!t || p.partition >= t.info.partitions) {
        logger.warn({ topic: p.topic, partition: p.partition }, `dropping partition ${p.topic}-${p.partition}: it belongs to no topic (left by an interrupted delete or create)`);
        await store.dropPartition(p.topic, p.partition);
      }
    }
    return tm;
  }

  async #openTopic(info: TopicInfo): Promise<void> {
    const config = resolveTopicConfig(info.configs);
    // Opened together, so that creating many partitions shares group commits (few syncs).
    const logs: PartitionLog[] = await Promise.all(
      Array.from({ length: info.partitions }, (_, p) => this.#store.partition(info.name, p, { maxBatchBytes: config.maxMessageBytes })),
    );
    this.#topics.set(info.name, { info, config, logs });
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
    };
    if (opts.validateOnly) return info;
    await this.#store.submit(
      [
        {
          sql: 'INSERT INTO eddy_topics (name, partitions, replication_factor, configs, created_at) VALUES (?, ?, ?, ?, ?)',
          args: [info.name, info.partitions, info.replicationFactor, JSON.stringify(configs), info.createdAt],
        },
      ],
      { sync: true },
    );
    await this.#openTopic(info);
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
    await Promise.all(Array.from({ length: t.info.partitions }, (_, p) => this.#store.dropPartition(name, p)));
    this.#logger.info({ topic: name }, `deleted topic ${name}`);
    this.events.emit('change');
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
      for (const log of t.logs) log.setMaxBatchBytes(t.config.maxMessageBytes);
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
      const info: TopicInfo = { ...t.info, partitions: total };
      if (opts.validateOnly) return info;
      // The row first (synced): a crash before the logs exist leaves a known topic with missing
      // partitions, which open() creates.
      await this.#store.submit([{ sql: 'UPDATE eddy_topics SET partitions = ? WHERE name = ?', args: [total, name] }], { sync: true });
      await this.#openTopic(info); // the open partitions come from the store's cache; the new ones are created
      this.#logger.info({ topic: name, from: current, to: total }, `topic ${name} now has ${total} partitions (was ${current})`);
      this.events.emit('change');
      return info;
    });
  }

  /** The topic, if its configs and partitions may be changed by a client. */
  #changeable(name: string, what: string): { info: TopicInfo; config: TopicConfig; logs: PartitionLog[] } {
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

  /** The partition's log; throws UNKNOWN_TOPIC_OR_PARTITION if there is no such topic or partition. */
  partition(topic: string, partition: number): PartitionLog {
    const t = this.#topics.get(topic);
    if (!t) throw new EddyError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${topic}" does not exist`);
    const log = t.logs[partition];
    if (!log) {
      throw new EddyError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${topic}" has partitions 0-${t.info.partitions - 1}, not ${partition}`);
    }
    return log;
  }
}
