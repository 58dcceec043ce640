/**
 * Choosing a partition for a record, with Kafka's default rules so that a key lands on the same
 * partition as it would in Kafka with the same partition count:
 * - a key: murmur2(key bytes) & 0x7fffffff, modulo the partition count;
 * - no key: the sticky partitioner (KIP-480, Kafka ≥ 2.4): keep filling one partition's batch
 *   until it is complete, then move on, so that unkeyed records form few large batches.
 */

/** A custom partitioner: gets the key bytes (null when unkeyed) and returns a partition in [0, count). */
export type Partitioner = (key: Uint8Array | null, partitionCount: number, topic: string) => number;

export { murmur2, partitionForKey, toPositive } from '../../protocol/partitioner.js';

/**
 * Sticky partition choice for unkeyed records, per topic. The producer calls `batchCompleted`
 * when a partition's batch is full or sent; if that was the sticky partition, the next unkeyed
 * record goes to a different one (chosen at random, as Kafka does).
 */
export class StickyPartitioner {
  readonly #sticky = new Map<string, { partition: number; count: number }>();
  readonly #random: () => number;

  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  partition(topic: string, partitionCount: number): number {
    const s = this.#sticky.get(topic);
    if (s && s.count === partitionCount) return s.partition;
    const partition = this.#pick(partitionCount, -1);
    this.#sticky.set(topic, { partition, count: partitionCount });
    return partition;
  }

  batchCompleted(topic: string, partition: number): void {
    const s = this.#sticky.get(topic);
    if (!s || s.partition !== partition) return;
    s.partition = this.#pick(s.count, partition);
  }

  #pick(count: number, avoid: number): number {
    if (count <= 1 || avoid < 0) return Math.floor(this.#random() * count) % count;
    // Uniform over the other count-1 partitions.
    const r = Math.floor(this.#random() * (count - 1)) % (count - 1);
    return r >= avoid ? r + 1 : r;
  }
}
