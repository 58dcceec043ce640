/**
 * The I/O host of one metadata quorum replica: it runs a pure `RaftNode` against real storage,
 * a timer and a transport, following the discipline of the simulation's host (test/sim/sim-host.ts):
 * - outputs are acted on in the order emitted; every disk write (log append, truncation,
 *   quorum state, snapshot install) goes through one serial queue, and each is acknowledged to
 *   the core only once synced, so the core's durable prefix is never ahead of the disk;
 * - sends go out at once (the core itself holds what must wait for a durable vote);
 * - commits are applied to the MetadataImage synchronously, in order, each once;
 * - the wall clock is read here only (`now`, default Date.now), by a 50 ms unref'd timer.
 *
 * Durable state in the data directory: `quorum-state.json`, `snapshots/<endOffset>-<epoch>.snapshot`,
 * and the metadata log as the internal partition `__cluster_metadata`-0 of the node's LogStore.
 */
import { EddyError } from '../../protocol/errors.js';
import type { Logger } from '../logger.js';
import type { LogStore } from '../storage/log-store.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { applyRecord, decodeRecord, decodeSnapshot, EMPTY_IMAGE, encodeRecord, encodeSnapshot, type MetadataImage, type MetadataRecord } from './metadata/index.js';
import { encodeEntry, METADATA_PARTITION, METADATA_TOPIC, readEntries } from './metadata-log.js';
import { PendingProposals, ProposeError, type Committed } from './pending-proposals.js';
import { readQuorumState, writeQuorumState } from './quorum-state-file.js';
import type { QuorumTransport } from './quorum-transport.js';
import type { RaftConfig } from './raft/raft-config.js';
import type { RaftEntry, RaftOutput, SnapshotId } from './raft/raft-messages.js';
import { RaftNode } from './raft/raft-node.js';
import type { RaftRole } from './raft/quorum-state.js';
import { loadLatestSnapshot, writeSnapshot } from './snapshot-files.js';

export { ProposeError, type Committed } from './pending-proposals.js';

export interface QuorumDriverOptions {
  readonly nodeId: number;
  readonly voters: readonly number[];
  /** Holds quorum-state.json and snapshots/. */
  readonly dataDir: string;
  /** The node's log store; the metadata log is its partition `__cluster_metadata`-0. */
  readonly store: LogStore;
  readonly transport: QuorumTransport;
  readonly logger?: Logger;
  /** The quorum's timing (controller.quorum.*); `snapshotMinEntries` is set from `snapshotEveryRecords`. */
  readonly raft?: Partial<Omit<RaftConfig, 'snapshotMinEntries'>>;
  /** Take a snapshot once this many records committed since the last one (Kafka's metadata.log.max.record.bytes.between.snapshots, by count). */
  readonly snapshotEveryRecords?: number;
  readonly tickIntervalMs?: number;
  /** A proposal not committed this long is rejected with REQUEST_TIMED_OUT (outcome unknown). */
  readonly proposeTimeoutMs?: number;
  readonly random?: () => number;
  readonly now?: () => number;
}

/** Called after each commit with the new image and the metadata records it applied (none for a snapshot install). */
export type CommitListener = (image: MetadataImage, records: readonly MetadataRecord[], info: { readonly snapshot: boolean }) => void;

/** One replica as DescribeQuorum reports it (KIP-595); -1 where unknown. */
export interface ReplicaDescription {
  readonly replicaId: number;
  readonly logEndOffset: number;
  readonly lastFetchTimestamp: number;
  readonly lastCaughtUpTimestamp: number;
}

export interface QuorumDescription {
  readonly nodeId: number;
  readonly role: RaftRole;
  readonly leaderId: number | null;
  readonly leaderEpoch: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  /** Per voter and observer; filled in only on the leader (who sees their fetches), as in Kafka. */
  readonly currentVoters: readonly ReplicaDescription[];
  readonly observers: readonly ReplicaDescription[];
}

const DEFAULT_SNAPSHOT_EVERY = 1000;
const DEFAULT_TICK_MS = 50;
const DEFAULT_PROPOSE_TIMEOUT_MS = 5000;

export class QuorumDriver {
  readonly nodeId: number;
  readonly #node: RaftNode;
  readonly #log: PartitionLog;
  readonly #opts: QuorumDriverOptions;
  readonly #now: () => number;
  readonly #logger: Logger | undefined;
  readonly #pending = new PendingProposals();
  readonly #listeners = new Set<CommitListener>();
  readonly #timer: NodeJS.Timeout;
  #image: MetadataImage;
  #disk: Promise<void> = Promise.resolve();
  #closed = false;
  #failure: Error | null = null;

  private constructor(opts: QuorumDriverOptions, node: RaftNode, log: PartitionLog, image: MetadataImage) {
    this.nodeId = opts.nodeId;
    this.#opts = opts;
    this.#node = node;
    this.#log = log;
    this.#image = image;
    this.#now = opts.now ?? Date.now;
    this.#logger = opts.logger;
    opts.transport.onMessage((from, message) => {
      if (this.#stopped) return;
      this.#node.receive(from, message, this.#now());
      this.#drain();
    });
    this.#timer = setInterval(() => this.#tick(), opts.tickIntervalMs ?? DEFAULT_TICK_MS);
    this.#timer.unref();
  }

  /** Recovers the durable state (quorum state, newest valid snapshot, the log after it) and starts the replica. */
  static async start(opts: QuorumDriverOptions): Promise<QuorumDriver> {
    const snapshotEvery = opts.snapshotEveryRecords ?? DEFAULT_SNAPSHOT_EVERY;
    if (!Number.isInteger(snapshotEvery) || snapshotEvery < 0) throw new Error(`quorum driver: snapshotEveryRecords must be a non-negative integer, got ${snapshotEvery}`);
    const quorumState = readQuorumState(opts.dataDir);
    const snapshot = loadLatestSnapshot(opts.dataDir, opts.logger);
    const snapshotEnd = snapshot?.id.endOffset ?? 0;
    let log = await opts.store.partition(METADATA_TOPIC, METADATA_PARTITION, { replicated: true });
    if (log.logStartOffset > snapshotEnd) {
      // The log was cut by a snapshot we no longer have (lost or damaged): what is left cannot
      // be replayed from the start, so start empty and let the leader send its snapshot.
      opts.logger?.warn({ logStartOffset: log.logStartOffset, snapshotEnd }, `metadata log starts at ${log.logStartOffset} but no snapshot reaches it; discarding the local metadata log`);
      await opts.store.dropPartition(METADATA_TOPIC, METADATA_PARTITION);
      log = await opts.store.partition(METADATA_TOPIC, METADATA_PARTITION, { replicated: true });
    }
    // Left by a crash between writing a snapshot (or installing one) and cutting the log.
    if (snapshotEnd > log.logStartOffset) await log.deleteBefore(snapshotEnd, { asFollower: true });
    const entries = readEntries(log, snapshotEnd);
    const node = new RaftNode({
      nodeId: opts.nodeId,
      voters: opts.voters,
      random: opts.random ?? Math.random,
      config: { ...opts.raft, snapshotMinEntries: snapshotEvery },
      ...(quorumState ? { quorumState } : {}),
      snapshot: snapshot ? { id: snapshot.id, data: snapshot.bytes } : null,
      entries,
      nowMs: (opts.now ?? Date.now)(),
    });
    // A hole or a bad tail the core did not take: the disk must end where the core's log does.
    if (log.logEndOffset > node.logEndOffset) await log.truncateTo(node.logEndOffset);
    const driver = new QuorumDriver(opts, node, log, snapshot?.image ?? EMPTY_IMAGE);
    driver.#drain();
    return driver;
  }

  /** The metadata as of the last committed record applied. Immutable: hold it as long as needed. */
  get image(): MetadataImage { return this.#image; }
  get role(): RaftRole { return this.#node.role; }
  get epoch(): number { return this.#node.epoch; }
  get leaderId(): number | null { return this.#node.leaderId; }
  get highWatermark(): number { return this.#node.highWatermark; }
  get logEndOffset(): number { return this.#node.logEndOffset; }
  get logStartOffset(): number { return this.#node.logStartOffset; }
  /** Set when a disk write failed: the replica stopped (fail-stop, as Kafka's controller does). */
  get failure(): Error | null { return this.#failure; }

  /** Subscribes to commits; returns the unsubscribe function. */
  onCommitted(listener: CommitListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /**
   * Appends `records` as leader and resolves once they are committed (and applied to `image`).
   * Rejects with a retriable ProposeError: NOT_LEADER_OR_FOLLOWER (not the leader, or leadership
   * lost; `leaderId` names the leader when known) or REQUEST_TIMED_OUT.
   */
  propose(records: readonly MetadataRecord[]): Promise<Committed> {
    if (records.length === 0) return Promise.reject(new EddyError('INVALID_REQUEST', 'propose needs at least one record'));
    if (this.#stopped) {
      return Promise.reject(new ProposeError('NOT_LEADER_OR_FOLLOWER', this.#failure ? `the quorum replica stopped: ${this.#failure.message}` : 'the quorum replica is closed', null, this.epoch));
    }
    const payloads = records.map((r) => encodeRecord(r)); // throws on a record that does not encode, before anything is appended
    const r = this.#node.propose(payloads);
    if (!r.ok) return Promise.reject(new ProposeError('NOT_LEADER_OR_FOLLOWER', `node ${this.nodeId} is not the metadata leader (leader ${r.leaderId ?? 'unknown'}, epoch ${r.leaderEpoch})`, r.leaderId, r.leaderEpoch));
    const committed = this.#pending.add(r.offsets, this.#node.epoch, this.#now() + (this.#opts.proposeTimeoutMs ?? DEFAULT_PROPOSE_TIMEOUT_MS));
    this.#drain();
    return committed;
  }

  /** DescribeQuorum-like status. */
  describe(): QuorumDescription {
    const node = this.#node;
    const leading = node.role === 'leader';
    const now = this.#now();
    const states = node.replicaStates;
    const describe = (id: number): ReplicaDescription => {
      if (leading && id === this.nodeId) return { replicaId: id, logEndOffset: node.logEndOffset, lastFetchTimestamp: now, lastCaughtUpTimestamp: now };
      const s = states.get(id);
      return { replicaId: id, logEndOffset: s?.logEndOffset ?? -1, lastFetchTimestamp: s?.lastFetchMs ?? -1, lastCaughtUpTimestamp: s?.lastCaughtUpMs ?? -1 };
    };
    return {
      nodeId: this.nodeId,
      role: node.role,
      leaderId: node.leaderId,
      leaderEpoch: node.epoch,
      highWatermark: node.highWatermark,
      logStartOffset: node.logStartOffset,
      logEndOffset: node.logEndOffset,
      currentVoters: node.voters.map(describe),
      observers: [...states.keys()].filter((id) => !node.voters.includes(id)).sort((a, b) => a - b).map(describe),
    };
  }

  /** Graceful stop: a leader hands over (EndQuorumEpoch); waits for the disk writes in flight. Does not close the store. */
  async close(): Promise<void> {
    if (this.#closed) return this.#disk;
    clearInterval(this.#timer);
    this.#node.shutdown();
    this.#drain();
    this.#closed = true;
    this.#pending.abandon('the quorum replica is closing', this.#leader());
    await this.#disk;
  }

  get #stopped(): boolean {
    return this.#closed || this.#failure !== null;
  }

  #leader(): { id: number | null; epoch: number } {
    return { id: this.#node.leaderId, epoch: this.#node.epoch };
  }

  #tick(): void {
    if (this.#stopped) return;
    const now = this.#now();
    this.#node.tick(now);
    this.#pending.expire(now, this.#leader());
    this.#drain();
  }

  /** Acts on every output, in order. */
  #drain(): void {
    for (const out of this.#node.takeOutputs()) {
      try {
        this.#act(out);
      } catch (err) {
        this.#fail(err as Error, out.kind);
        return;
      }
    }
  }

  #act(out: RaftOutput): void {
    switch (out.kind) {
      case 'send':
        // After close only the disk acknowledgements run: nothing more leaves a closed replica.
        if (!this.#stopped) this.#opts.transport.send(out.to, out.message);
        return;
      case 'append': {
        const ts = this.#now();
        const batches = out.entries.map((e) => encodeEntry(e, ts));
        return this.#write('append', async () => {
          await this.#log.appendAsFollower(batches, { sync: true });
          this.#node.persisted(out.endOffset);
        });
      }
      case 'truncate':
        this.#pending.truncated(out.offset, this.#leader());
        return this.#write('truncate', () => this.#log.truncateTo(out.offset));
      case 'quorum-state':
        return this.#write('quorum-state', async () => {
          writeQuorumState(this.#opts.dataDir, out.state);
          this.#node.quorumStatePersisted();
        });
      case 'commit':
        return this.#commit(out.entries, out.highWatermark);
      case 'install-snapshot':
        return this.#install(out.snapshotId, out.data);
      case 'snapshot-request':
        return this.#takeSnapshot();
    }
  }

  /** Queues a disk write behind every earlier one; the core hears of it, then its outputs are drained. */
  #write(what: string, op: () => Promise<void>): void {
    this.#disk = this.#disk.then(async () => {
      if (this.#failure) return;
      try {
        await op();
      } catch (err) {
        return this.#fail(err as Error, what);
      }
      this.#drain();
    });
  }

  #fail(err: Error, what: string): void {
    if (this.#failure) return;
    this.#failure = err;
    clearInterval(this.#timer);
    this.#logger?.error({ err, nodeId: this.nodeId }, `metadata quorum replica ${this.nodeId} stopped: ${what} failed: ${err.message}`);
    this.#pending.abandon(`the quorum replica stopped (${what} failed)`, this.#leader());
  }

  #commit(entries: readonly RaftEntry[], highWatermark: number): void {
    const records: MetadataRecord[] = [];
    for (const e of entries) {
      let record: MetadataRecord = { type: 'NoOp' };
      if (!e.control) {
        try {
          record = decodeRecord(e.payload as Uint8Array);
          this.#image = applyRecord(this.#image, record, e.offset, e.epoch);
          records.push(record);
          continue;
        } catch (err) {
          // Every replica applies the same records in the same order, so each skips this one alike.
          this.#logger?.warn({ offset: e.offset, err }, `metadata record at offset ${e.offset} does not apply and is skipped: ${(err as Error).message}`);
          record = { type: 'NoOp' };
        }
      }
      // Control entries (and skipped records) still advance the image's position, so that the
      // image's last offset always ends the applied log and a snapshot of it names that point.
      this.#image = applyRecord(this.#image, record, e.offset, e.epoch);
    }
    this.#log.updateHighWatermark(Math.min(highWatermark, this.#log.logEndOffset));
    this.#pending.committed(entries, this.#image.lastOffset + 1, () => this.#leader());
    this.#emit(records, false);
  }

  #install(id: SnapshotId, data: unknown): void {
    const bytes = data as Uint8Array;
    // Decoded before anything is written: a bad snapshot from the leader must not replace a good log.
    const image = decodeSnapshot(bytes);
    this.#image = image;
    this.#logger?.info(
      { endOffset: id.endOffset, epoch: id.epoch },
      `installed the metadata leader's snapshot up to offset ${id.endOffset}: this node was behind the leader's log start (it was down or new); it follows the log from there`,
    );
    this.#pending.abandon('a snapshot from the leader replaced the local log', this.#leader());
    this.#write('install-snapshot', async () => {
      writeSnapshot(this.#opts.dataDir, id, bytes);
      if (this.#log.logEndOffset > id.endOffset) await this.#log.truncateTo(Math.max(this.#log.logStartOffset, id.endOffset));
      await this.#log.deleteBefore(id.endOffset, { asFollower: true });
      this.#node.persisted(id.endOffset);
    });
    this.#emit([], true);
  }

  /** KIP-630: the image as of the applied end is the snapshot; the log below it can go. */
  #takeSnapshot(): void {
    const image = this.#image;
    const id: SnapshotId = { endOffset: image.lastOffset + 1, epoch: image.lastEpoch };
    if (id.endOffset <= this.#node.logStartOffset) return;
    const bytes = encodeSnapshot(image);
    writeSnapshot(this.#opts.dataDir, id, bytes);
    this.#node.snapshotTaken(id, bytes);
    this.#write('snapshot log cleanup', () => this.#log.deleteBefore(id.endOffset, { asFollower: true }));
  }

  #emit(records: readonly MetadataRecord[], snapshot: boolean): void {
    for (const l of this.#listeners) {
      try {
        l(this.#image, records, { snapshot });
      } catch (err) {
        this.#logger?.error({ err }, `metadata commit listener failed: ${(err as Error).message}`);
      }
    }
  }
}
