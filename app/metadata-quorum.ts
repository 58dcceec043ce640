/**
 * The node's metadata quorum replica (a QuorumDriver over its LogStore), and the records its
 * controller writes for the node itself once it leads (selfRegistrationRecords: the cluster id if
 * the metadata log lacks it, its own broker registration if missing or of an earlier process);
 * app/broker-controller.ts writes them, app/broker-lifecycle.ts registers the other nodes.
 *
 * Transport: with a cluster secret startNode passes the peer links' transport
 * (gateway/quorum-peer-transport.ts), which a one-voter cluster needs too once observers fetch
 * from it. Without a secret a one-voter cluster elects itself over a loopback network holding
 * just this node; with several voters (in-process only: `eddy start` refuses that) the node
 * reaches nobody and never wins an election, and a warning says so.
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
export const SINGLE_VOTER_READY_MS = 3000;

export interface MetadataQuorum {
  readonly driver: QuorumDriver;
  /** This process's incarnation id (a fresh uuid per start, as in Kafka). */
  readonly incarnationId: string;
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

/**
 * Resolves true once this replica's image has caught up with the metadata log's high watermark
 * as learnt in this process (Kafka's MetadataLoader publishes nothing before that), false after
 * `timeoutMs` (never, without one). The first commit of a process is the leader's epoch-start
 * entry or a follower's first fetch from the leader, so the high watermark is then the quorum's.
 * Until then the image is the snapshot's, replayed only part way: it lacks the topics created
 * later, and publishing it would drop them from this node.
 */
export function metadataCaughtUp(driver: Pick<QuorumDriver, 'image' | 'highWatermark' | 'onCommitted'>, timeoutMs?: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      unsubscribe();
      resolve(ok);
    };
    const unsubscribe = driver.onCommitted((image) => {
      if (image.lastOffset + 1 >= driver.highWatermark) done(true);
    });
    if (timeoutMs !== undefined) timer = setTimeout(() => done(false), timeoutMs);
  });
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
  return {
    driver,
    incarnationId,
    async close() {
      await driver.close();
    },
  };
}
