/**
 * The active controller (Kafka's QuorumController): on the metadata quorum's leader, admin
 * requests are decided on the current image (metadata/topic-decisions.ts) and the resulting
 * records are committed through the quorum. Decisions run one at a time, each on the image that
 * holds the previous one's records, so two requests never decide on the same stale image (two
 * creates of one name: the second sees the first).
 *
 * On any other node every call throws NOT_CONTROLLER (retriable), naming the leader if known:
 * the broker forwards admin requests to the leader instead (controller-channel.ts).
 */
import { EddyError, isEddyError } from '../../protocol/errors.js';
import type { TopicConfigChanges } from '../topics/topic-config.js';
import type { Logger } from '../logger.js';
import {
  allocateProducerIds,
  alterConfigs,
  alterPartition,
  createPartitions,
  createTopic,
  deleteTopic,
  importTopic,
  newTopicId,
  type CreateTopicRequest,
  type LegacyTopic,
  type MetadataImage,
  type MetadataRecord,
  type ProducerIdBlock,
} from './metadata/index.js';
import { PRODUCER_ID_BLOCK } from '../storage/producer-ids.js';
import type { AlterPartitionRequest, AlterPartitionResponse } from '../../protocol/apis/alter-partition.js';
import type { Committed } from './pending-proposals.js';
import type { RaftRole } from './raft/quorum-state.js';

/** What the controller needs of the quorum replica (QuorumDriver). */
export interface ControllerQuorum {
  readonly nodeId: number;
  readonly role: RaftRole;
  readonly leaderId: number | null;
  readonly epoch: number;
  readonly image: MetadataImage;
  propose(records: readonly MetadataRecord[]): Promise<Committed>;
}

export interface ActiveControllerOptions {
  quorum: ControllerQuorum;
  logger: Logger;
  /** Resolves once this node has applied the metadata log up to `offset` (its own topics are open): the publisher's. */
  applied?: (offset: number) => Promise<void>;
  newTopicId?: () => string;
}

export interface WriteOptions {
  /** Decide (and report errors) but write nothing. */
  validateOnly?: boolean;
  /** Allows internal ("__") topics: only nodes (a peer, or the node itself) ask for those. */
  internal?: boolean;
}

export class ActiveController {
  readonly #o: ActiveControllerOptions;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: ActiveControllerOptions) {
    this.#o = opts;
  }

  /** Whether this node is the active controller now. */
  get active(): boolean {
    return this.#o.quorum.role === 'leader';
  }

  /** Throws NOT_CONTROLLER unless this node is the active controller. */
  checkActive(): void {
    const q = this.#o.quorum;
    if (q.role === 'leader') return;
    throw new EddyError(
      'NOT_CONTROLLER',
      q.leaderId === null
        ? `no active controller: the metadata quorum has no leader in epoch ${q.epoch} (is a majority of the voters up?)`
        : `node ${q.nodeId} is not the active controller; node ${q.leaderId} is (epoch ${q.epoch})`,
    );
  }

  createTopic(req: CreateTopicRequest, opts: WriteOptions = {}): Promise<void> {
    return this.#write(`create topic ${req.name}`, { ...opts, done: `created topic ${req.name}`, topic: req.name }, (image) => {
      if (req.replicationFactor > 1) {
        throw new EddyError('INVALID_REPLICATION_FACTOR', `replication factor ${req.replicationFactor}: partitions are not replicated yet; use 1 (or -1 for the default)`);
      }
      return createTopic(image, req, (this.#o.newTopicId ?? newTopicId)(), { internal: opts.internal ?? false });
    });
  }

  deleteTopic(name: string, opts: WriteOptions = {}): Promise<void> {
    return this.#write(`delete topic ${name}`, { ...opts, done: `deleted topic ${name}`, topic: name }, (image) => deleteTopic(image, name, { internal: opts.internal ?? false }));
  }

  createPartitions(name: string, total: number, opts: WriteOptions = {}): Promise<void> {
    return this.#write(`create partitions of ${name}`, { ...opts, done: `topic ${name} now has ${total} partitions`, topic: name }, (image) => createPartitions(image, name, total, { internal: opts.internal ?? false }));
  }

  alterConfigs(name: string, changes: TopicConfigChanges, opts: WriteOptions = {}): Promise<void> {
    return this.#write(`alter configs of ${name}`, { ...opts, done: `altered configs of topic ${name}`, topic: name }, (image) => alterConfigs(image, name, changes, { internal: opts.internal ?? false }));
  }

  /**
   * The next block of producer ids for `brokerId` (allocateProducerIds), committed to the
   * metadata log before it is returned. `brokerEpoch` -1: not checked (the node itself).
   */
  async allocateProducerIds(brokerId: number, brokerEpoch: number): Promise<ProducerIdBlock> {
    let block: ProducerIdBlock | undefined;
    await this.#write(`allocate producer ids for node ${brokerId}`, {}, (image) => {
      const r = allocateProducerIds(image, brokerId, PRODUCER_ID_BLOCK, brokerEpoch < 0 ? undefined : brokerEpoch);
      block = r.block;
      return r.records;
    });
    return block!;
  }

  /**
   * A partition leader's ISR change (AlterPartition, KIP-497), decided on the image and
   * committed; resolves with the answer per partition. Request-wide refusals throw.
   */
  async alterPartition(req: AlterPartitionRequest): Promise<AlterPartitionResponse> {
    let answer: AlterPartitionResponse | undefined;
    await this.#write(`alter the ISR of ${req.topics.reduce((n, t) => n + t.partitions.length, 0)} partition(s) for node ${req.brokerId}`, {}, (image) => {
      const r = alterPartition(image, req);
      answer = { errorCode: 0, errorMessage: null, topics: r.topics };
      return r.records;
    });
    return answer!;
  }

  /** Brings topics from before the cluster into the metadata log, on this node (importTopic). */
  importTopics(topics: readonly LegacyTopic[], producerIdFloor = 0): Promise<void> {
    const id = this.#o.newTopicId ?? newTopicId;
    return this.#write(`import ${topics.length} topic(s) from before the cluster`, { internal: true }, (image) => {
      const records = topics.flatMap((t) => importTopic(image, t, this.#o.quorum.nodeId, id()));
      // Producer ids the single-node version handed out stay taken: the partitions remember their producers.
      if (producerIdFloor > image.producerIds.nextProducerId) {
        records.push({ type: 'ProducerIds', brokerId: this.#o.quorum.nodeId, brokerEpoch: image.brokers.get(this.#o.quorum.nodeId)?.brokerEpoch ?? -1, nextProducerId: producerIdFloor });
      }
      return records;
    });
  }

  /**
   * Decides on the image (after every earlier decision committed) and commits the records; the
   * node's own publisher has applied them when this resolves. A decision with no records (a
   * config set to the value it has) commits nothing.
   */
  write(what: string, decide: (image: MetadataImage) => MetadataRecord[], opts: WriteOptions = {}): Promise<void> {
    return this.#write(what, opts, decide);
  }

  #write(what: string, opts: WriteOptions & { done?: string; topic?: string }, decide: (image: MetadataImage) => MetadataRecord[]): Promise<void> {
    const run = async (): Promise<void> => {
      this.checkActive();
      const records = decide(this.#o.quorum.image);
      if (opts.validateOnly || records.length === 0) return;
      let committed: Committed;
      try {
        committed = await this.#o.quorum.propose(records);
      } catch (err) {
        // Leadership lost under the proposal: the client retries against the new controller.
        if (isEddyError(err) && err.errorName === 'NOT_LEADER_OR_FOLLOWER') throw new EddyError('NOT_CONTROLLER', `${what}: ${err.detail}`);
        throw err;
      }
      // Internal topics are housekeeping the node does by itself: not news for the operator.
      const level = opts.done && !opts.internal ? 'info' : 'debug';
      this.#o.logger[level]({ topic: opts.topic, offsets: committed.offsets, epoch: committed.epoch }, opts.done ?? `controller committed: ${what}`);
      await this.#o.applied?.(committed.offsets[committed.offsets.length - 1]!);
    };
    const p = this.#queue.then(run, run);
    this.#queue = p.catch(() => {});
    return p;
  }
}
