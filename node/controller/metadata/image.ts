/**
 * The metadata image: the cluster metadata as of one offset of the metadata log (Kafka's
 * MetadataImage). It is immutable: `applyRecord` (apply.ts) returns a new image that shares
 * every unchanged part with the old one, so a reader holding an image never sees it change.
 *
 * The queries here are what a broker asks of it: who leads a partition, what this broker
 * leads, which brokers are alive, which partition of __consumer_offsets coordinates a group.
 */
import { crc32c } from '../../../protocol/crc32c.js';
import type { BrokerEndpoints } from './records.js';

export interface BrokerImage {
  readonly brokerId: number;
  /** Changes on every process start: tells a restarted broker from a zombie of its old self. */
  readonly incarnationId: string;
  /** Issued at registration; heartbeats and fencing name it, so a stale session cannot act. */
  readonly brokerEpoch: number;
  readonly endpoints: Readonly<BrokerEndpoints>;
  /** A fenced broker leads nothing and is not placed on; it is alive again once unfenced. */
  readonly fenced: boolean;
}

export interface PartitionImage {
  readonly topicId: string;
  readonly partitionId: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  /** -1 when no replica can lead. */
  readonly leader: number;
  /** Bumped whenever the leader changes: fences the old leader's writes and fetches. */
  readonly leaderEpoch: number;
  /** Bumped on every change of the partition (leader, ISR or replicas). */
  readonly partitionEpoch: number;
}

export interface TopicImage {
  readonly topicId: string;
  readonly name: string;
  /** Only the configs set on the topic; the rest are at their defaults (topic-config.ts). */
  readonly configs: Readonly<Record<string, string>>;
  readonly partitions: ReadonlyMap<number, PartitionImage>;
}

export interface ProducerIdsImage {
  /** The first id of the next block the controller hands out; ids below it are taken. */
  readonly nextProducerId: number;
  /** Who took the last block (-1 before any), so a snapshot can write the record again. */
  readonly brokerId: number;
  readonly brokerEpoch: number;
}

export interface MetadataImage {
  readonly clusterId: string | null;
  readonly brokers: ReadonlyMap<number, BrokerImage>;
  readonly topicsById: ReadonlyMap<string, TopicImage>;
  readonly topicIdsByName: ReadonlyMap<string, string>;
  readonly producerIds: ProducerIdsImage;
  /** Offset of the last record applied (-1: none). */
  readonly lastOffset: number;
  /** Epoch (Raft term) of the last record applied (-1: none). */
  readonly lastEpoch: number;
}

export const EMPTY_IMAGE: MetadataImage = Object.freeze({
  clusterId: null,
  brokers: new Map(),
  topicsById: new Map(),
  topicIdsByName: new Map(),
  producerIds: Object.freeze({ nextProducerId: 0, brokerId: -1, brokerEpoch: -1 }),
  lastOffset: -1,
  lastEpoch: -1,
});

export function topicByName(image: MetadataImage, name: string): TopicImage | undefined {
  const id = image.topicIdsByName.get(name);
  return id === undefined ? undefined : image.topicsById.get(id);
}

export function topicById(image: MetadataImage, topicId: string): TopicImage | undefined {
  return image.topicsById.get(topicId);
}

export function partitionOf(image: MetadataImage, topic: string, partition: number): PartitionImage | undefined {
  return topicByName(image, topic)?.partitions.get(partition);
}

/** The partition's leader, -1 when it has none, undefined when there is no such partition. */
export function leaderFor(image: MetadataImage, topic: string, partition: number): number | undefined {
  return partitionOf(image, topic, partition)?.leader;
}

export interface LedPartition {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly leaderEpoch: number;
}

/** The partitions `brokerId` leads, by topic name then partition. */
export function partitionsLedBy(image: MetadataImage, brokerId: number): LedPartition[] {
  const out: LedPartition[] = [];
  for (const t of sortedTopics(image)) {
    for (const p of sortedPartitions(t)) {
      if (p.leader === brokerId) out.push({ topic: t.name, topicId: t.topicId, partition: p.partitionId, leaderEpoch: p.leaderEpoch });
    }
  }
  return out;
}

/** Registered, unfenced brokers by id: the ones that may lead and be given replicas. */
export function aliveBrokers(image: MetadataImage): BrokerImage[] {
  return [...image.brokers.values()].filter((b) => !b.fenced).sort((a, b) => a.brokerId - b.brokerId);
}

/**
 * The __consumer_offsets partition whose leader coordinates `groupId`. Kafka takes
 * abs(String.hashCode) % partitions; Eddy has always used crc32c of the UTF-8 id (the offset
 * store's mapping), and keeping it means committed offsets stay where they were written.
 */
export function coordinatorPartition(groupId: string, offsetsPartitionCount: number): number {
  if (!Number.isInteger(offsetsPartitionCount) || offsetsPartitionCount <= 0) throw new RangeError(`partition count ${offsetsPartitionCount} must be ≥ 1`);
  return crc32c(UTF8.encode(groupId)) % offsetsPartitionCount;
}

const UTF8 = new TextEncoder();

export function sortedTopics(image: MetadataImage): TopicImage[] {
  return [...image.topicsById.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function sortedPartitions(topic: TopicImage): PartitionImage[] {
  return [...topic.partitions.values()].sort((a, b) => a.partitionId - b.partitionId);
}

/** Replicas per broker over every partition: the load placement evens out. */
export function replicaLoad(image: MetadataImage): Map<number, number> {
  const load = new Map<number, number>();
  for (const t of image.topicsById.values()) for (const p of t.partitions.values()) for (const b of p.replicas) load.set(b, (load.get(b) ?? 0) + 1);
  return load;
}
