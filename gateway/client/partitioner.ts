/**
 * Choosing a partition for a record, with Kafka's default rules so that a key lands on the same
 * partition as it would in Kafka with the same partition count:
 * - a key: murmur2(key bytes) & 0x7fffffff, modulo the partition count;
 * - no key: the sticky partitioner (KIP-480, Kafka ≥ 2.4): keep filling one partition's batch
 *   until it is complete, then move on, so that unkeyed records form few large batches.
 */

/** A custom partitioner: gets the key bytes (null when unkeyed) and returns a partition in [0, count). */
export type Partitioner = (key: Uint8Array | null, partitionCount: number, topic: string) => number;

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** Kafka's murmur2 (Utils.murmur2): signed 32-bit result, identical to Java's for the same bytes. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    // Little-endian 4-byte chunks.
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  // Tail bytes, as Java's switch with fall-through over length % 4.
  const tail = length & 3;
  if (tail >= 3) h ^= data[whole + 2]! << 16;
  if (tail >= 2) h ^= data[whole + 1]! << 8;
  if (tail >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's Utils.toPositive: clears the sign bit (not Math.abs, which fails on MIN_VALUE). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition Kafka's default partitioner picks for a non-null key. */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  return toPositive(murmur2(key)) % partitionCount;
}

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
