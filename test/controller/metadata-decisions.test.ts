import { describe, expect, it } from 'vitest';
import { applyRecords } from '../../node/controller/metadata/apply.js';
import {
  allocateProducerIds,
  brokersToFence,
  fenceBroker,
  heartbeat,
  registerBroker,
  unfenceBroker,
  unregisterBroker,
} from '../../node/controller/metadata/broker-decisions.js';
import { aliveBrokers, EMPTY_IMAGE, leaderFor, partitionsLedBy, topicByName, type MetadataImage } from '../../node/controller/metadata/image.js';
import type { PartitionRecord } from '../../node/controller/metadata/records.js';
import { alterConfigs, createPartitions, createTopic, deleteTopic } from '../../node/controller/metadata/topic-decisions.js';
import { topicIdFromBytes } from '../../node/controller/metadata/uuid.js';
import { errorNameOf } from '../helpers/failure.js';

let idSeq = 1;
const newId = () => topicIdFromBytes(Uint8Array.from({ length: 16 }, (_, i) => (i === 0 ? idSeq++ : 0)));
const inc = (b: number, n = 0) => `00000000-0000-4000-8000-0000000000${b}${n}`;

/** Brokers registered and heartbeated until unfenced, as a controller would write them. */
function cluster(brokers: number[], fenced: number[] = []): MetadataImage {
  let img = applyRecords(EMPTY_IMAGE, [{ type: 'ClusterId', clusterId: 'c1' }], 1);
  for (const b of brokers) {
    img = applyRecords(img, registerBroker(img, { brokerId: b, incarnationId: inc(b), endpoints: { ws: `ws://b${b}`, mqtt: null, http: null } }));
    if (!fenced.includes(b)) img = applyRecords(img, heartbeat(img, { brokerId: b, brokerEpoch: img.brokers.get(b)!.brokerEpoch, caughtUp: true }));
  }
  return img;
}

const withTopic = (img: MetadataImage, name: string, partitions: number, rf: number) =>
  applyRecords(img, createTopic(img, { name, partitions, replicationFactor: rf }, newId()));

describe('topic decisions', () => {
  it('createTopic writes the topic, its configs and placed partitions; 6 partitions on 3 brokers = 2 leaders each', () => {
    const img = cluster([1, 2, 3]);
    const id = newId();
    const recs = createTopic(img, { name: 'orders', partitions: 6, replicationFactor: 2, configs: { 'retention.ms': '1000', 'cleanup.policy': 'compact' } }, id);
    expect(recs[0]).toEqual({ type: 'Topic', name: 'orders', topicId: id });
    expect(recs.filter((r) => r.type === 'Config').map((r) => r.type === 'Config' && r.name)).toEqual(['cleanup.policy', 'retention.ms']);
    const parts = recs.filter((r): r is PartitionRecord => r.type === 'Partition');
    expect(parts.map((p) => p.partitionId)).toEqual([0, 1, 2, 3, 4, 5]);
    const after = applyRecords(img, recs);
    for (const b of [1, 2, 3]) expect(partitionsLedBy(after, b)).toHaveLength(2);
    for (const p of parts) expect([p.isr, p.leader, p.leaderEpoch]).toEqual([p.replicas, p.replicas[0], 0]);
    expect(topicByName(after, 'orders')?.configs).toEqual({ 'cleanup.policy': 'compact', 'retention.ms': '1000' });
  });

  it('fenced brokers receive no replicas; RF=3 uses distinct brokers', () => {
    const img = cluster([1, 2, 3, 4], [2]);
    const parts = createTopic(img, { name: 't', partitions: 9, replicationFactor: 3 }, newId()).filter((r): r is PartitionRecord => r.type === 'Partition');
    for (const p of parts) {
      expect(p.replicas).not.toContain(2);
      expect(new Set(p.replicas).size).toBe(3);
    }
  });

  it('createTopic validation: name, duplicates, partitions, replication factor, configs', () => {
    const img = withTopic(cluster([1, 2], [2]), 'orders', 1, 1);
    const make = (req: Partial<Parameters<typeof createTopic>[1]>) => () => createTopic(img, { name: 'x', partitions: 1, replicationFactor: 1, ...req }, newId());
    expect(errorNameOf(make({ name: 'bad name' }))).toBe('INVALID_TOPIC_EXCEPTION');
    expect(errorNameOf(make({ name: '__internal' }))).toBe('INVALID_TOPIC_EXCEPTION');
    expect(errorNameOf(make({ name: 'orders' }))).toBe('TOPIC_ALREADY_EXISTS');
    expect(errorNameOf(make({ partitions: 0 }))).toBe('INVALID_PARTITIONS');
    expect(errorNameOf(make({ partitions: -3 }))).toBe('INVALID_PARTITIONS');
    expect(errorNameOf(make({ replicationFactor: 2 }))).toBe('INVALID_REPLICATION_FACTOR'); // broker 2 is fenced
    expect(errorNameOf(make({ replicationFactor: 0 }))).toBe('INVALID_REPLICATION_FACTOR');
    expect(errorNameOf(make({ configs: { 'retention.ms': 'soon' } }))).toBe('INVALID_CONFIG');
    expect(errorNameOf(make({ replicationFactor: -1 }))).toBeUndefined();
    expect(() => createTopic(img, { name: '__consumer_offsets', partitions: 1, replicationFactor: 1 }, newId(), { internal: true })).not.toThrow();
  });

  it('createPartitions keeps the replication factor and only adds', () => {
    let img = withTopic(cluster([1, 2, 3]), 't', 2, 2);
    const recs = createPartitions(img, 't', 5);
    expect(recs.map((r) => r.type === 'Partition' && [r.partitionId, r.replicas.length])).toEqual([[2, 2], [3, 2], [4, 2]]);
    img = applyRecords(img, recs);
    expect(topicByName(img, 't')?.partitions.size).toBe(5);
    expect(errorNameOf(() => createPartitions(img, 't', 5))).toBe('INVALID_PARTITIONS');
    expect(errorNameOf(() => createPartitions(img, 't', 3))).toBe('INVALID_PARTITIONS');
    expect(errorNameOf(() => createPartitions(img, 'nope', 3))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('alterConfigs writes only what changes; deleteTopic removes by id', () => {
    let img = applyRecords(cluster([1]), createTopic(cluster([1]), { name: 't', partitions: 1, replicationFactor: 1, configs: { 'retention.ms': '5' } }, newId()));
    const recs = alterConfigs(img, 't', { set: { 'retention.ms': '5', 'retention.bytes': '100' }, delete: [] });
    expect(recs).toEqual([{ type: 'Config', resourceType: 2, resourceName: 't', name: 'retention.bytes', value: '100' }]);
    img = applyRecords(img, [...recs, ...alterConfigs(img, 't', { delete: ['retention.ms'] })]);
    expect(topicByName(img, 't')?.configs).toEqual({ 'retention.bytes': '100' });
    expect(errorNameOf(() => alterConfigs(img, 't', { set: { 'no.such': '1' } }))).toBe('INVALID_CONFIG');
    const del = deleteTopic(img, 't');
    expect(del).toEqual([{ type: 'RemoveTopic', topicId: topicByName(img, 't')!.topicId }]);
    img = applyRecords(img, del);
    expect(topicByName(img, 't')).toBeUndefined();
    expect(errorNameOf(() => deleteTopic(img, 't'))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });
});

describe('broker decisions', () => {
  it('a broker registers fenced, is unfenced by a caught-up heartbeat, and a stale epoch is refused', () => {
    let img = cluster([]);
    img = applyRecords(img, registerBroker(img, { brokerId: 7, incarnationId: inc(7), endpoints: { ws: 'ws://x', mqtt: 'mqtt://x', http: null } }));
    const b = img.brokers.get(7)!;
    expect([b.fenced, b.brokerEpoch]).toEqual([true, img.lastOffset]);
    expect(heartbeat(img, { brokerId: 7, brokerEpoch: b.brokerEpoch, caughtUp: false })).toEqual([]);
    expect(errorNameOf(() => heartbeat(img, { brokerId: 7, brokerEpoch: b.brokerEpoch - 1, caughtUp: true }))).toBe('STALE_BROKER_EPOCH');
    expect(errorNameOf(() => heartbeat(img, { brokerId: 8, brokerEpoch: 0, caughtUp: true }))).toBe('BROKER_ID_NOT_REGISTERED');
    img = applyRecords(img, heartbeat(img, { brokerId: 7, brokerEpoch: b.brokerEpoch, caughtUp: true }));
    expect(aliveBrokers(img).map((x) => x.brokerId)).toEqual([7]);
  });

  it('another incarnation of a live broker id is refused; after fencing it may register', () => {
    let img = cluster([1]);
    const req = { brokerId: 1, incarnationId: inc(1, 9), endpoints: { ws: 'ws://y', mqtt: null, http: null } };
    expect(errorNameOf(() => registerBroker(img, req))).toBe('DUPLICATE_BROKER_REGISTRATION');
    expect(errorNameOf(() => registerBroker(img, { ...req, incarnationId: inc(1), clusterId: 'other' }))).toBe('INCONSISTENT_CLUSTER_ID');
    img = applyRecords(img, fenceBroker(img, 1));
    const before = img.brokers.get(1)!.brokerEpoch;
    img = applyRecords(img, registerBroker(img, req));
    expect(img.brokers.get(1)!.brokerEpoch).toBeGreaterThan(before);
    expect(img.brokers.get(1)!.incarnationId).toBe(inc(1, 9));
  });

  it('fencing moves leadership to another ISR member and drops the broker from ISRs; RF=1 leaves no leader', () => {
    let img = withTopic(withTopic(cluster([1, 2, 3]), 'rf3', 3, 3), 'rf1', 3, 1);
    const led = partitionsLedBy(img, 2);
    const rf1Led = led.filter((p) => p.topic === 'rf1').map((p) => p.partition);
    img = applyRecords(img, fenceBroker(img, 2));
    expect(img.brokers.get(2)!.fenced).toBe(true);
    expect(partitionsLedBy(img, 2)).toEqual([]);
    for (const p of topicByName(img, 'rf3')!.partitions.values()) {
      expect(p.isr).not.toContain(2);
      expect([1, 3]).toContain(p.leader);
    }
    for (const n of rf1Led) {
      const p = topicByName(img, 'rf1')!.partitions.get(n)!;
      expect([p.leader, p.isr, p.leaderEpoch]).toEqual([-1, [2], 1]);
      expect(leaderFor(img, 'rf1', n)).toBe(-1);
    }
    // Back again: it leads the partitions only it can lead; the others keep their leaders.
    const recs = unfenceBroker(img, 2);
    img = applyRecords(img, recs);
    for (const n of rf1Led) expect(leaderFor(img, 'rf1', n)).toBe(2);
    expect(partitionsLedBy(img, 2).every((p) => p.topic === 'rf1')).toBe(true);
  });

  it('a controlled shutdown heartbeat fences; unregistering moves leaderships first', () => {
    let img = withTopic(cluster([1, 2]), 't', 4, 2);
    const e1 = img.brokers.get(1)!.brokerEpoch;
    const recs = heartbeat(img, { brokerId: 1, brokerEpoch: e1, caughtUp: true, wantFence: true });
    expect(recs.at(-1)).toEqual({ type: 'FenceBroker', brokerId: 1, epoch: e1 });
    img = applyRecords(img, unregisterBroker(img, 2));
    expect(img.brokers.has(2)).toBe(false);
    expect(partitionsLedBy(img, 2)).toEqual([]);
  });

  it('brokersToFence: expired sessions, by id, with an injected clock', () => {
    const last = new Map([[3, 1000], [1, 500], [2, 9000]]);
    expect(brokersToFence(last, 10_000, 5000)).toEqual([1, 3]);
    expect(brokersToFence(last, 5500, 5000)).toEqual([]); // exactly at the timeout is still alive
    expect(brokersToFence(last, 5501, 5000)).toEqual([1]);
    const img = cluster([1, 3], [3]);
    expect(brokersToFence(last, 10_000, 5000, img)).toEqual([1]); // 3 is already fenced
  });

  it('allocateProducerIds hands out disjoint blocks across brokers', () => {
    let img = cluster([1, 2]);
    const seen: [number, number][] = [];
    for (const b of [1, 2, 1, 2, 2]) {
      const { records, block } = allocateProducerIds(img, b);
      expect(block.size).toBe(1000);
      seen.push([block.firstProducerId, block.firstProducerId + block.size]);
      img = applyRecords(img, records);
    }
    expect(seen).toEqual([[0, 1000], [1000, 2000], [2000, 3000], [3000, 4000], [4000, 5000]]);
    expect(img.producerIds.nextProducerId).toBe(5000);
    expect(allocateProducerIds(img, 1, 10).block).toEqual({ firstProducerId: 5000, size: 10 });
    expect(errorNameOf(() => allocateProducerIds(img, 9))).toBe('BROKER_ID_NOT_REGISTERED');
    expect(errorNameOf(() => allocateProducerIds(img, 1, 1000, 12345))).toBe('STALE_BROKER_EPOCH');
  });
});
