/**
 * The controller's partition decisions (the ISR and election half of Kafka's
 * ReplicationControlManager): a leader's AlterPartition (KIP-497), the choice of a new leader,
 * and preferred leader elections (auto.leader.rebalance). Each takes the image and returns
 * records; nothing changes until they are committed and applied.
 */
import type { AlterPartitionPartitionAnswer, AlterPartitionRequest, AlterPartitionTopicAnswer } from '../../../protocol/apis/alter-partition.js';
import { EddyError, ERRORS, type ErrorName } from '../../../protocol/errors.js';
import { changed } from './apply.js';
import { sortedPartitions, sortedTopics, type MetadataImage, type PartitionImage } from './image.js';
import { NO_LEADER, type PartitionChangeRecord } from './records.js';

export interface AlterPartitionResult {
  /** One PartitionChangeRecord per accepted change, in request order. */
  records: PartitionChangeRecord[];
  /** The answer per topic and partition, in request order: the response's `topics`. */
  topics: AlterPartitionTopicAnswer[];
}

/**
 * Decides a leader's AlterPartition. Request-wide refusals throw (BROKER_ID_NOT_REGISTERED,
 * STALE_BROKER_EPOCH: a sender that registered again since must not act on its old session's
 * view); everything else is answered per partition, so one bad partition does not block the
 * others. Each partition's answer carries its state after the request: the new state when the
 * change is accepted, the current one otherwise.
 *
 * Partitions are decided in order against the image with the earlier accepted changes applied,
 * so a partition named twice is decided twice: the second, made from the first's partition
 * epoch, gets INVALID_UPDATE_VERSION, as two separate requests would.
 */
export function alterPartition(image: MetadataImage, req: AlterPartitionRequest): AlterPartitionResult {
  const sender = image.brokers.get(req.brokerId);
  if (!sender) throw new EddyError('BROKER_ID_NOT_REGISTERED', `broker ${req.brokerId} is not registered`);
  if (sender.brokerEpoch !== req.brokerEpoch) throw new EddyError('STALE_BROKER_EPOCH', `broker ${req.brokerId} epoch ${req.brokerEpoch} is not its current ${sender.brokerEpoch}`);
  const decided = new Map<string, PartitionImage>();
  const records: PartitionChangeRecord[] = [];
  const topics = req.topics.map((t): AlterPartitionTopicAnswer => {
    const topic = image.topicsById.get(t.topicId);
    const partitions = t.partitions.map((ask): AlterPartitionPartitionAnswer => {
      if (!topic) return refusal(ask.partitionIndex, 'UNKNOWN_TOPIC_ID', `no topic has id ${t.topicId}`);
      const key = `${t.topicId}:${ask.partitionIndex}`;
      const p = decided.get(key) ?? topic.partitions.get(ask.partitionIndex);
      if (!p) return refusal(ask.partitionIndex, 'UNKNOWN_TOPIC_OR_PARTITION', `topic ${topic.name} has no partition ${ask.partitionIndex}`);
      const what = `${topic.name}-${p.partitionId}`;
      const problem = isrChangeProblem(image, p, req.brokerId, ask, what);
      if (problem) return refusal(ask.partitionIndex, problem[0], problem[1], p);
      // The ISR is a set: asking for the one it already has (in any order) changes nothing.
      if (sameMembers(ask.newIsr, p.isr)) return answer(p);
      const record: PartitionChangeRecord = { type: 'PartitionChange', topicId: p.topicId, partitionId: p.partitionId, isr: [...ask.newIsr] };
      records.push(record);
      const next = changed(p, record);
      decided.set(key, next);
      return answer(next);
    });
    return { topicId: t.topicId, partitions };
  });
  return { records, topics };
}

type Ask = AlterPartitionRequest['topics'][number]['partitions'][number];

/** Why `brokerId` may not make `ask` of partition `p`, or undefined when it may. */
function isrChangeProblem(image: MetadataImage, p: PartitionImage, brokerId: number, ask: Ask, what: string): [ErrorName, string] | undefined {
  // Epochs first: a deposed leader learns it was deposed (FENCED_LEADER_EPOCH) rather than
  // merely that it is not the leader, so it stops leading at once.
  if (ask.leaderEpoch < p.leaderEpoch) return ['FENCED_LEADER_EPOCH', `${what} is at leader epoch ${p.leaderEpoch}; the request is from epoch ${ask.leaderEpoch}`];
  if (ask.leaderEpoch > p.leaderEpoch) return ['UNKNOWN_LEADER_EPOCH', `${what} is at leader epoch ${p.leaderEpoch}; the request names ${ask.leaderEpoch}`];
  if (p.leader !== brokerId) return ['NOT_LEADER_OR_FOLLOWER', `broker ${brokerId} does not lead ${what} (its leader is ${p.leader})`];
  // KIP-497: an ISR is changed only from the latest view of it, so a change made while another
  // (say, the controller's fencing of a follower) was being committed cannot undo it.
  if (ask.partitionEpoch !== p.partitionEpoch) return ['INVALID_UPDATE_VERSION', `${what} is at partition epoch ${p.partitionEpoch}; the request was made at ${ask.partitionEpoch}`];
  const isr = ask.newIsr;
  const list = `[${isr.join(',')}]`;
  if (!isr.includes(p.leader)) return ['INVALID_REQUEST', `the new ISR ${list} of ${what} does not hold its leader ${p.leader}`];
  if (new Set(isr).size !== isr.length) return ['INVALID_REQUEST', `the new ISR ${list} of ${what} names a broker twice`];
  const stranger = isr.find((b) => !p.replicas.includes(b));
  if (stranger !== undefined) return ['INVALID_REQUEST', `the new ISR ${list} of ${what} names broker ${stranger}, which holds no replica of it (replicas [${p.replicas.join(',')}])`];
  // Only a live broker may join: a fenced one is not fetching, so counting it in the ISR would
  // let acks=all writes be acknowledged without it holding them.
  const ineligible = isr.find((b) => !p.isr.includes(b) && image.brokers.get(b)?.fenced !== false);
  if (ineligible !== undefined) return ['INELIGIBLE_REPLICA', `broker ${ineligible} may not join the ISR of ${what}: it is ${image.brokers.has(ineligible) ? 'fenced' : 'not registered'}`];
  return undefined;
}

function answer(p: PartitionImage): AlterPartitionPartitionAnswer {
  return { partitionIndex: p.partitionId, errorCode: 0, errorMessage: null, leaderId: p.leader, leaderEpoch: p.leaderEpoch, isr: [...p.isr], partitionEpoch: p.partitionEpoch };
}

/** An error answer; with the partition's current state when it exists (−1 and [] when not). */
function refusal(partitionIndex: number, name: ErrorName, detail: string, p?: PartitionImage): AlterPartitionPartitionAnswer {
  const state = p ? answer(p) : { partitionIndex, leaderId: NO_LEADER, leaderEpoch: -1, isr: [], partitionEpoch: -1 };
  return { ...state, partitionIndex, errorCode: ERRORS[name].code, errorMessage: `${name}: ${detail}` };
}

function sameMembers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export interface Election {
  /** The broker elected, or −1 (NO_LEADER) when no replica may lead. */
  readonly leader: number;
  /**
   * The leader was not in the ISR (unclean election): records it had not replicated may be
   * lost. The caller logs it loudly, counts it, and sets the ISR to just the new leader.
   */
  readonly unclean: boolean;
}

export interface ElectionOptions {
  /** The topic allows an out-of-sync replica to lead when no ISR member can (unclean.leader.election.enable). */
  unclean?: boolean;
  /** A broker that may not lead even though the image has it unfenced (one being fenced or shut down). */
  excluding?: number;
}

/**
 * The leader to elect for `p`: the first replica, in replica order, that is in the ISR and
 * unfenced (Kafka's clean election, which keeps preferred leaders first). With `unclean` and no
 * such replica, the first unfenced replica, marked unclean. Otherwise −1.
 */
export function electLeader(p: PartitionImage, image: MetadataImage, opts: ElectionOptions = {}): Election {
  const alive = (b: number) => b !== opts.excluding && image.brokers.get(b)?.fenced === false;
  const clean = p.replicas.find((b) => p.isr.includes(b) && alive(b));
  if (clean !== undefined) return { leader: clean, unclean: false };
  const anyLive = opts.unclean ? p.replicas.find(alive) : undefined;
  return anyLive !== undefined ? { leader: anyLive, unclean: true } : { leader: NO_LEADER, unclean: false };
}

/**
 * PartitionChangeRecords that move leadership back to each partition's preferred leader (its
 * first replica) where that broker is unfenced and in the ISR but does not lead (Kafka's
 * auto.leader.rebalance): placement spread the first replicas evenly, so this restores the
 * balance after a node comes back. By topic name, then partition.
 */
export function preferredLeaderElections(image: MetadataImage): PartitionChangeRecord[] {
  const out: PartitionChangeRecord[] = [];
  for (const t of sortedTopics(image)) {
    for (const p of sortedPartitions(t)) {
      const preferred = p.replicas[0];
      if (preferred === undefined || p.leader === preferred || !p.isr.includes(preferred)) continue;
      if (image.brokers.get(preferred)?.fenced !== false) continue;
      out.push({ type: 'PartitionChange', topicId: p.topicId, partitionId: p.partitionId, leader: preferred });
    }
  }
  return out;
}
