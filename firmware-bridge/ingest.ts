/**
 * MQTT message → produced record. The one path every MQTT source (embedded listener, bridges)
 * goes through, with the delivery contract devices rely on:
 *
 * - `ingest` resolves only once the record is appended at the log's sync policy (durable with
 *   `always`): the caller sends PUBACK/PUBREC after that, never before.
 * - It rejects with a *retriable* EddyError when the log cannot take the record (disk full, store
 *   failing): the caller must not acknowledge, and the device retransmits.
 * - Messages that can never be stored (no mapping rule, a payload that must be JSON but isn't, a
 *   missing key field, a payload over max.message.bytes, no key for a compacted topic) are not
 *   errors for the device: they are counted, logged at most once per interval, and sent to the
 *   dead-letter topic if one is configured, else dropped. They resolve, so the device does not
 *   retransmit them forever.
 */
import { partitionForKey } from '../protocol/partitioner.js';
import type { Logger } from '../node/logger.js';
import { NO_MQTT_METRICS, type MqttMetrics } from '../node/metrics/mqtt-metrics.js';
import { isEddyError } from '../protocol/errors.js';
import { encodeRecordBatch, type RecordHeader } from '../protocol/record-batch.js';
import type { ReplicaManager } from '../node/replication/replica-manager.js';
import type { TopicManager } from '../node/topics/topic-manager.js';
import { TopicMapper, type MqttMessage } from './mapping.js';

export interface IngestOptions {
  /** Create Eddy topics named by rules on first use (else such messages are refused as unmapped). */
  autoCreateTopics: boolean;
  /** Partitions of an auto-created topic when its rule does not say. */
  defaultPartitions: number;
  /** Where messages that cannot be stored go; null drops them (counted). */
  deadLetterTopic: string | null;
  /** How often a repeated refusal is logged (with the count since the last line). */
  logIntervalMs: number;
  /** How an auto-created topic is created: through the cluster's controller in a running node; null: on the local topic manager (tests of ingest alone). */
  createTopic: ((spec: { name: string; partitions: number; replicationFactor: number }) => Promise<void>) | null;
  /**
   * How a record for a partition another node leads is stored: sent to that leader, resolving
   * once it is durable there (acks=all), rejecting with its coded error. null: every partition is
   * appended here (and one this node does not lead is refused, retriable).
   */
  remoteAppend: ((topic: string, partition: number, batch: Uint8Array) => Promise<void>) | null;
}

export const DEFAULT_INGEST_OPTIONS: IngestOptions = {
  autoCreateTopics: true,
  defaultPartitions: 1,
  deadLetterTopic: null,
  logIntervalMs: 10_000,
  createTopic: null,
  remoteAppend: null,
};

/**
 * Why a message can never be stored. `keyless-compacted`: the rule gives no key but the topic is
 * compacted, which keeps only the latest record per key, so a keyless record has no place in it
 * (Kafka refuses it with INVALID_RECORD, KIP-467).
 */
export type Refusal = 'unmapped' | 'bad-json' | 'missing-key' | 'too-large' | 'topic-not-allowed' | 'keyless-compacted';

/** What the operator should do, at the end of the rate-limited log line, where the default does not fit. */
const FIX: Partial<Record<Refusal, string>> = {
  'keyless-compacted': 'To store such messages, give the mapping rule a key (e.g. "{2}", "json:device" or "topic") or set cleanup.policy=delete on the topic',
};

export interface IngestStats {
  stored: number;
  deadLettered: number;
  dropped: Record<Refusal, number>;
}

export type IngestOutcome = 'stored' | 'dead-lettered' | 'dropped';

const utf8 = new TextEncoder();
// Header values that take only a few forms are encoded once, not per message.
const QOS_BYTES = [utf8.encode('0'), utf8.encode('1'), utf8.encode('2')] as const;
const RETAIN_BYTES = { true: utf8.encode('true'), false: utf8.encode('false') } as const;

export class MqttIngest {
  readonly stats: IngestStats = {
    stored: 0,
    deadLettered: 0,
    dropped: { unmapped: 0, 'bad-json': 0, 'missing-key': 0, 'too-large': 0, 'topic-not-allowed': 0, 'keyless-compacted': 0 },
  };
  readonly #topics: TopicManager;
  readonly #replicas: ReplicaManager;
  readonly #mapper: TopicMapper;
  readonly #opts: IngestOptions;
  readonly #logger: Logger;
  readonly #creating = new Map<string, Promise<void>>();
  readonly #roundRobin = new Map<string, number>();
  readonly #lastLogged = new Map<Refusal, { at: number; suppressed: number }>();

  readonly #metrics: MqttMetrics;

  /** `topics` creates and sizes topics; every append goes through `replicas` (origin `mqtt`). */
  constructor(
    topics: TopicManager,
    replicas: ReplicaManager,
    mapper: TopicMapper,
    logger: Logger,
    opts: Partial<IngestOptions> = {},
    metrics: MqttMetrics = NO_MQTT_METRICS,
  ) {
    this.#metrics = metrics;
    this.#topics = topics;
    this.#replicas = replicas;
    this.#mapper = mapper;
    this.#logger = logger;
    this.#opts = { ...DEFAULT_INGEST_OPTIONS, ...opts };
  }

  /**
   * Maps and appends one message. See the file comment for what resolving and rejecting mean. A
   * rejection is counted here, for every caller: a QoS 0 message is then lost (dropped,
   * 'qos0_refused'), a QoS 1 or 2 one is not acknowledged and comes again.
   */
  async ingest(msg: MqttMessage, receivedAt = Date.now()): Promise<IngestOutcome> {
    this.#metrics.received();
    try {
      return await this.#ingest(msg, receivedAt);
    } catch (err) {
      if (msg.qos === 0) this.#metrics.dropped('qos0_refused');
      else this.#metrics.notAcknowledged();
      throw err;
    }
  }

  async #ingest(msg: MqttMessage, receivedAt: number): Promise<IngestOutcome> {
    const mapped = this.#mapper.map(msg);
    if (!mapped.ok) return this.#refuse(mapped.reason, mapped.detail, msg, receivedAt);
    const created = await this.#ensureTopic(mapped.topic, mapped.rule.partitions);
    if (!created) return this.#refuse('topic-not-allowed', `topic "${mapped.topic}" does not exist and auto-create is off`, msg, receivedAt);
    try {
      await this.#append(mapped.topic, mapped.key, msg, receivedAt, []);
      this.stats.stored++;
      this.#metrics.stored();
      return 'stored';
    } catch (err) {
      if (isEddyError(err, 'MESSAGE_TOO_LARGE')) return this.#refuse('too-large', err.detail, msg, receivedAt);
      if (isEddyError(err, 'INVALID_RECORD') && mapped.key === null) {
        const detail =
          `rule "${mapped.rule.filter}" gives MQTT topic "${msg.topic}" no key, but topic ${mapped.topic} is compacted ` +
          `(cleanup.policy=compact keeps the latest record per key, so it refuses keyless records)`;
        return this.#refuse('keyless-compacted', detail, msg, receivedAt);
      }
      throw err; // retriable storage errors: the device must not get an ack
    }
  }

  async #append(topic: string, key: Uint8Array | null, msg: MqttMessage, receivedAt: number, extra: RecordHeader[]): Promise<void> {
    const count = this.#topics.get(topic)!.partitions;
    const partition = key !== null ? partitionForKey(key, count) : this.#nextRoundRobin(topic, count);
    const headers: RecordHeader[] = [
      { key: 'mqtt.topic', value: utf8.encode(msg.topic) },
      { key: 'mqtt.qos', value: QOS_BYTES[msg.qos] },
      { key: 'mqtt.retain', value: RETAIN_BYTES[msg.retain ? 'true' : 'false'] },
      ...(msg.clientId !== null ? [{ key: 'mqtt.clientId', value: utf8.encode(msg.clientId) }] : []),
      ...extra,
    ];
    const batch = encodeRecordBatch([{ key, value: msg.payload, headers, timestamp: receivedAt }]);
    // In a cluster the mapped partition may be led by another node: the record goes there.
    if (this.#opts.remoteAppend && !this.#topics.leads(topic, partition)) return this.#opts.remoteAppend(topic, partition, batch);
    // The replica manager refuses keyless records for compacted topics (INVALID_RECORD), which
    // the cleaner would otherwise delete after the device was told they are stored. acks=all:
    // PUBACK/PUBREC only once the record is on every in-sync replica (on one node: durable).
    await this.#replicas.appendRecords(topic, partition, [batch], { acks: -1, origin: 'mqtt' });
  }

  #nextRoundRobin(topic: string, count: number): number {
    const n = this.#roundRobin.get(topic) ?? 0;
    this.#roundRobin.set(topic, n + 1);
    return n % count;
  }

  /** True when the topic exists (creating it if allowed); concurrent first messages share one create. */
  async #ensureTopic(name: string, partitions: number | undefined): Promise<boolean> {
    if (this.#topics.get(name)) return true;
    if (!this.#opts.autoCreateTopics) return false;
    let creating = this.#creating.get(name);
    if (!creating) {
      const spec = { name, partitions: partitions ?? this.#opts.defaultPartitions, replicationFactor: 1 };
      creating = (this.#opts.createTopic ? this.#opts.createTopic(spec) : this.#topics.create(spec))
        .then(
          () => this.#logger.info({ topic: name }, `created topic ${name} for MQTT messages (auto-create)`),
          (err: unknown) => {
            if (!isEddyError(err, 'TOPIC_ALREADY_EXISTS')) throw err;
          },
        )
        .finally(() => this.#creating.delete(name));
      this.#creating.set(name, creating);
    }
    await creating;
    return true;
  }

  async #refuse(reason: Refusal, detail: string, msg: MqttMessage, receivedAt: number): Promise<IngestOutcome> {
    const dlq = this.#opts.deadLetterTopic;
    let outcome: IngestOutcome = 'dropped';
    if (dlq !== null) {
      try {
        if (await this.#ensureTopic(dlq, 1)) {
          await this.#append(dlq, utf8.encode(msg.topic), msg, receivedAt, [{ key: 'eddy.refused', value: utf8.encode(`${reason}: ${detail}`) }]);
          this.stats.deadLettered++;
          this.#metrics.deadLettered(reason);
          outcome = 'dead-lettered';
        }
      } catch (err) {
        if (isEddyError(err) && err.retriable) throw err; // the dead-letter write must be durable too
      }
    }
    if (outcome === 'dropped') {
      this.stats.dropped[reason]++;
      this.#metrics.dropped(reason);
    }
    this.#logRateLimited(reason, detail, outcome);
    return outcome;
  }

  #logRateLimited(reason: Refusal, detail: string, outcome: IngestOutcome): void {
    const now = Date.now();
    const last = this.#lastLogged.get(reason);
    if (last && now - last.at < this.#opts.logIntervalMs) {
      last.suppressed++;
      return;
    }
    const more = last && last.suppressed > 0 ? ` (${last.suppressed} more like it since the last report)` : '';
    const where = outcome === 'dead-lettered' ? `sent to dead-letter topic ${this.#opts.deadLetterTopic}` : 'dropped';
    this.#logger.warn(
      { reason, outcome, suppressed: last?.suppressed ?? 0 },
      `MQTT message ${where}: ${detail}${more}. ${FIX[reason] ?? 'Fix the device or add a mapping rule'}; counts are in the ingest stats.`,
    );
    this.#lastLogged.set(reason, { at: now, suppressed: 0 });
  }
}
