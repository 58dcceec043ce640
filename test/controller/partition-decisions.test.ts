/**
 * The controller's partition decisions on images built from records: AlterPartition's rules
 * (KIP-497) one by one, the election choice, and preferred leader elections.
 */
import { describe, expect, it } from 'vitest';
import type { AlterPartitionRequest } from '../../protocol/apis/alter-partition.js';
import { ERRORS, errorNameForCode } from '../../protocol/errors.js';
import { applyRecords } from '../../node/controller/metadata/apply.js';
import { fenceBroker } from '../../node/controller/metadata/broker-decisions.js';
import { EMPTY_IMAGE, type MetadataImage } from '../../node/controller/metadata/image.js';
import { alterPartition, electLeader, preferredLeaderElections } from '../../node/controller/metadata/partition-decisions.js';
import type { MetadataRecord } from '../../node/controller/metadata/records.js';
import { topicIdFromBytes } from '../../node/controller/metadata/uuid.js';
import { errorNameOf } from '../helpers/failure.js';

const T = topicIdFromBytes(Uint8Array.from({ length: 16 }, (_, i) => i + 1));
const OTHER = topicIdFromBytes(Uint8Array.from({ length: 16 }, (_, i) => 0xf0 - i));
const inc = (b: number) => `00000000-0000-4000-8000-${String(b).padStart(12, '0')}`;
/** Broker b's epoch in these images. */
const epochOf = (b: number) => 100 + b;

interface PartitionState {
  replicas: number[];
  isr: number[];
  leader: number;
  leaderEpoch?: number;
  partitionEpoch?: number;
}

/** Brokers 1..n (those in `fenced` fenced), topic "t" (id T) with the given partitions. */
function image(partitions: PartitionState[], opts: { brokers?: number; fenced?: number[] } = {}): MetadataImage {
  const records: MetadataRecord[] = [{ type: 'ClusterId', clusterId: 'c1' }];
  for (let b = 1; b <= (opts.brokers ?? 4); b++) {
    records.push({ type: 'RegisterBroker', brokerId: b, incarnationId: inc(b), brokerEpoch: epochOf(b), endpoints: { ws: `ws://b${b}`, mqtt: null, http: null }, fenced: (opts.fenced ?? []).includes(b) });
  }
  records.push({ type: 'Topic', name: 't', topicId: T });
  partitions.forEach((p, partitionId) =>
    records.push({ type: 'Partition', topicId: T, partitionId, replicas: p.replicas, isr: p.isr, leader: p.leader, leaderEpoch: p.leaderEpoch ?? 5, partitionEpoch: p.partitionEpoch ?? 9 }),
  );
  return applyRecords(EMPTY_IMAGE, records);
}

const THREE: PartitionState = { replicas: [1, 2, 3], isr: [1, 2], leader: 1 };

/** One partition's request from broker `brokerId` (default: the leader 1 at the current epochs). */
function ask(newIsr: number[], over: { brokerId?: number; brokerEpoch?: number; leaderEpoch?: number; partitionEpoch?: number; partition?: number; topicId?: string } = {}): AlterPartitionRequest {
  const brokerId = over.brokerId ?? 1;
  return {
    brokerId,
    brokerEpoch: over.brokerEpoch ?? epochOf(brokerId),
    topics: [{ topicId: over.topicId ?? T, partitions: [{ partitionIndex: over.partition ?? 0, leaderEpoch: over.leaderEpoch ?? 5, newIsr, partitionEpoch: over.partitionEpoch ?? 9 }] }],
  };
}

/** The error name of the only partition answer (undefined: accepted). */
function only(img: MetadataImage, req: AlterPartitionRequest) {
  const res = alterPartition(img, req);
  const a = res.topics[0]!.partitions[0]!;
  return { res, a, error: a.errorCode === 0 ? undefined : errorNameForCode(a.errorCode) };
}

describe('alterPartition', () => {
  it('accepts an ISR expansion from the leader at the current epochs: one PartitionChangeRecord, the answer is the new state', () => {
    const img = image([THREE]);
    const { res, a, error } = only(img, ask([1, 2, 3]));
    expect(error).toBeUndefined();
    expect(res.records).toEqual([{ type: 'PartitionChange', topicId: T, partitionId: 0, isr: [1, 2, 3] }]);
    expect(a).toEqual({ partitionIndex: 0, errorCode: 0, errorMessage: null, leaderId: 1, leaderEpoch: 5, isr: [1, 2, 3], partitionEpoch: 10 });
    // Applied, the partition is what the answer said: partition epoch +1, leader epoch unchanged.
    const p = applyRecords(img, res.records).topicsById.get(T)!.partitions.get(0)!;
    expect([p.isr, p.leader, p.leaderEpoch, p.partitionEpoch]).toEqual([[1, 2, 3], 1, 5, 10]);
  });

  it('accepts a shrink to the leader alone', () => {
    const { res, error } = only(image([THREE]), ask([1]));
    expect(error).toBeUndefined();
    expect(res.records[0]!.isr).toEqual([1]);
  });

  it('a no-op (the same ISR, in any order) writes nothing and answers the current state', () => {
    for (const same of [[1, 2], [2, 1]]) {
      const { res, a, error } = only(image([THREE]), ask(same));
      expect(error).toBeUndefined();
      expect(res.records).toEqual([]);
      expect(a).toMatchObject({ leaderId: 1, leaderEpoch: 5, isr: [1, 2], partitionEpoch: 9 });
    }
  });

  it('FENCED_LEADER_EPOCH for an older leader epoch, UNKNOWN_LEADER_EPOCH for a newer one; the answer has the current state', () => {
    const img = image([THREE]);
    const stale = only(img, ask([1], { leaderEpoch: 4 }));
    expect(stale.error).toBe('FENCED_LEADER_EPOCH');
    expect(stale.a).toMatchObject({ leaderId: 1, leaderEpoch: 5, isr: [1, 2], partitionEpoch: 9 });
    expect(stale.a.errorMessage).toMatch(/^FENCED_LEADER_EPOCH: t-0 is at leader epoch 5/);
    expect(stale.res.records).toEqual([]);
    expect(only(img, ask([1], { leaderEpoch: 6 })).error).toBe('UNKNOWN_LEADER_EPOCH');
  });

  it('INVALID_UPDATE_VERSION for a partition epoch other than the current one (KIP-497), older or newer', () => {
    const img = image([THREE]);
    for (const partitionEpoch of [8, 10, 0]) {
      const { error, res } = only(img, ask([1], { partitionEpoch }));
      expect(error).toBe('INVALID_UPDATE_VERSION');
      expect(res.records).toEqual([]);
    }
    expect(ERRORS.INVALID_UPDATE_VERSION.code).toBe(95);
  });

  it('NOT_LEADER_OR_FOLLOWER from a follower, even one at the current epochs', () => {
    expect(only(image([THREE]), ask([1, 2, 3], { brokerId: 2 })).error).toBe('NOT_LEADER_OR_FOLLOWER');
    expect(only(image([{ ...THREE, leader: -1 }]), ask([1, 2], { brokerId: 1 })).error).toBe('NOT_LEADER_OR_FOLLOWER');
  });

  it('STALE_BROKER_EPOCH (for the whole request) when the broker epoch is not the current one; BROKER_ID_NOT_REGISTERED for an unknown broker', () => {
    const img = image([THREE]);
    expect(errorNameOf(() => alterPartition(img, ask([1], { brokerEpoch: epochOf(1) - 1 })))).toBe('STALE_BROKER_EPOCH');
    expect(errorNameOf(() => alterPartition(img, ask([1], { brokerEpoch: epochOf(1) + 1 })))).toBe('STALE_BROKER_EPOCH');
    expect(errorNameOf(() => alterPartition(img, ask([1], { brokerId: 9, brokerEpoch: 1 })))).toBe('BROKER_ID_NOT_REGISTERED');
  });

  it('INVALID_REQUEST when the new ISR lacks the leader, names a broker twice, or names a non-replica', () => {
    const img = image([THREE]);
    expect(only(img, ask([2])).error).toBe('INVALID_REQUEST');
    expect(only(img, ask([])).error).toBe('INVALID_REQUEST');
    expect(only(img, ask([1, 2, 2])).error).toBe('INVALID_REQUEST');
    expect(only(img, ask([1, 1])).error).toBe('INVALID_REQUEST');
    // Broker 4 is registered and live but holds no replica of t-0.
    expect(only(img, ask([1, 4])).error).toBe('INVALID_REQUEST');
    expect(only(img, ask([1, -1])).error).toBe('INVALID_REQUEST');
  });

  it('INELIGIBLE_REPLICA when it adds a fenced replica; a fenced one already in the ISR may stay', () => {
    const img = image([THREE], { fenced: [3] });
    const { error, a } = only(img, ask([1, 2, 3]));
    expect(error).toBe('INELIGIBLE_REPLICA');
    expect(a.errorMessage).toMatch(/broker 3 .* fenced/);
    expect(ERRORS.INELIGIBLE_REPLICA.code).toBe(107);
    // Broker 2 fenced while still named in the ISR (the controller's own change is pending): the
    // leader may keep it, not re-add it; removing it is always allowed.
    const img2 = image([{ replicas: [1, 2, 3], isr: [1, 2], leader: 1 }], { fenced: [2] });
    expect(only(img2, ask([1, 2])).error).toBeUndefined();
    expect(only(img2, ask([1])).error).toBeUndefined();
  });

  it('INELIGIBLE_REPLICA when it adds a replica whose broker is not registered', () => {
    // Replica 5 was placed on a broker since unregistered.
    const img = image([{ replicas: [1, 5], isr: [1], leader: 1 }], { brokers: 5 });
    const gone = applyRecords(img, [...fenceBroker(img, 5), { type: 'UnregisterBroker', brokerId: 5, brokerEpoch: epochOf(5) }]);
    expect(only(gone, ask([1, 5])).error).toBe('INELIGIBLE_REPLICA');
  });

  it('UNKNOWN_TOPIC_ID for an unknown topic id, UNKNOWN_TOPIC_OR_PARTITION for an unknown partition; the answer says −1 and []', () => {
    const img = image([THREE]);
    const topic = only(img, ask([1], { topicId: OTHER }));
    expect(topic.error).toBe('UNKNOWN_TOPIC_ID');
    expect(topic.res.topics[0]!.topicId).toBe(OTHER);
    expect(topic.a).toMatchObject({ partitionIndex: 0, leaderId: -1, leaderEpoch: -1, isr: [], partitionEpoch: -1 });
    const part = only(img, ask([1], { partition: 7 }));
    expect(part.error).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(part.a).toMatchObject({ partitionIndex: 7, leaderId: -1, isr: [] });
  });

  it('answers each partition on its own: an accepted one and refused ones in one request, in request order', () => {
    const img = image([THREE, { replicas: [2, 1], isr: [2, 1], leader: 2 }, { replicas: [1, 3], isr: [1], leader: 1, partitionEpoch: 3 }]);
    const res = alterPartition(img, {
      brokerId: 1,
      brokerEpoch: epochOf(1),
      topics: [
        {
          topicId: T,
          partitions: [
            { partitionIndex: 2, leaderEpoch: 5, newIsr: [1, 3], partitionEpoch: 3 },
            { partitionIndex: 1, leaderEpoch: 5, newIsr: [1], partitionEpoch: 9 },
            { partitionIndex: 0, leaderEpoch: 5, newIsr: [1], partitionEpoch: 8 },
          ],
        },
        { topicId: OTHER, partitions: [{ partitionIndex: 0, leaderEpoch: 0, newIsr: [1], partitionEpoch: 0 }] },
      ],
    });
    const name = (code: number) => (code === 0 ? 'NONE' : errorNameForCode(code));
    expect(res.topics.map((t) => t.partitions.map((p) => [p.partitionIndex, name(p.errorCode)]))).toEqual([
      [[2, 'NONE'], [1, 'NOT_LEADER_OR_FOLLOWER'], [0, 'INVALID_UPDATE_VERSION']],
      [[0, 'UNKNOWN_TOPIC_ID']],
    ]);
    expect(res.records).toEqual([{ type: 'PartitionChange', topicId: T, partitionId: 2, isr: [1, 3] }]);
  });

  it('a partition named twice is decided twice: the second, from the old partition epoch, gets INVALID_UPDATE_VERSION', () => {
    const img = image([THREE]);
    const p = { partitionIndex: 0, leaderEpoch: 5, partitionEpoch: 9 };
    const res = alterPartition(img, { brokerId: 1, brokerEpoch: epochOf(1), topics: [{ topicId: T, partitions: [{ ...p, newIsr: [1] }, { ...p, newIsr: [1, 2, 3] }] }] });
    expect(res.records).toHaveLength(1);
    expect(res.topics[0]!.partitions.map((a) => a.errorCode)).toEqual([0, ERRORS.INVALID_UPDATE_VERSION.code]);
    expect(res.topics[0]!.partitions[1]).toMatchObject({ isr: [1], partitionEpoch: 10 });
  });

  it('checks epochs before leadership: a deposed leader hears FENCED_LEADER_EPOCH, not just NOT_LEADER_OR_FOLLOWER', () => {
    const img = image([{ replicas: [1, 2, 3], isr: [2, 3], leader: 2, leaderEpoch: 6 }]);
    expect(only(img, ask([1, 2], { leaderEpoch: 5 })).error).toBe('FENCED_LEADER_EPOCH');
  });
});

describe('electLeader', () => {
  const at = (img: MetadataImage, i = 0) => img.topicsById.get(T)!.partitions.get(i)!;

  it('picks the first replica in replica order that is in the ISR and unfenced', () => {
    const img = image([{ replicas: [3, 2, 1], isr: [1, 2, 3], leader: 1 }], { fenced: [3] });
    expect(electLeader(at(img), img)).toEqual({ leader: 2, unclean: false });
    expect(electLeader(at(img), img, { excluding: 2 })).toEqual({ leader: 1, unclean: false });
  });

  it('with no unfenced ISR member: -1, or with unclean allowed the first unfenced replica, marked unclean', () => {
    const img = image([{ replicas: [1, 2, 3], isr: [1], leader: 1 }], { fenced: [1, 2] });
    expect(electLeader(at(img), img)).toEqual({ leader: -1, unclean: false });
    expect(electLeader(at(img), img, { unclean: true })).toEqual({ leader: 3, unclean: true });
    const dark = image([{ replicas: [1, 2], isr: [1], leader: 1 }], { fenced: [1, 2] });
    expect(electLeader(at(dark), dark, { unclean: true })).toEqual({ leader: -1, unclean: false });
  });

  it('prefers a clean choice even with unclean allowed', () => {
    const img = image([{ replicas: [1, 2, 3], isr: [1, 3], leader: 1 }], { fenced: [1] });
    expect(electLeader(at(img), img, { unclean: true })).toEqual({ leader: 3, unclean: false });
  });
});

describe('preferredLeaderElections', () => {
  it('moves leadership back to the first replica where it is unfenced and in the ISR but does not lead', () => {
    const img = image(
      [
        { replicas: [1, 2], isr: [1, 2], leader: 2 }, // moves back to 1
        { replicas: [2, 1], isr: [2, 1], leader: 2 }, // already preferred
        { replicas: [3, 1], isr: [1], leader: 1 }, // 3 is not in the ISR
        { replicas: [4, 1], isr: [4, 1], leader: 1 }, // 4 is fenced
        { replicas: [1, 3], isr: [1], leader: -1 }, // leaderless: 1 can lead
      ],
      { fenced: [4] },
    );
    const recs = preferredLeaderElections(img);
    expect(recs).toEqual([
      { type: 'PartitionChange', topicId: T, partitionId: 0, leader: 1 },
      { type: 'PartitionChange', topicId: T, partitionId: 4, leader: 1 },
    ]);
    const after = applyRecords(img, recs);
    expect(after.topicsById.get(T)!.partitions.get(0)).toMatchObject({ leader: 1, leaderEpoch: 6, partitionEpoch: 10 });
    expect(preferredLeaderElections(after)).toEqual([]);
  });
});
