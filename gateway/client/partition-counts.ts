/**
 * The producer's cache of partition counts, from Metadata. Entries live `maxAgeMs` (Kafka's
 * metadata.max.age.ms) so that added partitions are noticed; the producer drops an entry at once
 * when a Produce says UNKNOWN_TOPIC_OR_PARTITION (the topic was deleted or recreated).
 *
 * The cache holds promises, not numbers: every send to a topic awaits the same promise, so sends
 * keep their call order even while the first lookup is in flight.
 */
import { Apis } from '../../protocol/apis/index.js';
import { EddyError, isEddyError } from '../../protocol/errors.js';
import { serverError } from './client-errors.js';
import type { Requester } from './broker-connections.js';

interface Entry {
  promise: Promise<number>;
  fetchedAt: number;
  /** Set once the lookup has succeeded, so the hot path can read it without awaiting. */
  count?: number;
}

export class PartitionCounts {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly conn: Requester,
    private readonly options: { maxAgeMs: number; retryBackoffMs: number; now: () => number },
  ) {}

  /** Partition count of `topic`; rejects with EddyError (e.g. UNKNOWN_TOPIC_OR_PARTITION). */
  get(topic: string): Promise<number> {
    const now = this.options.now();
    const cached = this.#entries.get(topic);
    if (cached && now - cached.fetchedAt < this.options.maxAgeMs) return cached.promise;
    const entry: Entry = { promise: this.#lookup(topic), fetchedAt: now };
    this.#entries.set(topic, entry);
    entry.promise.then((n) => (entry.count = n), () => {});
    // A failed lookup is not cached: the next send asks again.
    entry.promise.catch(() => {
      if (this.#entries.get(topic) === entry) this.#entries.delete(topic);
    });
    return entry.promise;
  }

  /** The count if it is cached, fresh and already resolved; otherwise undefined (use `get`). */
  peek(topic: string, now = this.options.now()): number | undefined {
    const cached = this.#entries.get(topic);
    return cached && now - cached.fetchedAt < this.options.maxAgeMs ? cached.count : undefined;
  }

  invalidate(topic: string): void {
    this.#entries.delete(topic);
  }

  async #lookup(topic: string): Promise<number> {
    try {
      return await this.#fetch(topic);
    } catch (err) {
      // Refresh once: the topic may have been created a moment ago by another client.
      if (!isEddyError(err, 'UNKNOWN_TOPIC_OR_PARTITION')) throw err;
      await new Promise((r) => setTimeout(r, this.options.retryBackoffMs));
      return this.#fetch(topic);
    }
  }

  async #fetch(topic: string): Promise<number> {
    const res = await this.conn.request(Apis.Metadata, { topics: [topic] });
    const t = res.topics.find((x) => x.name === topic);
    if (!t) throw new EddyError('UNKNOWN_TOPIC_OR_PARTITION', `metadata for ${topic} did not list the topic`);
    if (t.errorCode !== 0) throw serverError(t.errorCode, t.errorMessage, `topic ${topic}`);
    if (t.partitions.length === 0) throw new EddyError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${topic} has no partitions`);
    return t.partitions.length;
  }
}
