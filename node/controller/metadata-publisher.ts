/**
 * The metadata publisher (Kafka's BrokerMetadataPublisher): makes this node's topics what each
 * committed metadata image says. For every topic of the image the topic manager gets its id,
 * partition count, configs, the partitions with a replica here (their logs are kept) and the
 * ones this node leads (the only ones it serves); topics the image no longer has are dropped.
 *
 * Images are applied one at a time, newest wins: while one is being applied, later commits only
 * replace the image waiting to be applied next. `waitFor(offset)` resolves once an image at or
 * past that offset is applied, which is how a controller write (or a forwarded one) returns only
 * when the node can serve what it created.
 *
 * Topics from before the cluster (no topic id) the image does not know are left alone: the
 * active controller imports them (importLegacyTopics).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../logger.js';
import type { TopicManager } from '../topics/topic-manager.js';
import { sortedPartitions, sortedTopics, type MetadataImage } from './metadata/index.js';

export class MetadataPublisher {
  readonly #nodeId: number;
  readonly #topics: TopicManager;
  readonly #logger: Logger;
  readonly #events = new EventEmitter();
  #next: MetadataImage | null = null;
  #running: Promise<void> | null = null;
  #applied: MetadataImage | null = null;
  #closed = false;

  constructor(opts: { nodeId: number; topics: TopicManager; logger: Logger }) {
    this.#nodeId = opts.nodeId;
    this.#topics = opts.topics;
    this.#logger = opts.logger;
    this.#events.setMaxListeners(0);
  }

  /** The last image applied to the topic manager (null before the first). */
  get applied(): MetadataImage | null {
    return this.#applied;
  }

  /** Queues an image to apply (the quorum's commit listener calls this). */
  publish(image: MetadataImage): void {
    if (this.#closed) return;
    this.#next = image;
    this.#running ??= this.#drain().finally(() => (this.#running = null));
  }

  /** Resolves once an image at or past `offset` is applied; rejects with REQUEST_TIMED_OUT-like Error after `timeoutMs`. */
  waitFor(offset: number, timeoutMs = 10_000): Promise<void> {
    return this.waitUntil((image) => image.lastOffset >= offset, timeoutMs, `metadata offset ${offset}`);
  }

  /** Resolves once an applied image satisfies `done`. */
  waitUntil(done: (image: MetadataImage) => boolean, timeoutMs: number, what: string): Promise<void> {
    if (this.#applied && done(this.#applied)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onApplied = (image: MetadataImage): void => {
        if (!done(image)) return;
        clearTimeout(timer);
        this.#events.off('applied', onApplied);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#events.off('applied', onApplied);
        reject(new Error(`this node did not apply ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.#events.on('applied', onApplied);
    });
  }

  /** Stops applying; resolves once the image being applied is done. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#next = null;
    await this.#running;
  }

  async #drain(): Promise<void> {
    while (this.#next && !this.#closed) {
      const image = this.#next;
      this.#next = null;
      await this.#apply(image);
      this.#applied = image;
      this.#events.emit('applied', image);
    }
  }

  async #apply(image: MetadataImage): Promise<void> {
    const inImage = new Set<string>();
    for (const t of sortedTopics(image)) {
      inImage.add(t.name);
      const partitions = sortedPartitions(t);
      try {
        await this.#topics.materialize({
          name: t.name,
          topicId: t.topicId,
          partitions: partitions.length,
          configs: { ...t.configs },
          local: partitions.filter((p) => p.replicas.includes(this.#nodeId)).map((p) => p.partitionId),
          led: partitions.filter((p) => p.leader === this.#nodeId).map((p) => p.partitionId),
        });
      } catch (err) {
        // A full disk, say: the next image tries again; until then the partition is not served here.
        this.#logger.error({ err, topic: t.name }, `could not apply topic ${t.name} from the cluster metadata: ${(err as Error).message}; retried on the next metadata change`);
      }
    }
    for (const t of this.#topics.list()) {
      if (t.topicId === null || inImage.has(t.name)) continue;
      try {
        await this.#topics.drop(t.name);
      } catch (err) {
        this.#logger.error({ err, topic: t.name }, `could not drop deleted topic ${t.name}: ${(err as Error).message}; retried on the next metadata change`);
      }
    }
  }
}
