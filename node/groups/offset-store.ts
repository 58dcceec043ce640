/**
 * Committed offsets: kept in memory, made durable as records of the internal compacted topic
 * `__consumer_offsets` (so they replicate like any partition once replication exists), and
 * rebuilt from that topic when the node starts. A commit is acknowledged only after its record
 * is appended (and synced per the store's policy), and only then becomes visible to OffsetFetch.
 * Appends go through the replica manager as the node's own (`internal`) writes: the only writer
 * allowed on the internal topic, with the disk guard's headroom for bookkeeping.
 */
import type { Logger } from '../logger.js';
import { EddyError } from '../../protocol/errors.js';
import { coordinatorPartition } from '../controller/metadata/image.js';
import { encodeRecordBatch, forEachRecord } from '../../protocol/record-batch.js';
import { tpKey } from '../../protocol/topic-partition.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { TopicManager } from '../topics/topic-manager.js';
import { decodeOffsetRecord, encodeOffsetKey, encodeOffsetValue } from './offset-records.js';

export const OFFSETS_TOPIC = '__consumer_offsets';
/** Groups spread over this many partitions (by hash of the group id), as Kafka's 50 do across brokers. */
export const OFFSETS_TOPIC_PARTITIONS = 4;
export const MAX_OFFSET_METADATA_CHARS = 4096;
/** How the controller creates `__consumer_offsets` (compacted), once per cluster. */
export const OFFSETS_TOPIC_SPEC = { name: OFFSETS_TOPIC, partitions: OFFSETS_TOPIC_PARTITIONS, replicationFactor: -1, configs: { 'cleanup.policy': 'compact' } } as const;

export interface CommittedOffset {
  offset: number;
  metadata: string | null;
  commitTimestamp: number;
}

export interface OffsetCommitEntry {
  topic: string;
  partition: number;
  offset: number;
  metadata: string | null;
}

const READ_CHUNK_BYTES = 1024 * 1024;

export class OffsetStore {
  readonly #topics: TopicManager;
  readonly #replicas: ReplicaManager;
  /** group → "topic\0partition" → committed offset */
  readonly #groups = new Map<string, Map<string, CommittedOffset & { topic: string; partition: number }>>();
  readonly #clock: () => number;
  readonly #logger: Logger;
  /** The partitions of `__consumer_offsets` whose commits are loaded (the ones this node leads). */
  readonly #loaded = new Set<number>();

  private constructor(topics: TopicManager, replicas: ReplicaManager, logger: Logger, clock: () => number) {
    this.#topics = topics;
    this.#replicas = replicas;
    this.#logger = logger;
    this.#clock = clock;
  }

  /**
   * Loads the commits of every `__consumer_offsets` partition this node leads. The topic is the
   * controller's to create (OFFSETS_TOPIC_SPEC); until it exists no group has a coordinator.
   */
  static async open(topics: TopicManager, replicas: ReplicaManager, logger: Logger, clock: () => number = Date.now): Promise<OffsetStore> {
    const store = new OffsetStore(topics, replicas, logger, clock);
    store.loadNewPartitions();
    return store;
  }

  /**
   * Loads the commits of led partitions not loaded yet, and forgets those of partitions no
   * longer led here (their groups moved). Called at open and on every topic change.
   */
  loadNewPartitions(): void {
    const led = new Set(
      this.#topics
        .localLogs(OFFSETS_TOPIC)
        .map((l) => l.partition)
        .filter((p) => this.#topics.leads(OFFSETS_TOPIC, p)),
    );
    for (const p of [...this.#loaded]) {
      if (led.has(p)) continue;
      this.#loaded.delete(p);
      for (const group of [...this.#groups.keys()]) if (this.#partitionOf(group) === p || !this.#topics.get(OFFSETS_TOPIC)) this.#groups.delete(group);
    }
    let records = 0;
    let skipped = 0;
    for (const p of led) {
      if (this.#loaded.has(p)) continue;
      const r = this.#load(p);
      records += r.records;
      skipped += r.skipped;
      this.#loaded.add(p);
    }
    if (skipped > 0) {
      this.#logger.warn({ topic: OFFSETS_TOPIC, skipped }, `skipped ${skipped} unreadable record(s) in ${OFFSETS_TOPIC}; the commits they held are lost and those groups restart from auto.offset.reset`);
    }
    if (records > 0) this.#logger.debug({ records, groups: this.#groups.size }, `loaded committed offsets: ${this.#groups.size} group(s) coordinated here`);
  }

  #load(p: number): { records: number; skipped: number } {
    let records = 0;
    let skipped = 0;
    const log = this.#topics.partition(OFFSETS_TOPIC, p);
    let from = log.logStartOffset;
    while (from < log.logEndOffset) {
      const chunk = log.read(from, READ_CHUNK_BYTES, { upTo: 'log-end' });
      if (chunk.batches.length === 0) break;
      for (const batch of chunk.batches) {
        forEachRecord(batch, (_offset, _ts, key, value) => {
          records++;
          try {
            const r = decodeOffsetRecord(key, value);
            this.#apply(r.key.group, r.key.topic, r.key.partition, r.value);
          } catch {
            skipped++;
          }
        });
      }
      from = chunk.nextOffset;
    }
    return { records, skipped };
  }

  #apply(group: string, topic: string, partition: number, value: CommittedOffset | null): void {
    const key = tpKey(topic, partition);
    if (value === null) {
      const g = this.#groups.get(group);
      g?.delete(key);
      if (g?.size === 0) this.#groups.delete(group);
      return;
    }
    let g = this.#groups.get(group);
    if (!g) this.#groups.set(group, (g = new Map()));
    g.set(key, { topic, partition, ...value });
  }

  /**
   * The `__consumer_offsets` partition that holds a group's commits; its leader coordinates the
   * group. Throws COORDINATOR_NOT_AVAILABLE while the topic does not exist yet.
   */
  partitionFor(group: string): number {
    const p = this.#partitionOf(group);
    if (p === undefined) throw new EddyError('COORDINATOR_NOT_AVAILABLE', `${OFFSETS_TOPIC} does not exist yet (the controller creates it on first use); retry shortly`);
    return p;
  }

  #partitionOf(group: string): number | undefined {
    const partitions = this.#topics.get(OFFSETS_TOPIC)?.partitions;
    return partitions === undefined ? undefined : coordinatorPartition(group, partitions);
  }

  /** Throws NOT_COORDINATOR unless this node leads the group's offsets partition (COORDINATOR_NOT_AVAILABLE before the topic exists). */
  checkCoordinator(group: string): void {
    const p = this.partitionFor(group);
    if (!this.#topics.leads(OFFSETS_TOPIC, p) || !this.#loaded.has(p)) {
      throw new EddyError('NOT_COORDINATOR', `this node does not coordinate group "${group}": its coordinator is the leader of ${OFFSETS_TOPIC}-${p}; ask FindCoordinator`);
    }
  }

  /** Whether this node coordinates the group now. */
  coordinates(group: string): boolean {
    const p = this.#partitionOf(group);
    return p !== undefined && this.#loaded.has(p) && this.#topics.leads(OFFSETS_TOPIC, p);
  }

  /** Group ids with at least one committed offset. */
  groupIds(): string[] {
    return [...this.#groups.keys()];
  }

  has(group: string): boolean {
    return this.#groups.has(group);
  }

  get(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.#groups.get(group)?.get(tpKey(topic, partition));
  }

  /** Every committed offset of the group. */
  list(group: string): (CommittedOffset & { topic: string; partition: number })[] {
    return [...(this.#groups.get(group)?.values() ?? [])];
  }

  /**
   * Appends one record per entry, in one batch, and applies them once durable. Callers validate
   * entries first; a storage failure rejects and changes nothing.
   */
  async commit(group: string, entries: readonly OffsetCommitEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const now = this.#clock();
    await this.#append(
      group,
      entries.map((e) => ({
        key: encodeOffsetKey({ group, topic: e.topic, partition: e.partition }),
        value: encodeOffsetValue({ offset: e.offset, metadata: e.metadata, commitTimestamp: now }),
      })),
    );
    for (const e of entries) this.#apply(group, e.topic, e.partition, { offset: e.offset, metadata: e.metadata, commitTimestamp: now });
  }

  /** Deletes every commit of the group (tombstones). */
  async deleteGroup(group: string): Promise<void> {
    const entries = this.list(group);
    if (entries.length === 0) return;
    await this.#append(group, entries.map((e) => ({ key: encodeOffsetKey({ group, topic: e.topic, partition: e.partition }), value: null })));
    for (const e of entries) this.#apply(group, e.topic, e.partition, null);
  }

  /** Deletes every group's commits on a topic (it was deleted; a new topic of the same name starts fresh). */
  async deleteTopic(topic: string): Promise<void> {
    for (const group of this.groupIds()) {
      if (!this.coordinates(group)) continue;
      const entries = this.list(group).filter((e) => e.topic === topic);
      if (entries.length === 0) continue;
      await this.#append(group, entries.map((e) => ({ key: encodeOffsetKey({ group, topic, partition: e.partition }), value: null })));
      for (const e of entries) this.#apply(group, topic, e.partition, null);
    }
  }

  async #append(group: string, records: { key: Uint8Array; value: Uint8Array | null }[]): Promise<void> {
    // Batches of at most 128 records stay far below max.message.bytes even with 4 KiB metadata;
    // one append of several batches is still all-or-nothing.
    const batches: Uint8Array[] = [];
    for (let i = 0; i < records.length; i += 128) batches.push(encodeRecordBatch(records.slice(i, i + 128), { baseTimestamp: this.#clock() }));
    // acks=all as Kafka's offsets.commit.required.acks: a commit is answered once every in-sync
    // replica has it (on one node: durable on the leader).
    await this.#replicas.appendRecords(OFFSETS_TOPIC, this.partitionFor(group), batches, { acks: -1, origin: 'internal' });
  }
}
