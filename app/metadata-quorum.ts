/**
 * The node's metadata quorum replica (a QuorumDriver over its LogStore) and what the node does
 * with it at start: once it leads, it writes the cluster id (if the metadata log lacks it) and its
 * own broker registration (if missing, or of an earlier process: another incarnation).
 *
 * Transport: a one-voter cluster elects itself over a loopback network holding just this node.
 * With more voters startNode passes the peer links' transport (gateway/quorum-peer-transport.ts);
 * without one (several voters but no cluster secret, in-process only: `eddy start` refuses that)
 * the node reaches nobody and never wins an election, and a warning says so.
 */
import { randomUUID } from 'node:crypto';
import type { Voter } from '../node/cluster/voters.js';
import { applyRecords, fenceBroker, heartbeat, registerBroker, type MetadataImage, type MetadataRecord } from '../node/controller/metadata/index.js';
import { QuorumDriver } from '../node/controller/quorum-driver.js';
import { LoopbackQuorumNetwork, type QuorumTransport } from '../node/controller/quorum-transport.js';
import type { RaftConfig } from '../node/controller/raft/raft-config.js';
import type { Logger } from '../node/logger.js';
import type { LogStore } from '../node/storage/log-store.js';

export interface MetadataQuorumOptions {
  nodeId: number;
  voters: readonly Voter[];
  clusterId: string;
  /** This node's advertised WebSocket URL: the endpoint of its registration. */
  selfUrl: string;
  dataDir: string;
  store: LogStore;
  logger: Logger;
  /** How the other voters are reached (the peer links); absent: loopback, reaching only this node. */
  transport?: QuorumTransport;
  raft?: Partial<Omit<RaftConfig, 'snapshotMinEntries'>>;
  /** Snapshot every this many committed records (the driver's default when absent). */
  snapshotEveryRecords?: number;
}

/**
 * One voter needs no timeout to wait out a leader that might exist: it elects itself at its
 * first tick (Raft's randomized timeout only keeps several candidates from colliding).
 */
const SINGLE_VOTER_RAFT: Partial<RaftConfig> = { electionTimeoutMs: 1, electionBackoffMaxMs: 1 };
const SINGLE_VOTER_TICK_MS = 10;
/** How long startNode waits for a one-voter quorum to elect itself and commit the registration. */
const SINGLE_VOTER_READY_MS = 3000;

export interface MetadataQuorum {
  readonly driver: QuorumDriver;
  /** This process's incarnation id (a fresh uuid per start, as in Kafka). */
  readonly incarnationId: string;
  /** Resolves once this node's registration (and unfencing) is committed; never rejects. */
  readonly registered: Promise<void>;
  close(): Promise<void>;
}

/**
 * The records that bring the image up to date with this node, as its controller decides them
 * (called on the quorum leader only): the cluster id if the log has none; a registration if
 * there is none for this node or it is of another incarnation (an earlier process of this data
 * directory: if it is still unfenced it is fenced first, since cluster.json makes sure no other
 * process serves this node id); once registered, the unfencing a caught-up heartbeat would get
 * (the leader is caught up with its own log). Empty when nothing is missing, so it is safe to
 * call after every election and commit.
 */
export function selfRegistrationRecords(
  image: MetadataImage,
  self: { nodeId: number; incarnationId: string; url: string; clusterId: string },
  nextOffset: number,
): MetadataRecord[] {
  const out: MetadataRecord[] = [];
  if (image.clusterId === null) out.push({ type: 'ClusterId', clusterId: self.clusterId });
  else if (image.clusterId !== self.clusterId) throw new Error(`the metadata log is of cluster ${image.clusterId}, cluster.json says ${self.clusterId}`);
  const mine = image.brokers.get(self.nodeId);
  if (mine && mine.incarnationId === self.incarnationId) {
    if (mine.fenced) out.push(...heartbeat(image, { brokerId: self.nodeId, brokerEpoch: mine.brokerEpoch, caughtUp: true }));
  } else {
    let base = image;
    if (mine && !mine.fenced) {
      const fence = fenceBroker(image, self.nodeId);
      out.push(...fence);
      base = applyRecords(image, fence);
    }
    // brokerEpoch: the offset the record lands at (Kafka's choice), after the records before it.
    out.push(
      ...registerBroker(
        base,
        { brokerId: self.nodeId, incarnationId: self.incarnationId, endpoints: { ws: self.url, mqtt: null, http: null }, clusterId: self.clusterId },
        nextOffset + out.length,
      ),
    );
  }
  return out;
}

export async function startMetadataQuorum(opts: MetadataQuorumOptions): Promise<MetadataQuorum> {
  const { nodeId, logger } = opts;
  const voterIds = opts.voters.map((v) => v.id);
  const single = voterIds.length === 1 && voterIds[0] === nodeId;
  if (!single && !opts.transport) {
    logger.warn(
      { nodeId, voters: voterIds },
      `metadata quorum: node ${nodeId} has no peer links (no cluster secret), so it cannot reach the other voters (${voterIds.filter((id) => id !== nodeId).join(', ')}): ` +
        'no metadata leader will be elected; give every node the same --cluster-secret-file',
    );
  }
  const transport = opts.transport ?? new LoopbackQuorumNetwork().transport(nodeId);
  const driver = await QuorumDriver.start({
    nodeId,
    voters: voterIds,
    dataDir: opts.dataDir,
    store: opts.store,
    transport,
    logger,
    ...(opts.snapshotEveryRecords !== undefined ? { snapshotEveryRecords: opts.snapshotEveryRecords } : {}),
    ...(single ? { raft: { ...SINGLE_VOTER_RAFT, ...opts.raft }, tickIntervalMs: SINGLE_VOTER_TICK_MS } : opts.raft ? { raft: opts.raft } : {}),
  });
  const incarnationId = randomUUID();
  const self = { nodeId, incarnationId, url: opts.selfUrl, clusterId: opts.clusterId };
  let inFlight = false;
  let done = false;
  let markRegistered!: () => void;
  const registered = new Promise<void>((resolve) => (markRegistered = resolve));
  const check = (image: MetadataImage): void => {
    if (done) return;
    const mine = image.brokers.get(nodeId);
    if (mine && mine.incarnationId === incarnationId && !mine.fenced && image.clusterId !== null) {
      done = true;
      logger.debug({ nodeId, brokerEpoch: mine.brokerEpoch, epoch: driver.epoch }, `node ${nodeId} is registered and unfenced in the metadata log (broker epoch ${mine.brokerEpoch})`);
      return markRegistered();
    }
    if (inFlight || driver.role !== 'leader') return;
    let records: MetadataRecord[];
    try {
      records = selfRegistrationRecords(image, self, driver.logEndOffset);
    } catch (err) {
      done = true; // not retried: it would fail the same way on every commit
      logger.error({ err, nodeId }, `node ${nodeId} cannot register itself in the metadata log: ${(err as Error).message}`);
      return markRegistered();
    }
    if (records.length === 0) return;
    inFlight = true;
    driver.propose(records).then(
      () => {
        inFlight = false;
        check(driver.image);
      },
      (err: Error) => {
        inFlight = false;
        // Lost leadership or timed out: the next commit (a new leader's first entry) tries again.
        logger.warn({ err, nodeId }, `node ${nodeId}'s registration was not committed: ${err.message}`);
      },
    );
  };
  // Every commit, including the new leader's own epoch-start entry, comes through here.
  const unsubscribe = driver.onCommitted((image) => check(image));
  check(driver.image);
  if (single) {
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      registered.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), SINGLE_VOTER_READY_MS))),
    ]);
    clearTimeout(timer);
    if (!waited) logger.warn({ nodeId }, `metadata quorum: node ${nodeId} did not register itself within ${SINGLE_VOTER_READY_MS} ms; starting anyway`);
  }
  return {
    driver,
    incarnationId,
    registered,
    async close() {
      unsubscribe();
      await driver.close();
    },
  };
}
