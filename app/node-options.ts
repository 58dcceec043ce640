/** What startNode takes (StartNodeOptions) and what it returns (RunningNode). */
import type { HttpServer } from '../gateway/http-server.js';
import type { PeerLinks } from '../gateway/peer-links.js';
import type { InboundPeer, PeerRequestHandlers } from '../gateway/peer-server.js';
import type { ConnectionStats } from '../gateway/server-connection.js';
import type { Broker } from '../node/broker/broker.js';
import type { ClusterInfo } from '../node/cluster/cluster-identity.js';
import type { Voter } from '../node/cluster/voters.js';
import type { QuorumDriver } from '../node/controller/quorum-driver.js';
import type { QuorumTransport } from '../node/controller/quorum-transport.js';
import type { GroupCoordinator } from '../node/groups/coordinator.js';
import type { HealthReport } from '../node/health.js';
import type { Logger } from '../node/logger.js';
import type { NodeMetrics } from '../node/metrics/node-metrics.js';
import type { ReplicaManager } from '../node/replication/replica-manager.js';
import type { DiskGuard } from '../node/storage/disk-guard.js';
import type { LogCleaner } from '../node/storage/log-cleaner.js';
import type { LogStore } from '../node/storage/log-store.js';
import type { SyncPolicy } from '../node/storage/sync-policy.js';
import type { RetentionTask } from '../node/topics/retention-task.js';
import type { TopicManager } from '../node/topics/topic-manager.js';
import type { BrokerController } from './broker-controller.js';
import type { BrokerLifecycle } from './broker-lifecycle.js';

export interface StartNodeOptions {
  dataDir: string;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  sync?: SyncPolicy;
  logger?: Logger;
  maxFrameBytes?: number;
  /** Unsent response bytes per client connection before the node stops reading it (default 4 MiB). */
  maxBufferedBytesPerConnection?: number;
  /** This node's id (default 0; `eddy start` passes --node-id, default 1). Checked against the data dir's cluster.json. */
  nodeId?: number;
  /** The id a new data dir's cluster takes (--cluster-id); absent or null: derived from the secret and voters with several voters, else a new random one. */
  clusterId?: string | null;
  /** The controller quorum voters; absent or null: a one-voter cluster of this node at its own URL. */
  voters?: Voter[] | null;
  /** Hard cap on the log file; writes past it fail with KAFKA_STORAGE_ERROR (as a full disk). Default: maxDiskBytes. */
  maxDatabaseBytes?: number;
  /** Snapshot the metadata image every this many committed metadata records (default 1000). */
  metadataSnapshotRecords?: number;
  /** An idempotent producer idle this long is forgotten by each partition (default 1 day). */
  producerIdExpirationMs?: number;
  /** Time between log cleaner rounds (compacted topics); default 15 s. */
  cleanerIntervalMs?: number;
  /** Batches appended since a partition's last clean that make it due; default 100. */
  cleanerMinDirtyBatches?: number;
  /** Disk budget for the log store's files; the disk guard refuses new records from 95 % of it. */
  maxDiskBytes?: number | null;
  /** How often retention runs (default 30 s). */
  retentionCheckIntervalMs?: number;
  /** The clock background tasks (cleaner, retention, disk guard, broker sessions) read: tests move it instead of waiting. */
  clock?: () => number;
  /** Port for GET /health and GET /metrics on `host` (0 picks a free one); null or absent: no HTTP listener. */
  httpPort?: number | null;
  /** Include prom-client's process metrics (CPU, memory, event loop, GC); default: when the HTTP listener is on. */
  processMetrics?: boolean;
  /** The secret peer links authenticate with (--cluster-secret-file); null or absent: no peer links, and every peer is refused. */
  clusterSecret?: Buffer | null;
  /** Where peers connect on the node's port (default /eddy-peer); other paths are clients'. */
  peerPath?: string;
  /** The peer APIs this node serves (the Raft driver's); default none: each is answered UNSUPPORTED_VERSION. */
  peerHandlers?: PeerRequestHandlers;
  /** Peer link timing, for tests: handshake limit (both ends, default 5 s) and the dialler's reconnect backoff. */
  peerTiming?: { handshakeTimeoutMs?: number; initialBackoffMs?: number; maxBackoffMs?: number };
  /**
   * For tests: how the metadata quorum reaches the other voters instead of the peer links.
   * Absent: the peer links with several voters and a secret, else loopback to this node alone
   * (enough for a one-voter cluster; with more voters and no secret nothing is reached and no
   * leader is elected; a warning says so).
   */
  quorumTransport?: QuorumTransport;
  /** How often a node heartbeats to the active controller (Kafka's broker.heartbeat.interval.ms); default 500 ms. */
  brokerHeartbeatIntervalMs?: number;
  /** The active controller fences a broker not heard from this long (Kafka's broker.session.timeout.ms); default 9000 ms. */
  brokerSessionTimeoutMs?: number;
  /**
   * Kafka's controlled.shutdown.enable (default true): close() first asks the controller to fence
   * this node so its partitions move before it stops. False: close() stops without it, as a crash
   * would look to the cluster (the controller fences the node when its session expires).
   */
  controlledShutdown?: boolean;
}

export interface RunningNode {
  url: string;
  /** The cluster this node belongs to (from the data dir's cluster.json), its id, the voters and its role. */
  cluster: ClusterInfo;
  host: string;
  port: number;
  dataDir: string;
  store: LogStore;
  topics: TopicManager;
  /** Every leader append (produce, MQTT ingest, committed offsets) goes through it. */
  replicas: ReplicaManager;
  groups: GroupCoordinator;
  /**
   * The request dispatcher and its context, for callers that are not a client connection (the
   * node's own topic creation, tests that send as a peer node would with RequestOrigin.peerNodeId).
   */
  broker: Broker;
  /** The log cleaner of compacted topics (`runOnce()` cleans the due partitions now). */
  cleaner: LogCleaner;
  retention: RetentionTask;
  diskGuard: DiskGuard;
  /** This node's metrics registry and counters (served at /metrics when the HTTP listener is on). */
  metrics: NodeMetrics;
  /** This node's metadata quorum replica (KRaft): role, epoch, leader, the metadata image. */
  quorum: QuorumDriver;
  /** This node's broker lifecycle: its registration with the active controller and heartbeats. */
  lifecycle: BrokerLifecycle;
  /** The controller half of the broker lifecycle (active on the quorum leader): broker sessions. */
  brokerController: BrokerController;
  /** The health and metrics listener, or null when off. `close()` stops it first; shutting down, stop it earlier still. */
  http: HttpServer | null;
  /** http://host:port of the health and metrics listener, or null when off. */
  httpUrl: string | null;
  /** What GET /health answers now. */
  health(): HealthReport;
  /**
   * The links this node dials, one per other voter, from a voter or an observer (none without a cluster secret), with each
   * one's state (connected, authenticated, last error) for `cluster describe`.
   */
  peers: PeerLinks;
  /** The authenticated links other nodes dialled to this one. */
  inboundPeers(): InboundPeer[];
  /** Flow control of each client connection: buffered answers, requests held (tests, diagnostics). */
  connectionStats(): ConnectionStats[];
  /** Stops the listeners, then closes the log store cleanly. */
  close(): Promise<void>;
}
