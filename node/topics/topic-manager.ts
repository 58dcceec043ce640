/**
 * Topics on this node: their definitions (persisted in the log store's `eddy_topics` table) and
 * their partition logs. Until the Raft metadata log exists this table is the metadata.
 *
 * Crash safety without a multi-step transaction: a topic row is written (synced) before its
 * partitions are created and deleted before they are dropped, and `open` repairs both halves:
 * missing partitions of a known topic are created, partitions of no topic are dropped.
 */
import { EventEmitter } from 'node:events';
import { EddyError } from '../protocol/errors.js';
import type { Logger } from '../logger.js';
import type { LogStore } from '../storage/log-store.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { resolveTopicConfig, validateTopicConfigs, type TopicConfig } from './topic-config.js';
import { isInternalTopic, validateTopicName } from './topic-name.js';

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
  /** Emits 'change' when a topic is created or deleted (waiting fetches re-check). */
  readonly events = new EventEmitter();

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
  async delete(name: string): Promise<void> {
    const t = this.#topics.get(name);
    if (!t) throw new EddyError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist`);
    this.#topics.delete(name);
    await this.#store.submit([{ sql: 'DELETE FROM eddy_topics WHERE name = ?', args: [name] }], { sync: true });
    await Promise.all(Array.from({ length: t.info.partitions }, (_, p) => this.#store.dropPartition(name, p)));
    this.#logger.info({ topic: name }, `deleted topic ${name}`);
    this.events.emit('change');
  }

  list(): TopicInfo[] {
    return [...this.#topics.values()].map((t) => t.info).sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): TopicInfo | undefined {
    return this.#topics.get(name)?.info;
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
