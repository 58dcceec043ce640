/**
 * Properties of the partition decisions over random cluster histories (metadata-cluster-ops.ts)
 * interleaved with random AlterPartition requests, each decided against the image of the moment
 * and its records applied, so ISRs shrink and grow and epochs move as in a running cluster.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AlterPartitionRequest } from '../../protocol/apis/alter-partition.js';
import { isEddyError } from '../../protocol/errors.js';
import { applyRecords } from '../../node/controller/metadata/apply.js';
import { sortedPartitions, sortedTopics, type MetadataImage, type PartitionImage } from '../../node/controller/metadata/image.js';
import { alterPartition, electLeader, preferredLeaderElections } from '../../node/controller/metadata/partition-decisions.js';
import { historyArb, opArb, recordsFor, runOps, type Op } from './metadata-cluster-ops.js';

/** An AlterPartition made from the image of the moment; mostly from the leader at the current epochs. */
interface AskRecipe {
  kind: 'ask';
  pick: number;
  fromLeader: boolean;
  sender: number;
  brokerEpochOk: boolean;
  leaderEpochDelta: number;
  partitionEpochDelta: number;
  /** true: the leader plus a subset of the replicas (mask); false: any broker ids (raw). */
  shaped: boolean;
  mask: number;
  raw: number[];
}

const delta = fc.oneof({ arbitrary: fc.constant(0), weight: 5 }, { arbitrary: fc.integer({ min: -2, max: 2 }), weight: 1 });

const askArb: fc.Arbitrary<AskRecipe> = fc.record({
  kind: fc.constant('ask' as const),
  pick: fc.nat(),
  fromLeader: fc.boolean().chain((b) => (b ? fc.constant(true) : fc.boolean())),
  sender: fc.integer({ min: 0, max: 5 }),
  brokerEpochOk: fc.oneof({ arbitrary: fc.constant(true), weight: 9 }, { arbitrary: fc.constant(false), weight: 1 }),
  leaderEpochDelta: delta,
  partitionEpochDelta: delta,
  shaped: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
  mask: fc.nat({ max: 255 }),
  raw: fc.array(fc.integer({ min: -1, max: 6 }), { maxLength: 5 }),
});

type Step = AskRecipe | { kind: 'op'; op: Op };
const stepsArb: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof({ arbitrary: askArb, weight: 4 }, { arbitrary: opArb.map((op): Step => ({ kind: 'op', op })), weight: 1 }),
  { minLength: 5, maxLength: 40 },
);

function partitions(image: MetadataImage): PartitionImage[] {
  return sortedTopics(image).flatMap((t) => sortedPartitions(t));
}

function requestFor(image: MetadataImage, r: AskRecipe): { req: AlterPartitionRequest; p: PartitionImage } | undefined {
  const all = partitions(image);
  if (all.length === 0) return undefined;
  // Mostly partitions with followers: a single replica's ISR can only stay as it is.
  const replicated = all.filter((q) => q.replicas.length > 1);
  const pool = replicated.length > 0 && r.pick % 4 !== 0 ? replicated : all;
  const p = pool[Math.floor(r.pick / 4) % pool.length]!;
  const brokerId = r.fromLeader && p.leader >= 0 ? p.leader : r.sender;
  const brokerEpoch = (image.brokers.get(brokerId)?.brokerEpoch ?? 0) + (r.brokerEpochOk ? 0 : 1);
  const newIsr = r.shaped ? [p.leader, ...p.replicas.filter((b, i) => b !== p.leader && (r.mask >> i) & 1)] : r.raw;
  return {
    p,
    req: {
      brokerId,
      brokerEpoch,
      topics: [{ topicId: p.topicId, partitions: [{ partitionIndex: p.partitionId, leaderEpoch: p.leaderEpoch + r.leaderEpochDelta, newIsr, partitionEpoch: p.partitionEpoch + r.partitionEpochDelta }] }],
    },
  };
}

const partitionIn = (image: MetadataImage, p: PartitionImage) => image.topicsById.get(p.topicId)!.partitions.get(p.partitionId)!;
const unfenced = (image: MetadataImage, b: number) => image.brokers.get(b)?.fenced === false;

describe('alterPartition properties', () => {
  it('an accepted change keeps the leader in an ISR of distinct replicas, adds only unfenced brokers, and bumps the partition epoch by one; a stale partition epoch is never accepted', () => {
    let accepted = 0;
    let changes = 0;
    let staleSeen = 0;
    fc.assert(
      fc.property(historyArb, stepsArb, (history, steps) => {
        let image = runOps(history).image;
        steps.forEach((step, i) => {
          if (step.kind === 'op') {
            image = applyRecords(image, recordsFor(image, step.op, history.length + i));
            return;
          }
          const made = requestFor(image, step);
          if (!made) return;
          const { req, p } = made;
          const ask = req.topics[0]!.partitions[0]!;
          let result;
          try {
            result = alterPartition(image, req);
          } catch (err) {
            // Request-wide refusals: only for a sender that is not registered at that epoch.
            expect(isEddyError(err, 'STALE_BROKER_EPOCH') || isEddyError(err, 'BROKER_ID_NOT_REGISTERED')).toBe(true);
            expect(image.brokers.get(req.brokerId)?.brokerEpoch).not.toBe(req.brokerEpoch);
            return;
          }
          const a = result.topics[0]!.partitions[0]!;
          if (ask.partitionEpoch !== p.partitionEpoch) {
            staleSeen++;
            expect(a.errorCode).not.toBe(0);
            expect(result.records).toEqual([]);
          }
          if (a.errorCode !== 0) {
            expect(result.records).toEqual([]);
            expect([a.leaderId, a.leaderEpoch, a.partitionEpoch]).toEqual([p.leader, p.leaderEpoch, p.partitionEpoch]);
            return;
          }
          accepted++;
          // Accepted only from the current leader at the current epochs.
          expect([req.brokerId, ask.leaderEpoch, ask.partitionEpoch]).toEqual([p.leader, p.leaderEpoch, p.partitionEpoch]);
          const isr = ask.newIsr;
          expect(isr).toContain(p.leader);
          expect(new Set(isr).size).toBe(isr.length);
          for (const b of isr) expect(p.replicas).toContain(b);
          for (const b of isr.filter((x) => !p.isr.includes(x))) expect(unfenced(image, b)).toBe(true);
          const after = applyRecords(image, result.records);
          const q = partitionIn(after, p);
          if (result.records.length === 0) {
            expect(q).toEqual(p);
          } else {
            changes++;
            expect(q.partitionEpoch).toBe(p.partitionEpoch + 1);
            expect([q.leader, q.leaderEpoch, q.replicas]).toEqual([p.leader, p.leaderEpoch, p.replicas]);
            expect(q.isr).toEqual(isr);
          }
          expect({ leaderId: a.leaderId, leaderEpoch: a.leaderEpoch, isr: a.isr, partitionEpoch: a.partitionEpoch }).toEqual({ leaderId: q.leader, leaderEpoch: q.leaderEpoch, isr: q.isr, partitionEpoch: q.partitionEpoch });
          image = after;
        });
      }),
      { numRuns: 500, seed: 20261204 },
    );
    // The generators reach every branch that matters, not only refusals.
    expect(accepted).toBeGreaterThan(500);
    expect(changes).toBeGreaterThan(100);
    expect(staleSeen).toBeGreaterThan(200);
  });
});

describe('election properties', () => {
  it('electLeader never elects a fenced broker or a non-replica; clean, only ISR members; unclean, only when no ISR member is live', () => {
    let unclean = 0;
    fc.assert(
      fc.property(historyArb, fc.integer({ min: -1, max: 4 }), (history, excluding) => {
        const image = runOps(history).image;
        for (const p of partitions(image)) {
          const live = (b: number) => b !== excluding && unfenced(image, b);
          for (const allow of [false, true]) {
            const e = electLeader(p, image, { unclean: allow, excluding });
            if (e.leader === -1) {
              expect(p.replicas.some((b) => live(b) && (allow || p.isr.includes(b)))).toBe(false);
              expect(e.unclean).toBe(false);
              continue;
            }
            expect(p.replicas).toContain(e.leader);
            expect(live(e.leader)).toBe(true);
            if (!e.unclean) {
              expect(p.isr).toContain(e.leader);
              // The first such replica: preferred leaders come first.
              expect(e.leader).toBe(p.replicas.find((b) => p.isr.includes(b) && live(b)));
            } else {
              unclean++;
              expect(allow).toBe(true);
              expect(p.isr).not.toContain(e.leader);
              expect(p.isr.some(live)).toBe(false);
            }
          }
        }
      }),
      { numRuns: 300, seed: 4242 },
    );
    expect(unclean).toBeGreaterThan(0);
  });

  it('preferredLeaderElections apply cleanly, hand each changed partition to its first replica with a new leader epoch, and are then done', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        const image = runOps(history).image;
        const recs = preferredLeaderElections(image);
        const after = applyRecords(image, recs);
        for (const r of recs) {
          const before = image.topicsById.get(r.topicId)!.partitions.get(r.partitionId)!;
          const q = partitionIn(after, before);
          expect(q.leader).toBe(before.replicas[0]);
          expect(unfenced(image, q.leader)).toBe(true);
          expect(q.leaderEpoch).toBe(before.leaderEpoch + 1);
          expect(q.isr).toEqual(before.isr);
        }
        expect(preferredLeaderElections(after)).toEqual([]);
      }),
      { numRuns: 200, seed: 99 },
    );
  });
});
