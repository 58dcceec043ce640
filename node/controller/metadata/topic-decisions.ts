/**
 * The controller's topic decisions (Kafka's ReplicationControlManager and
 * ConfigurationControlManager): each takes the current image and a request and returns the
 * records that carry it out, or throws a coded error. Nothing is changed until the records are
 * committed to the metadata log and applied, so a refused request leaves no trace, and a
 * decision made twice on the same image gives the same records.
 */
import { EddyError } from '../../../protocol/errors.js';
import { applyTopicConfigChanges, validateTopicConfigs, type TopicConfigChanges } from '../../topics/topic-config.js';
import { MAX_PARTITIONS } from '../../topics/topic-manager.js';
import { isInternalTopic, validateTopicName } from '../../topics/topic-name.js';
import { aliveBrokers, replicaLoad, sortedPartitions, topicByName, type MetadataImage, type TopicImage } from './image.js';
import { placeReplicas } from './placement.js';
import { TOPIC_RESOURCE, type ConfigRecord, type MetadataRecord, type PartitionRecord } from './records.js';
import { isTopicId, METADATA_TOPIC_ID, ZERO_TOPIC_ID } from './uuid.js';

export interface CreateTopicRequest {
  name: string;
  partitions: number;
  /** -1: the default, 1 (as Kafka's default.replication.factor). */
  replicationFactor: number;
  configs?: Readonly<Record<string, string>>;
}

export interface TopicOptions {
  /** Allows internal ("__") topics: only the node itself creates or changes them. */
  internal?: boolean;
}

/**
 * TopicRecord, its ConfigRecords (sorted by name) and one PartitionRecord per partition, placed
 * on the unfenced brokers. Throws INVALID_TOPIC_EXCEPTION, TOPIC_ALREADY_EXISTS,
 * INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR or INVALID_CONFIG.
 */
export function createTopic(image: MetadataImage, req: CreateTopicRequest, newTopicId: string, opts: TopicOptions = {}): MetadataRecord[] {
  validateTopicName(req.name, { internal: opts.internal ?? false });
  if (topicByName(image, req.name)) throw new EddyError('TOPIC_ALREADY_EXISTS', `topic "${req.name}" already exists`);
  if (!Number.isInteger(req.partitions) || req.partitions < 1 || req.partitions > MAX_PARTITIONS) {
    throw new EddyError('INVALID_PARTITIONS', `${req.partitions} partitions requested; use 1 to ${MAX_PARTITIONS}`);
  }
  const rf = req.replicationFactor === -1 ? 1 : req.replicationFactor;
  const alive = aliveBrokers(image).map((b) => b.brokerId);
  if (!Number.isInteger(rf) || rf < 1) throw new EddyError('INVALID_REPLICATION_FACTOR', `replication factor ${req.replicationFactor} must be at least 1 (or -1 for the default)`);
  if (rf > alive.length) {
    throw new EddyError('INVALID_REPLICATION_FACTOR', `replication factor ${rf} is more than the ${alive.length} unfenced brokers [${alive.join(', ')}]`);
  }
  const configs = validateTopicConfigs({ ...(req.configs ?? {}) });
  if (!isTopicId(newTopicId) || newTopicId === ZERO_TOPIC_ID || newTopicId === METADATA_TOPIC_ID) {
    throw new RangeError(`"${newTopicId}" is not a usable topic id`);
  }
  // A caller bug, not the user's: ids are random, so a clash means the id was reused.
  if (image.topicsById.has(newTopicId)) throw new RangeError(`topic id ${newTopicId} is already in use`);
  const out: MetadataRecord[] = [{ type: 'Topic', name: req.name, topicId: newTopicId }];
  for (const name of Object.keys(configs).sort()) out.push(configRecord(req.name, name, configs[name]!));
  const placement = placeReplicas(alive, req.partitions, rf, replicaLoad(image));
  placement.forEach((replicas, partitionId) => out.push(newPartition(newTopicId, partitionId, replicas)));
  return out;
}

/** RemoveTopicRecord. Throws UNKNOWN_TOPIC_OR_PARTITION, or INVALID_TOPIC_EXCEPTION for an internal topic. */
export function deleteTopic(image: MetadataImage, name: string, opts: TopicOptions = {}): MetadataRecord[] {
  const t = changeable(image, name, opts, 'deleted');
  return [{ type: 'RemoveTopic', topicId: t.topicId }];
}

/**
 * PartitionRecords that raise the topic to `total` partitions, at the replication factor of its
 * partition 0 (Kafka keeps the topic's factor). Partitions are only ever added.
 */
export function createPartitions(image: MetadataImage, name: string, total: number, opts: TopicOptions = {}): MetadataRecord[] {
  const t = changeable(image, name, opts, 'given partitions');
  const current = t.partitions.size;
  if (!Number.isInteger(total) || total < 1 || total > MAX_PARTITIONS) {
    throw new EddyError('INVALID_PARTITIONS', `${total} partitions requested for topic ${name}; use ${current + 1} to ${MAX_PARTITIONS}`);
  }
  if (total < current) throw new EddyError('INVALID_PARTITIONS', `topic ${name} has ${current} partitions; partitions can only be added, never removed`);
  if (total === current) throw new EddyError('INVALID_PARTITIONS', `topic ${name} already has ${current} partitions; ask for more to add some`);
  const rf = sortedPartitions(t)[0]?.replicas.length ?? 1;
  const alive = aliveBrokers(image).map((b) => b.brokerId);
  if (rf > alive.length) {
    throw new EddyError('INVALID_REPLICATION_FACTOR', `topic ${name} has replication factor ${rf} but only ${alive.length} brokers are unfenced`);
  }
  const placement = placeReplicas(alive, total - current, rf, replicaLoad(image));
  return placement.map((replicas, i) => newPartition(t.topicId, current + i, replicas));
}

/**
 * ConfigRecords for the changed configs only (value null = back to the default), sorted by
 * name. Throws INVALID_CONFIG / INVALID_REQUEST as applyTopicConfigChanges does.
 */
export function alterConfigs(image: MetadataImage, name: string, changes: TopicConfigChanges, opts: TopicOptions = {}): ConfigRecord[] {
  const t = changeable(image, name, opts, 'reconfigured');
  const next = applyTopicConfigChanges(t.configs, changes);
  const names = [...new Set([...Object.keys(t.configs), ...Object.keys(next)])].sort();
  return names.filter((n) => t.configs[n] !== next[n]).map((n) => configRecord(name, n, next[n] ?? null));
}

function changeable(image: MetadataImage, name: string, opts: TopicOptions, what: string): TopicImage {
  const t = topicByName(image, name);
  if (!t) throw new EddyError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist`);
  if (isInternalTopic(name) && !opts.internal) throw new EddyError('INVALID_TOPIC_EXCEPTION', `"${name}" is an internal topic and cannot be ${what} (the node manages it)`);
  return t;
}

function configRecord(topic: string, name: string, value: string | null): ConfigRecord {
  return { type: 'Config', resourceType: TOPIC_RESOURCE, resourceName: topic, name, value };
}

/** A new partition starts with every replica in sync (there is no data yet), led by its first replica. */
function newPartition(topicId: string, partitionId: number, replicas: number[]): PartitionRecord {
  return { type: 'Partition', topicId, partitionId, replicas, isr: [...replicas], leader: replicas[0]!, leaderEpoch: 0, partitionEpoch: 0 };
}

export interface LegacyTopic {
  name: string;
  partitions: number;
  configs: Readonly<Record<string, string>>;
}

/**
 * Records that bring a topic from before the cluster (a data dir of the single-node version)
 * into the metadata log as it is: every partition on `brokerId`, which holds its data, and led
 * by it. Nothing when the image has a topic of that name already (it wins; the local one is
 * replaced by it). Throws BROKER_ID_NOT_REGISTERED for an unknown broker.
 */
export function importTopic(image: MetadataImage, topic: LegacyTopic, brokerId: number, newTopicId: string): MetadataRecord[] {
  if (topicByName(image, topic.name)) return [];
  if (!image.brokers.has(brokerId)) throw new EddyError('BROKER_ID_NOT_REGISTERED', `broker ${brokerId} is not registered`);
  const out: MetadataRecord[] = [{ type: 'Topic', name: topic.name, topicId: newTopicId }];
  for (const name of Object.keys(topic.configs).sort()) out.push(configRecord(topic.name, name, topic.configs[name]!));
  for (let p = 0; p < topic.partitions; p++) out.push(newPartition(newTopicId, p, [brokerId]));
  return out;
}
