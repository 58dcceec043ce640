/**
 * The controller's broker decisions (Kafka's ClusterControlManager, the broker half of
 * ReplicationControlManager, and ProducerIdControlManager): registration, heartbeats, fencing
 * and what fencing does to the partitions a broker led or followed, session expiry, and blocks
 * of producer ids. Each takes the image (and, for time, an injected `nowMs`) and returns
 * records, or throws a coded error.
 */
import { EddyError } from '../../../protocol/errors.js';
import { PRODUCER_ID_BLOCK } from '../../storage/producer-ids.js';
import { sortedPartitions, sortedTopics, type BrokerImage, type MetadataImage, type PartitionImage } from './image.js';
import { electLeader } from './partition-decisions.js';
import { NO_LEADER, type BrokerEndpoints, type MetadataRecord, type PartitionChangeRecord, type ProducerIdsRecord } from './records.js';

export interface RegisterBrokerRequest {
  brokerId: number;
  incarnationId: string;
  endpoints: BrokerEndpoints;
  /** The cluster the broker's data dir was formatted for, if it knows. */
  clusterId?: string | null;
}

/**
 * A RegisterBrokerRecord: the broker joins fenced (it is unfenced by a heartbeat once it has
 * caught up with the metadata log, as in Kafka). `brokerEpoch` is the offset the record will
 * be written at, Kafka's choice, so every registration gets a larger epoch than the last.
 * Throws INCONSISTENT_CLUSTER_ID, or DUPLICATE_BROKER_REGISTRATION while another incarnation of
 * the id is unfenced (alive).
 */
export function registerBroker(image: MetadataImage, req: RegisterBrokerRequest, brokerEpoch: number = image.lastOffset + 1): MetadataRecord[] {
  if (!Number.isInteger(req.brokerId) || req.brokerId < 0) throw new EddyError('INVALID_REQUEST', `broker id ${req.brokerId} must be ≥ 0`);
  if (req.clusterId && image.clusterId !== null && req.clusterId !== image.clusterId) {
    throw new EddyError('INCONSISTENT_CLUSTER_ID', `broker ${req.brokerId} is of cluster ${req.clusterId}, this is ${image.clusterId}`);
  }
  const prev = image.brokers.get(req.brokerId);
  if (prev && !prev.fenced && prev.incarnationId !== req.incarnationId) {
    throw new EddyError('DUPLICATE_BROKER_REGISTRATION', `broker ${req.brokerId} is registered and alive as incarnation ${prev.incarnationId}`);
  }
  if (prev && brokerEpoch <= prev.brokerEpoch) throw new RangeError(`broker epoch ${brokerEpoch} is not after ${prev.brokerEpoch}`);
  // A broker that registers again has restarted: whatever it led is gone with its old process.
  const moves = prev && !prev.fenced ? movesAwayFrom(image, req.brokerId) : [];
  return [
    ...moves,
    { type: 'RegisterBroker', brokerId: req.brokerId, incarnationId: req.incarnationId, brokerEpoch, endpoints: { ...req.endpoints }, fenced: true },
  ];
}

export interface HeartbeatRequest {
  brokerId: number;
  brokerEpoch: number;
  /** The broker has applied the metadata log up to the controller's last committed offset. */
  caughtUp: boolean;
  /** Controlled shutdown: the broker asks to be fenced so its leaderships move first. */
  wantFence?: boolean;
}

/** Unfences a caught-up fenced broker, fences one that asks; otherwise nothing to write. */
export function heartbeat(image: MetadataImage, req: HeartbeatRequest): MetadataRecord[] {
  const b = current(image, req.brokerId, req.brokerEpoch);
  if (req.wantFence) return b.fenced ? [] : fenceBroker(image, b.brokerId);
  if (b.fenced && req.caughtUp) return unfenceBroker(image, b.brokerId);
  return [];
}

/**
 * Partition changes that take `brokerId` out of every ISR and move its leaderships to another
 * unfenced ISR member (none left: leader -1), then the FenceBrokerRecord (Kafka's order: the
 * partitions stop naming it before it is fenced). Fencing a fenced broker writes no fence record.
 */
export function fenceBroker(image: MetadataImage, brokerId: number): MetadataRecord[] {
  const b = registered(image, brokerId);
  const moves = movesAwayFrom(image, brokerId);
  return b.fenced ? moves : [...moves, { type: 'FenceBroker', brokerId, epoch: b.brokerEpoch }];
}

/** The UnfenceBrokerRecord, then leadership for each leaderless partition whose ISR holds the broker. */
export function unfenceBroker(image: MetadataImage, brokerId: number): MetadataRecord[] {
  const b = registered(image, brokerId);
  if (!b.fenced) return [];
  const out: MetadataRecord[] = [{ type: 'UnfenceBroker', brokerId, epoch: b.brokerEpoch }];
  for (const p of allPartitions(image)) {
    if (p.leader === NO_LEADER && p.isr.includes(brokerId)) out.push({ type: 'PartitionChange', topicId: p.topicId, partitionId: p.partitionId, leader: brokerId });
  }
  return out;
}

/** Fences (moving leaderships away) and then removes the registration. */
export function unregisterBroker(image: MetadataImage, brokerId: number): MetadataRecord[] {
  const b = registered(image, brokerId);
  return [...movesAwayFrom(image, brokerId), { type: 'UnregisterBroker', brokerId, brokerEpoch: b.brokerEpoch }];
}

/**
 * Broker ids whose session has expired: no heartbeat for more than `sessionTimeoutMs` before
 * `nowMs`, in id order. With an image, only registered unfenced brokers count; a broker with no
 * heartbeat entry is not fenced (a new controller starts each broker's clock when it takes over).
 */
export function brokersToFence(lastHeartbeat: ReadonlyMap<number, number>, nowMs: number, sessionTimeoutMs: number, image?: MetadataImage): number[] {
  const out: number[] = [];
  for (const [brokerId, at] of lastHeartbeat) {
    if (nowMs - at <= sessionTimeoutMs) continue;
    if (image) {
      const b = image.brokers.get(brokerId);
      if (!b || b.fenced) continue;
    }
    out.push(brokerId);
  }
  return out.sort((a, b) => a - b);
}

export interface ProducerIdBlock {
  readonly firstProducerId: number;
  readonly size: number;
}

/**
 * The next block of producer ids for a broker, and the record that takes it. Blocks never
 * overlap, so producer ids are unique across the cluster. Throws BROKER_ID_NOT_REGISTERED, or
 * STALE_BROKER_EPOCH when `brokerEpoch` is given and is not the broker's current one.
 */
export function allocateProducerIds(
  image: MetadataImage,
  brokerId: number,
  blockSize: number = PRODUCER_ID_BLOCK,
  brokerEpoch?: number,
): { records: [ProducerIdsRecord]; block: ProducerIdBlock } {
  const b = brokerEpoch === undefined ? registered(image, brokerId) : current(image, brokerId, brokerEpoch);
  if (!Number.isSafeInteger(blockSize) || blockSize < 1) throw new RangeError(`producer id block size ${blockSize} must be ≥ 1`);
  const first = image.producerIds.nextProducerId;
  const next = first + blockSize;
  if (!Number.isSafeInteger(next)) throw new EddyError('UNKNOWN_SERVER_ERROR', `producer ids are exhausted (next would be ${next})`);
  return {
    records: [{ type: 'ProducerIds', brokerId, brokerEpoch: b.brokerEpoch, nextProducerId: next }],
    block: { firstProducerId: first, size: blockSize },
  };
}

/**
 * For each partition naming `brokerId` in its ISR: drop it from the ISR (unless it is the last
 * member: the ISR is never empty, the partition is then leaderless), and if it led, elect the
 * first other ISR member in replica order that is unfenced (electLeader: election from the ISR only).
 */
export function movesAwayFrom(image: MetadataImage, brokerId: number): PartitionChangeRecord[] {
  const out: PartitionChangeRecord[] = [];
  for (const p of allPartitions(image)) {
    if (!p.isr.includes(brokerId) && p.leader !== brokerId) continue;
    const rest = p.isr.filter((b) => b !== brokerId);
    const isr = rest.length > 0 ? rest : p.isr;
    const change: PartitionChangeRecord = { type: 'PartitionChange', topicId: p.topicId, partitionId: p.partitionId };
    if (isr.length !== p.isr.length) change.isr = [...isr];
    if (p.leader === brokerId) change.leader = electLeader({ ...p, isr }, image, { excluding: brokerId }).leader;
    if (change.isr || change.leader !== undefined) out.push(change);
  }
  return out;
}

function allPartitions(image: MetadataImage): PartitionImage[] {
  return sortedTopics(image).flatMap((t) => sortedPartitions(t));
}

function registered(image: MetadataImage, brokerId: number): BrokerImage {
  const b = image.brokers.get(brokerId);
  if (!b) throw new EddyError('BROKER_ID_NOT_REGISTERED', `broker ${brokerId} is not registered`);
  return b;
}

function current(image: MetadataImage, brokerId: number, brokerEpoch: number): BrokerImage {
  const b = registered(image, brokerId);
  if (b.brokerEpoch !== brokerEpoch) throw new EddyError('STALE_BROKER_EPOCH', `broker ${brokerId} epoch ${brokerEpoch} is not its current ${b.brokerEpoch}`);
  return b;
}
