import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isEddyError } from '../../protocol/errors.js';
import { applyRecord, applyRecords } from '../../node/controller/metadata/apply.js';
import {
  aliveBrokers,
  coordinatorPartition,
  EMPTY_IMAGE,
  leaderFor,
  partitionsLedBy,
  topicByName,
  type MetadataImage,
} from '../../node/controller/metadata/image.js';
import type { MetadataRecord } from '../../node/controller/metadata/records.js';
import { decodeSnapshot, encodeSnapshot } from '../../node/controller/metadata/snapshot.js';
import { crc32c } from '../../protocol/crc32c.js';
import { topicIdFromBytes } from '../../node/controller/metadata/uuid.js';
import { historyArb, opArb, runOps } from './metadata-cluster-ops.js';

const T1 = topicIdFromBytes(Uint8Array.from({ length: 16 }, (_, i) => i + 1));
const ws = (b: number) => ({ ws: `ws://b${b}`, mqtt: null, http: null });
const reg = (brokerId: number, brokerEpoch = brokerId, fenced = false): MetadataRecord => ({
  type: 'RegisterBroker',
  brokerId,
  incarnationId: `00000000-0000-4000-8000-00000000000${brokerId}`,
  brokerEpoch,
  endpoints: ws(brokerId),
  fenced,
});
const base: MetadataRecord[] = [
  { type: 'ClusterId', clusterId: 'c1' },
  reg(1),
  reg(2),
  reg(3),
  { type: 'Topic', name: 'orders', topicId: T1 },
  { type: 'Partition', topicId: T1, partitionId: 0, replicas: [1, 2], isr: [1, 2], leader: 1, leaderEpoch: 0, partitionEpoch: 0 },
  { type: 'Partition', topicId: T1, partitionId: 1, replicas: [2, 3], isr: [2, 3], leader: 2, leaderEpoch: 0, partitionEpoch: 0 },
];
const built = () => applyRecords(EMPTY_IMAGE, base, 1);

function expectCoded(f: () => unknown, name: string): void {
  try {
    f();
  } catch (err) {
    expect(isEddyError(err) && err.errorName).toBe(name);
    return;
  }
  throw new Error(`expected ${name}`);
}

describe('metadata image', () => {
  it('holds brokers, topics, partitions, cluster id and the last offset/epoch', () => {
    const img = built();
    expect(img.clusterId).toBe('c1');
    expect(img.lastOffset).toBe(base.length - 1);
    expect(img.lastEpoch).toBe(1);
    expect(aliveBrokers(img).map((b) => b.brokerId)).toEqual([1, 2, 3]);
    expect(topicByName(img, 'orders')?.topicId).toBe(T1);
    expect(leaderFor(img, 'orders', 1)).toBe(2);
    expect(leaderFor(img, 'orders', 7)).toBeUndefined();
    expect(partitionsLedBy(img, 2)).toEqual([{ topic: 'orders', topicId: T1, partition: 1, leaderEpoch: 0 }]);
  });

  it('a leader change bumps the leader epoch; any change bumps the partition epoch', () => {
    let img = built();
    img = applyRecord(img, { type: 'PartitionChange', topicId: T1, partitionId: 0, isr: [1] }, img.lastOffset + 1);
    let p = topicByName(img, 'orders')!.partitions.get(0)!;
    expect([p.leader, p.leaderEpoch, p.partitionEpoch, p.isr]).toEqual([1, 0, 1, [1]]);
    img = applyRecord(img, { type: 'PartitionChange', topicId: T1, partitionId: 1, leader: 3 }, img.lastOffset + 1);
    p = topicByName(img, 'orders')!.partitions.get(1)!;
    expect([p.leader, p.leaderEpoch, p.partitionEpoch]).toEqual([3, 1, 1]);
  });

  it('is copy-on-write: applying leaves the old image as it was', () => {
    const img = built();
    const before = encodeSnapshot(img);
    applyRecord(img, { type: 'FenceBroker', brokerId: 1, epoch: 1 }, img.lastOffset + 1);
    applyRecord(img, { type: 'RemoveTopic', topicId: T1 }, img.lastOffset + 1);
    expect(encodeSnapshot(img)).toEqual(before);
  });

  it('refuses records that do not fit the image with coded errors', () => {
    const img = built();
    const at = img.lastOffset + 1;
    const T2 = topicIdFromBytes(new Uint8Array(16).fill(9));
    expectCoded(() => applyRecord(img, { type: 'Partition', topicId: T2, partitionId: 0, replicas: [1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0 }, at), 'UNKNOWN_TOPIC_ID');
    expectCoded(() => applyRecord(img, { type: 'Partition', topicId: T1, partitionId: 0, replicas: [1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0 }, at), 'INVALID_RECORD');
    expectCoded(() => applyRecord(img, { type: 'Partition', topicId: T1, partitionId: 5, replicas: [1, 1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0 }, at), 'INVALID_RECORD');
    expectCoded(() => applyRecord(img, { type: 'PartitionChange', topicId: T1, partitionId: 0, leader: 3 }, at), 'INVALID_RECORD');
    expectCoded(() => applyRecord(img, { type: 'PartitionChange', topicId: T1, partitionId: 9, leader: 1 }, at), 'UNKNOWN_TOPIC_OR_PARTITION');
    expectCoded(() => applyRecord(img, { type: 'Topic', name: 'orders', topicId: T2 }, at), 'TOPIC_ALREADY_EXISTS');
    expectCoded(() => applyRecord(img, { type: 'Topic', name: 'no spaces', topicId: T2 }, at), 'INVALID_TOPIC_EXCEPTION');
    expectCoded(() => applyRecord(img, { type: 'Topic', name: 'other', topicId: T1 }, at), 'INVALID_RECORD');
    expectCoded(() => applyRecord(img, { type: 'FenceBroker', brokerId: 1, epoch: 99 }, at), 'STALE_BROKER_EPOCH');
    expectCoded(() => applyRecord(img, { type: 'UnfenceBroker', brokerId: 8, epoch: 0 }, at), 'BROKER_ID_NOT_REGISTERED');
    expectCoded(() => applyRecord(img, { type: 'ClusterId', clusterId: 'other' }, at), 'INCONSISTENT_CLUSTER_ID');
    expectCoded(() => applyRecord(img, { type: 'Config', resourceType: 2, resourceName: 'nope', name: 'retention.ms', value: '1' }, at), 'UNKNOWN_TOPIC_OR_PARTITION');
    expectCoded(() => applyRecord(img, { type: 'ProducerIds', brokerId: 1, brokerEpoch: 1, nextProducerId: 0 }, at), 'INVALID_RECORD');
    expectCoded(() => applyRecord(img, { type: 'NoOp' }, img.lastOffset), 'INVALID_RECORD');
    expectCoded(() => applyRecord(img, { type: 'NoOp' }, at, 0), 'INVALID_RECORD');
  });

  it('a deleted topic frees its name for a new topic with a new id', () => {
    let img = applyRecords(built(), [{ type: 'RemoveTopic', topicId: T1 }]);
    expect(topicByName(img, 'orders')).toBeUndefined();
    const T2 = topicIdFromBytes(new Uint8Array(16).fill(9));
    img = applyRecords(img, [{ type: 'Topic', name: 'orders', topicId: T2 }]);
    expect(topicByName(img, 'orders')?.partitions.size).toBe(0);
  });

  it('maps a group to the __consumer_offsets partition the offset store uses (crc32c of the id)', () => {
    for (const g of ['g', 'orders-service', 'ünïcode', '']) {
      expect(coordinatorPartition(g, 50)).toBe(crc32c(new TextEncoder().encode(g)) % 50);
      expect(coordinatorPartition(g, 1)).toBe(0);
    }
    expect(() => coordinatorPartition('g', 0)).toThrow(RangeError);
  });
});

describe('metadata snapshots', () => {
  const history = historyArb;

  it('a snapshot decodes to an identical image', () => {
    fc.assert(
      fc.property(history, (ops) => {
        const { image } = runOps(ops);
        const bytes = encodeSnapshot(image);
        const back = decodeSnapshot(bytes);
        expect(back).toEqual(image);
        expect(encodeSnapshot(back)).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('applying after a snapshot equals applying everything, and apply is deterministic', () => {
    fc.assert(
      fc.property(history, fc.nat(), (ops, cut) => {
        const { records } = runOps(ops);
        const all = applyRecords(EMPTY_IMAGE, records, 3);
        expect(applyRecords(EMPTY_IMAGE, records, 3)).toEqual(all);
        const k = records.length === 0 ? 0 : cut % (records.length + 1);
        const head = applyRecords(EMPTY_IMAGE, records.slice(0, k), 3);
        let resumed: MetadataImage = decodeSnapshot(encodeSnapshot(head));
        resumed = applyRecords(resumed, records.slice(k), 3);
        expect(resumed).toEqual(all);
      }),
      { numRuns: 200 },
    );
  });

  it('histories do exercise the interesting records', () => {
    const { records } = runOps(fc.sample(opArb, { numRuns: 400, seed: 7 }));
    const types = new Set(records.map((r) => r.type));
    for (const t of ['RegisterBroker', 'UnfenceBroker', 'FenceBroker', 'Topic', 'Partition', 'PartitionChange', 'Config', 'RemoveTopic', 'ProducerIds', 'ClusterId']) expect(types).toContain(t);
  });

  it('refuses damaged snapshots with CORRUPT_MESSAGE', () => {
    const bytes = encodeSnapshot(built());
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), fc.boolean(), (at, x, truncate) => {
        const bad = truncate ? bytes.subarray(0, at) : Uint8Array.from(bytes, (b, i) => (i === at ? b ^ x : b));
        expectCoded(() => decodeSnapshot(bad), 'CORRUPT_MESSAGE');
      }),
      { numRuns: 2000 },
    );
  });

  it('CRC-valid snapshots of random records replay or give a coded error', () => {
    const bytes = encodeSnapshot(built());
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (edits) => {
        const bad = Uint8Array.from(bytes);
        for (const [at, v] of edits) bad[10 + (at % (bad.length - 14))] = v; // past the magic and version, before the CRC
        new DataView(bad.buffer).setInt32(bad.length - 4, crc32c(bad, 0, bad.length - 4) | 0);
        try {
          decodeSnapshot(bad);
        } catch (err) {
          if (!isEddyError(err)) throw err;
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('an empty image snapshots to a header and no records', () => {
    expect(decodeSnapshot(encodeSnapshot(EMPTY_IMAGE))).toEqual(EMPTY_IMAGE);
  });
});
