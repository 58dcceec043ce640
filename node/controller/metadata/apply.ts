/**
 * Applying committed metadata records to the image (Kafka's MetadataDelta replay). Every node
 * applies the same records in the same order, so `applyRecord` is deterministic: it reads
 * nothing but the image and the record. A record that does not fit the image (a partition of an
 * unknown topic, a stale broker epoch) throws a coded error and the image is unchanged, since
 * images are never changed in place.
 */
import { EddyError, type ErrorName } from '../../../protocol/errors.js';
import { validateTopicName } from '../../topics/topic-name.js';
import type { BrokerImage, MetadataImage, PartitionImage, TopicImage } from './image.js';
import { NO_LEADER, TOPIC_RESOURCE, type MetadataRecord, type PartitionChange } from './records.js';

const fail = (name: ErrorName, detail: string): never => {
  throw new EddyError(name, detail);
};

/**
 * The image after `record`, written at `offset` (and Raft `epoch`) of the metadata log.
 * Offsets only move forward, epochs never move back.
 */
export function applyRecord(image: MetadataImage, record: MetadataRecord, offset: number, epoch: number = Math.max(image.lastEpoch, 0)): MetadataImage {
  if (!Number.isSafeInteger(offset) || offset <= image.lastOffset) fail('INVALID_RECORD', `record offset ${offset} is not after the last applied offset ${image.lastOffset}`);
  if (!Number.isSafeInteger(epoch) || epoch < image.lastEpoch) fail('INVALID_RECORD', `record epoch ${epoch} is before the last applied epoch ${image.lastEpoch}`);
  return { ...replay(image, record), lastOffset: offset, lastEpoch: epoch };
}

/** Applies records at consecutive offsets after the image's last one, all at `epoch`. */
export function applyRecords(image: MetadataImage, records: readonly MetadataRecord[], epoch?: number): MetadataImage {
  let out = image;
  for (const r of records) out = applyRecord(out, r, out.lastOffset + 1, epoch);
  return out;
}

/** The image after `record`, offsets untouched: snapshots replay with this. */
export function replay(image: MetadataImage, record: MetadataRecord): MetadataImage {
  switch (record.type) {
    case 'RegisterBroker': {
      const prev = image.brokers.get(record.brokerId);
      if (record.brokerId < 0) fail('INVALID_RECORD', `broker id ${record.brokerId} is negative`);
      if (prev && record.brokerEpoch <= prev.brokerEpoch) fail('STALE_BROKER_EPOCH', `broker ${record.brokerId} registers with epoch ${record.brokerEpoch}, not after ${prev.brokerEpoch}`);
      const broker: BrokerImage = {
        brokerId: record.brokerId,
        incarnationId: record.incarnationId,
        brokerEpoch: record.brokerEpoch,
        endpoints: { ...record.endpoints },
        fenced: record.fenced,
      };
      return { ...image, brokers: withEntry(image.brokers, record.brokerId, broker) };
    }
    case 'UnregisterBroker': {
      broker(image, record.brokerId, record.brokerEpoch);
      const brokers = new Map(image.brokers);
      brokers.delete(record.brokerId);
      return { ...image, brokers };
    }
    case 'FenceBroker':
    case 'UnfenceBroker': {
      const b = broker(image, record.brokerId, record.epoch);
      const fenced = record.type === 'FenceBroker';
      return { ...image, brokers: withEntry(image.brokers, b.brokerId, { ...b, fenced }) };
    }
    case 'Topic': {
      validateTopicName(record.name, { internal: true });
      if (image.topicsById.has(record.topicId)) fail('INVALID_RECORD', `topic id ${record.topicId} is already in use`);
      if (image.topicIdsByName.has(record.name)) fail('TOPIC_ALREADY_EXISTS', `topic "${record.name}" already exists`);
      const topic: TopicImage = { topicId: record.topicId, name: record.name, configs: {}, partitions: new Map() };
      return {
        ...image,
        topicsById: withEntry(image.topicsById, record.topicId, topic),
        topicIdsByName: withEntry(image.topicIdsByName, record.name, record.topicId),
      };
    }
    case 'Config': {
      if (record.resourceType !== TOPIC_RESOURCE) fail('INVALID_RECORD', `config resource type ${record.resourceType} is not supported (only topics, 2)`);
      const id = image.topicIdsByName.get(record.resourceName);
      if (id === undefined) fail('UNKNOWN_TOPIC_OR_PARTITION', `config for unknown topic "${record.resourceName}"`);
      const t = image.topicsById.get(id!)!;
      const configs = { ...t.configs };
      if (record.value === null) delete configs[record.name];
      else configs[record.name] = record.value;
      return withTopic(image, { ...t, configs });
    }
    case 'Partition': {
      const t = topic(image, record.topicId);
      if (t.partitions.has(record.partitionId)) fail('INVALID_RECORD', `partition ${record.partitionId} of topic ${t.name} already exists`);
      if (record.partitionId < 0) fail('INVALID_RECORD', `partition id ${record.partitionId} is negative`);
      if (record.leaderEpoch < 0 || record.partitionEpoch < 0) fail('INVALID_RECORD', `partition ${t.name}-${record.partitionId} has a negative epoch`);
      const p: PartitionImage = {
        topicId: record.topicId,
        partitionId: record.partitionId,
        replicas: [...record.replicas],
        isr: [...record.isr],
        leader: record.leader,
        leaderEpoch: record.leaderEpoch,
        partitionEpoch: record.partitionEpoch,
      };
      checkAssignment(`${t.name}-${p.partitionId}`, p);
      return withTopic(image, { ...t, partitions: withEntry(t.partitions, p.partitionId, p) });
    }
    case 'PartitionChange': {
      const t = topic(image, record.topicId);
      const prev = t.partitions.get(record.partitionId);
      if (!prev) return fail('UNKNOWN_TOPIC_OR_PARTITION', `topic ${t.name} has no partition ${record.partitionId}`);
      const next = changed(prev, record);
      checkAssignment(`${t.name}-${prev.partitionId}`, next);
      return withTopic(image, { ...t, partitions: withEntry(t.partitions, next.partitionId, next) });
    }
    case 'RemoveTopic': {
      const t = topic(image, record.topicId);
      const topicsById = new Map(image.topicsById);
      topicsById.delete(t.topicId);
      const topicIdsByName = new Map(image.topicIdsByName);
      topicIdsByName.delete(t.name);
      return { ...image, topicsById, topicIdsByName };
    }
    case 'ProducerIds': {
      // Blocks are handed out in order, so a block that does not move past the last one would
      // give some producer id to two producers.
      if (record.nextProducerId <= image.producerIds.nextProducerId) {
        fail('INVALID_RECORD', `next producer id ${record.nextProducerId} is not past ${image.producerIds.nextProducerId}`);
      }
      return { ...image, producerIds: { nextProducerId: record.nextProducerId, brokerId: record.brokerId, brokerEpoch: record.brokerEpoch } };
    }
    case 'ClusterId': {
      if (record.clusterId.length === 0) fail('INVALID_RECORD', 'the cluster id is empty');
      if (image.clusterId !== null && image.clusterId !== record.clusterId) fail('INCONSISTENT_CLUSTER_ID', `cluster id ${record.clusterId} is not this cluster's ${image.clusterId}`);
      return { ...image, clusterId: record.clusterId };
    }
    case 'NoOp':
      return image;
  }
}

/** The partition after a change: leader epoch moves with the leader, partition epoch with any change. */
export function changed(prev: PartitionImage, c: PartitionChange): PartitionImage {
  const leader = c.leader ?? prev.leader;
  return {
    ...prev,
    replicas: c.replicas ? [...c.replicas] : prev.replicas,
    isr: c.isr ? [...c.isr] : prev.isr,
    leader,
    leaderEpoch: leader !== prev.leader ? prev.leaderEpoch + 1 : prev.leaderEpoch,
    partitionEpoch: prev.partitionEpoch + 1,
  };
}

/** Replicas distinct and non-empty, ISR a non-empty subset of them, the leader in the ISR (or none). */
function checkAssignment(what: string, p: PartitionImage): void {
  const distinct = (xs: readonly number[]) => new Set(xs).size === xs.length;
  if (p.replicas.length === 0) fail('INVALID_RECORD', `${what} has no replicas`);
  if (!distinct(p.replicas) || p.replicas.some((b) => b < 0)) fail('INVALID_RECORD', `${what} replicas [${p.replicas.join(',')}] are not distinct broker ids`);
  if (p.isr.length === 0) fail('INVALID_RECORD', `${what} has an empty ISR`);
  if (!distinct(p.isr) || p.isr.some((b) => !p.replicas.includes(b))) fail('INVALID_RECORD', `${what} ISR [${p.isr.join(',')}] is not a set of its replicas`);
  if (p.leader !== NO_LEADER && !p.isr.includes(p.leader)) fail('INVALID_RECORD', `${what} leader ${p.leader} is not in its ISR [${p.isr.join(',')}]`);
}

function broker(image: MetadataImage, brokerId: number, epoch: number): BrokerImage {
  const b = image.brokers.get(brokerId);
  if (!b) return fail('BROKER_ID_NOT_REGISTERED', `broker ${brokerId} is not registered`);
  if (b.brokerEpoch !== epoch) fail('STALE_BROKER_EPOCH', `broker ${brokerId} epoch ${epoch} is not its current ${b.brokerEpoch}`);
  return b;
}

function topic(image: MetadataImage, topicId: string): TopicImage {
  return image.topicsById.get(topicId) ?? fail('UNKNOWN_TOPIC_ID', `no topic has id ${topicId}`);
}

function withTopic(image: MetadataImage, t: TopicImage): MetadataImage {
  return { ...image, topicsById: withEntry(image.topicsById, t.topicId, t) };
}

function withEntry<K, V>(map: ReadonlyMap<K, V>, key: K, value: V): Map<K, V> {
  const out = new Map(map);
  out.set(key, value);
  return out;
}
