/**
 * The one way records enter a partition as its leader (Kafka's ReplicaManager.appendRecords).
 * Produce requests, MQTT ingest and the node's own bookkeeping (committed offsets) all append
 * here, so the topic policy is decided in one place whoever writes:
 *
 * - acks must be 0, 1 or -1 (all), else INVALID_REQUIRED_ACKS;
 * - internal topics (`__consumer_offsets`) are written by the node only: clients and MQTT get
 *   INVALID_TOPIC_EXCEPTION (Kafka: internal topics are appended to only by coordinators);
 * - compacted topics take keyed records only: INVALID_RECORD (Kafka, KIP-467), since compaction
 *   keeps the latest record per key and would delete a keyless one after it was acknowledged;
 * - the disk guard admits the bytes, with the small headroom reserved for internal writes so
 *   consumers can still commit while producers are refused (retriable KAFKA_STORAGE_ERROR);
 * - later, acks=all waits for the ISR here (see `#awaitReplication`).
 *
 * Follower appends (copying a leader) do not come through here: they are not subject to the
 * leader's policy, as in Kafka.
 */
import { EddyError } from '../../protocol/errors.js';
import type { WriteKind } from '../storage/disk-guard.js';
import type { AppendResult } from '../storage/partition-log.js';
import type { TopicManager } from '../topics/topic-manager.js';
import { isInternalTopic } from '../topics/topic-name.js';

/**
 * Who writes (Kafka's AppendOrigin): `client` for Produce requests, `mqtt` for MQTT ingest,
 * `internal` for the node itself (the group coordinator's `__consumer_offsets`).
 */
export type AppendOrigin = 'client' | 'mqtt' | 'internal';

/** 0: no answer awaited; 1: durable on the leader; -1 (all): durable on every in-sync replica. */
export type RequiredAcks = 0 | 1 | -1;

export interface AppendRecordsOptions {
  /** As the producer sent it; anything but 0, 1 or -1 is refused. */
  acks: number;
  origin: AppendOrigin;
}

/** What the replica manager needs of the disk guard (node/storage/disk-guard.ts's DiskGuard). */
export interface DiskAdmission {
  /** Throws a retriable KAFKA_STORAGE_ERROR when a write of `bytes` must wait for space. */
  admit(kind: WriteKind, bytes: number): void;
}

export interface ReplicaManagerOptions {
  topics: TopicManager;
  diskGuard: DiskAdmission;
  /** The partition's in-sync replicas as the cluster metadata has them; absent: this node alone. */
  isr?: (topic: string, partition: number) => readonly number[] | undefined;
}

/** Throws INVALID_REQUIRED_ACKS unless `acks` is 0, 1 or -1 (Kafka's isValidRequiredAcks). */
export function checkRequiredAcks(acks: number): asserts acks is RequiredAcks {
  if (acks !== 0 && acks !== 1 && acks !== -1) {
    throw new EddyError('INVALID_REQUIRED_ACKS', `acks=${acks} is not valid; use 0, 1 or -1 (all)`);
  }
}

export class ReplicaManager {
  readonly #topics: TopicManager;
  readonly #diskGuard: DiskAdmission;
  readonly #isr: (topic: string, partition: number) => readonly number[] | undefined;

  constructor(opts: ReplicaManagerOptions) {
    this.#topics = opts.topics;
    this.#diskGuard = opts.diskGuard;
    this.#isr = opts.isr ?? (() => undefined);
  }

  /**
   * Appends `batches` to `topic`-`partition` as its leader, all or nothing, and resolves once
   * they are durable at `acks` (per the store's sync policy). Throws an EddyError and appends
   * nothing when the policy refuses: INVALID_REQUIRED_ACKS, INVALID_TOPIC_EXCEPTION (an internal
   * topic, unless `origin` is `internal`), UNKNOWN_TOPIC_OR_PARTITION, INVALID_RECORD (a keyless
   * record for a compacted topic), KAFKA_STORAGE_ERROR (retriable: disk guard or store failing),
   * or what the log's own checks find (CORRUPT_MESSAGE, MESSAGE_TOO_LARGE, producer sequence errors).
   */
  async appendRecords(topic: string, partition: number, batches: readonly Uint8Array[], opts: AppendRecordsOptions): Promise<AppendResult> {
    checkRequiredAcks(opts.acks);
    if (opts.origin !== 'internal' && isInternalTopic(topic)) {
      throw new EddyError('INVALID_TOPIC_EXCEPTION', `"${topic}" is an internal topic; only the node writes to it`);
    }
    const log = this.#topics.partition(topic, partition);
    if (opts.acks === -1) this.#checkInsync(topic, partition);
    const requireKeys = this.#requiresKeys(topic);
    let bytes = 0;
    for (const b of batches) bytes += b.length;
    // The guard is asked before the log validates the batches, so while space is short an
    // invalid batch gets the retriable storage error first and its definitive one on retry.
    this.#diskGuard.admit(opts.origin === 'internal' ? 'internal' : 'records', bytes);
    // The ISR seam: with replication, acks=-1 waits here until the high watermark passes the
    // batch (Kafka's DelayedProduce). With replication factor 1 the leader is the whole ISR, so
    // acks=1 and acks=all both mean durable on the leader, which the append already is (per the
    // sync policy); acks=0 appends the same way and only the answer is left out, by the server.
    return log.append(batches, { requireKeys });
  }

  /**
   * acks=all needs min.insync.replicas in the ISR, checked before anything is appended (Kafka):
   * NOT_ENOUGH_REPLICAS, retriable, when the ISR is smaller.
   */
  #checkInsync(topic: string, partition: number): void {
    const min = this.#topics.config(topic)?.minInsyncReplicas ?? 1;
    if (min <= 1) return;
    const isr = this.#isr(topic, partition) ?? [];
    if (isr.length >= min) return;
    throw new EddyError(
      'NOT_ENOUGH_REPLICAS',
      `${topic}-${partition} has ${isr.length} in-sync replica(s) [${isr.join(', ')}], fewer than its min.insync.replicas=${min}; nothing was written (acks=1 does not need them, or lower min.insync.replicas)`,
    );
  }

  /**
   * Compacted topics (cleanup.policy compact, or compact,delete) refuse records without a key.
   * An unknown topic needs no answer: the partition lookup before this has thrown.
   */
  #requiresKeys(topic: string): boolean {
    const config = this.#topics.config(topic);
    return config !== undefined && config.cleanupPolicy !== 'delete';
  }
}
