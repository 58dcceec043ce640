/**
 * Assembles a running single node: log store → topic manager → replica manager → broker →
 * WebSocket server.
 * `eddy start` and the integration tests use it; `close()` takes it down in reverse order.
 */
import '../protocol/crc32c-native.js'; // hardware CRC-32C in Node (see crc32c-native.ts)
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Broker } from '../node/broker/broker.js';
import { derivedClusterId, openClusterIdentity, type ClusterInfo } from '../node/cluster/cluster-identity.js';
import { RefusalLog } from '../node/cluster/refusal-log.js';
import type { Voter } from '../node/cluster/voters.js';
import { GroupCoordinator } from '../node/groups/coordinator.js';
import { healthReport, type HealthReport } from '../node/health.js';
import { silentLogger, type Logger } from '../node/logger.js';
import { NodeMetrics } from '../node/metrics/node-metrics.js';
import { ReplicaManager } from '../node/replication/replica-manager.js';
import { LogCleaner } from '../node/storage/log-cleaner.js';
import { DiskGuard } from '../node/storage/disk-guard.js';
import { LogStore } from '../node/storage/log-store.js';
import { ProducerIdManager } from '../node/storage/producer-ids.js';
import { SYNC_ALWAYS, type SyncPolicy } from '../node/storage/sync-policy.js';
import { compactedPartitions } from '../node/topics/compacted-partitions.js';
import { RetentionTask } from '../node/topics/retention-task.js';
import { TopicManager } from '../node/topics/topic-manager.js';
import { HttpServer } from '../gateway/http-server.js';
import { PeerLinks } from '../gateway/peer-links.js';
import { QuorumPeerTransport } from '../gateway/quorum-peer-transport.js';
import { wsTransport } from '../gateway/peer-transport.js';
import { PeerServer, type InboundPeer, type PeerRequestHandlers } from '../gateway/peer-server.js';
import type { ConnectionStats } from '../gateway/server-connection.js';
import { DEFAULT_MAX_FRAME_BYTES, ProtocolServer } from '../gateway/server.js';
import type { QuorumDriver } from '../node/controller/quorum-driver.js';
import type { QuorumTransport } from '../node/controller/quorum-transport.js';
import { startMetadataQuorum, type MetadataQuorum } from './metadata-quorum.js';
import type { BrokerContext } from '../node/broker/context.js';
import { ensureOffsetsTopic } from '../node/broker/node-topics.js';
import { ActiveController } from '../node/controller/active-controller.js';
import { MetadataPublisher } from '../node/controller/metadata-publisher.js';
import { OFFSETS_TOPIC } from '../node/groups/offset-store.js';
import { controllerForwarder } from './controller-forwarder.js';
import { importLegacyTopics } from './legacy-topics.js';
import { nodePeerHandlers } from './peer-handlers.js';
import { allocateProducerIds } from './producer-id-blocks.js';
import { BrokerController } from './broker-controller.js';
import { BrokerLifecycle } from './broker-lifecycle.js';
import { metadataCaughtUp, SINGLE_VOTER_READY_MS } from './metadata-quorum.js';

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
   * PLACEHOLDER until the peer-link transport is merged: how the metadata quorum reaches the
   * other voters. Absent: loopback to this node alone (enough for a one-voter cluster; with more
   * voters nothing is reached and no leader is elected; a warning says so).
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
   * The request dispatcher and its context, for callers that are not a client connection: tests
   * that send as a peer node would (RequestOrigin.peerNodeId), before peer links exist.
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

/** Where peer links connect unless --peer-path says otherwise (NodeConfig's default too). */
const DEFAULT_PEER_PATH = '/eddy-peer';

/** How often partitions' recovery points are persisted while running. */
const RECOVERY_POINT_INTERVAL_MS = 10_000;

export async function startNode(opts: StartNodeOptions): Promise<RunningNode> {
  const logger = opts.logger ?? silentLogger;
  const dataDir = resolve(opts.dataDir);
  const host = opts.host ?? '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const startedAt = performance.now();
  const nodeId = opts.nodeId ?? 0;
  // Before the log store opens: a data directory of another node is refused untouched.
  const voters = opts.voters ?? null;
  const derived = opts.clusterSecret && voters && voters.length > 1 ? derivedClusterId(opts.clusterSecret, voters) : null;
  const identity = openClusterIdentity(dataDir, { nodeId, voters, clusterId: opts.clusterId ?? null, newClusterId: derived });
  const dbPath = join(dataDir, 'log.db');
  const maxDatabaseBytes = opts.maxDatabaseBytes ?? opts.maxDiskBytes ?? undefined;
  const store = await LogStore.open({
    path: dbPath,
    sync: opts.sync ?? SYNC_ALWAYS,
    logger,
    ...(maxDatabaseBytes !== undefined ? { maxDatabaseBytes } : {}),
    ...(opts.producerIdExpirationMs !== undefined ? { partitionDefaults: { producerIdExpirationMs: opts.producerIdExpirationMs } } : {}),
  });
  const diskGuard = new DiskGuard({
    dataDir,
    files: [dbPath, `${dbPath}-wal`],
    databaseBytes: () => {
      const { total, pageSize } = store.pageCounts();
      return total * pageSize;
    },
    maxDiskBytes: opts.maxDiskBytes ?? null,
    logger,
    ...(opts.clock ? { now: opts.clock } : {}),
  });
  let server: ProtocolServer | undefined;
  let peers: PeerLinks | undefined;
  let peerServer: PeerServer | undefined;
  let http: HttpServer | null = null;
  let groups: GroupCoordinator | undefined;
  let cleaner: LogCleaner | undefined;
  let retention: RetentionTask | undefined;
  let quorum: MetadataQuorum | undefined;
  let publisher: MetadataPublisher | undefined;
  let brokerController: BrokerController | undefined;
  let lifecycle: BrokerLifecycle | undefined;
  let unsubscribe = (): void => {};
  try {
    const topics = await TopicManager.open(store, logger);
    const replicas = new ReplicaManager({ topics, diskGuard });
    groups = await GroupCoordinator.open(topics, replicas, logger);
    // Blocks of producer ids come from the active controller (here, or over the peer link).
    const producerIds = await ProducerIdManager.open(store, { allocate: () => allocateProducerIds(broker.ctx, nodeId) });
    store.persistRecoveryPointsEvery(RECOVERY_POINT_INTERVAL_MS);
    cleaner = new LogCleaner({
      store,
      targets: () => compactedPartitions(topics),
      logger,
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.cleanerIntervalMs !== undefined ? { intervalMs: opts.cleanerIntervalMs } : {}),
      ...(opts.cleanerMinDirtyBatches !== undefined ? { minDirtyBatches: opts.cleanerMinDirtyBatches } : {}),
    });
    cleaner.start();
    retention = new RetentionTask({
      topics,
      store,
      logger,
      diskGuard,
      ...(opts.clock ? { now: opts.clock } : {}),
      ...(opts.retentionCheckIntervalMs !== undefined ? { intervalMs: opts.retentionCheckIntervalMs } : {}),
    });
    retention.start();
    const httpPort = opts.httpPort ?? null;
    const metrics = new NodeMetrics({ topics, groups, diskGuard, nodeId, processMetrics: opts.processMetrics ?? httpPort !== null });
    // The quorum, controller and publisher join once the metadata quorum is open (it needs the
    // listener's URL); until broker.ready() requests wait.
    const ctx = {
      topics, replicas, groups, producerIds, logger, nodeId, advertisedHost: host, advertisedPort: opts.port ?? 0, logDir: dataDir, metrics: metrics.broker,
    } as Omit<BrokerContext, 'quorum' | 'controller' | 'forward' | 'publisher'> as BrokerContext;
    const broker = new Broker(ctx);
    publisher = new MetadataPublisher({ nodeId, topics, logger });
    const refusals = new RefusalLog({ logger, count: metrics.peerAuthFailures });
    const secret = opts.clusterSecret ?? null;
    const timing = opts.peerTiming ?? {};
    server = await ProtocolServer.listen({
      // The peer server needs the cluster identity, known once the port is: until then (a few
      // microseconds of start-up) a peer is turned away and redials.
      peer: { path: opts.peerPath ?? DEFAULT_PEER_PATH, accept: (ws, address) => (peerServer ? peerServer.accept(ws, address) : ws.close(1013, 'starting')) },
      host,
      port: opts.port ?? 0,
      broker,
      logger,
      maxFrameBytes: opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      metrics: metrics.broker,
      ...(opts.maxBufferedBytesPerConnection !== undefined ? { maxBufferedBytesPerConnection: opts.maxBufferedBytesPerConnection } : {}),
    });
    const port = server.port;
    ctx.advertisedPort = port;
    const url = `ws://${urlHost}:${port}`;
    const cluster = identity.finish(url);
    // With a secret the metadata quorum talks over the peer links: its peer API handlers serve the
    // other voters' Vote, Fetch, ... requests and the observers' Fetch. A one-voter cluster needs
    // it too, since observers may replicate from it (KIP-595), and so does an observer of one:
    // its leader is another node. Without a secret no peer links authenticate; loopback it is.
    const quorumPeers =
      !opts.quorumTransport && secret
        ? new QuorumPeerTransport({ nodeId: cluster.nodeId, links: { get: (id: number) => peers?.get(id) }, logger, clusterId: cluster.clusterId })
        : undefined;
    peerServer = new PeerServer({
      local: cluster,
      secret,
      handlers: opts.peerHandlers ?? nodePeerHandlers(quorumPeers?.handlers() ?? new Map(), broker, () => brokerController),
      refusals,
      logger,
      ...(timing.handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs: timing.handshakeTimeoutMs } : {}),
    });
    // Every other voter is dialled (a voter of one has no one to dial); without a secret no link
    // could authenticate. An observer dials every voter too: its Raft fetches, forwarded admin
    // requests, producer id blocks and registration go to whichever voter leads. PeerHello v1
    // declares the role and voters, which the voters check against theirs.
    peers = new PeerLinks({
      clusterId: cluster.clusterId,
      nodeId: cluster.nodeId,
      role: cluster.role,
      voters: secret ? cluster.voters : [],
      transport: wsTransport({ maxFrameBytes: opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES }),
      peerPath: opts.peerPath ?? DEFAULT_PEER_PATH,
      secret: secret ?? Buffer.alloc(0),
      logger,
      refusals,
      ...timing,
    });
    peers.start();
    const peerLinks = peers;
    const inbound = peerServer;
    quorum = await startMetadataQuorum({
      nodeId, voters: cluster.voters, dataDir, store, logger,
      ...(opts.metadataSnapshotRecords !== undefined ? { snapshotEveryRecords: opts.metadataSnapshotRecords } : {}),
      ...(opts.quorumTransport ? { transport: opts.quorumTransport } : quorumPeers ? { transport: quorumPeers } : {}),
    });
    const driver = quorum.driver;
    const metadataPublisher = publisher;
    const controller = new ActiveController({ quorum: metrics.quorum(driver).timedProposals(driver), logger, applied: (offset) => metadataPublisher.waitFor(offset) });
    Object.assign(ctx, { quorum: driver, controller, publisher, forward: controllerForwarder(driver, { get: (id) => peerLinks.get(id) }) } satisfies Partial<BrokerContext>);
    const startPublishing = (): void => {
      unsubscribe = driver.onCommitted((image) => metadataPublisher.publish(image));
      metadataPublisher.publish(driver.image);
    };
    // Not before the image has caught up (metadataCaughtUp): an older one would drop later topics.
    // This node is the whole quorum (an observer of one voter waits for it like any other).
    const oneVoter = cluster.voters.length === 1 && cluster.role === 'voter';
    if (oneVoter) {
      if (!(await metadataCaughtUp(driver, SINGLE_VOTER_READY_MS))) logger.warn({ nodeId }, `metadata quorum: node ${nodeId} did not elect itself within ${SINGLE_VOTER_READY_MS} ms; starting anyway`);
      startPublishing();
    } else {
      void metadataCaughtUp(driver).then(startPublishing);
    }
    broker.ready();
    const metadataQuorum = quorum;
    // After the publisher subscribed: the controller's writes wait until this node applied them.
    const self = { nodeId, incarnationId: quorum.incarnationId, url, clusterId: cluster.clusterId };
    const brokers = (brokerController = new BrokerController({
      driver, controller, self, logger,
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.brokerSessionTimeoutMs !== undefined ? { sessionTimeoutMs: opts.brokerSessionTimeoutMs } : {}),
    }));
    const brokerLifecycle = (lifecycle = new BrokerLifecycle({
      driver, self, links: { get: (id) => peerLinks.get(id) }, controller: brokers, logger,
      ...(opts.brokerHeartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: opts.brokerHeartbeatIntervalMs } : {}),
    }));
    if (oneVoter) {
      // A one-voter quorum elects itself and its controller registers it within milliseconds.
      if (!(await brokerLifecycle.waitRegistered(SINGLE_VOTER_READY_MS))) logger.warn({ nodeId }, `metadata quorum: node ${nodeId} did not register itself within ${SINGLE_VOTER_READY_MS} ms; starting anyway`);
      // A one-node cluster is ready when `eddy start` says so: its topics open, a data dir of the
      // single-node version imported, consumer groups usable.
      await metadataPublisher.waitFor(driver.image.lastOffset);
      await importLegacyTopics({ controller, topics, logger, producerIdFloor: producerIds.localFloor });
      if (controller.active && !topics.get(OFFSETS_TOPIC)) await ensureOffsetsTopic(ctx);
    } else {
      void brokerLifecycle.registered.then(() => importLegacyTopics({ controller, topics, logger, producerIdFloor: producerIds.localFloor }));
    }
    const health = (): HealthReport => healthReport({ store, diskGuard, topics, nodeId, uptimeMs: performance.now() - startedAt });
    if (httpPort !== null) http = await HttpServer.listen({ host, port: httpPort, health, metrics, logger });
    const httpServer = http;
    const running = server;
    const coordinator = groups;
    const logCleaner = cleaner;
    const retentionTask = retention;
    return {
      url,
      cluster,
      host,
      port,
      dataDir,
      store,
      topics,
      replicas,
      groups,
      broker,
      cleaner: logCleaner,
      retention: retentionTask,
      diskGuard,
      metrics,
      quorum: metadataQuorum.driver,
      lifecycle: brokerLifecycle,
      brokerController: brokers,
      http: httpServer,
      httpUrl: httpServer ? `http://${urlHost}:${httpServer.port}` : null,
      health,
      peers: peerLinks,
      inboundPeers: () => inbound.inbound(),
      connectionStats: () => running.connectionStats(),
      async close() {
        await httpServer?.close();
        // Controlled shutdown (Kafka's): fenced first, while the quorum and peer links are up, so
        // the partitions this node leads move (or lose their leader) before it stops answering.
        // A one-voter cluster (this node alone) has no other broker to move them to, nor anyone reading its image.
        if ((opts.controlledShutdown ?? true) && !oneVoter) await brokerLifecycle.controlledShutdown();
        brokerLifecycle.close();
        brokers.close();
        // The quorum first, while the peer links are up: a leader's EndQuorumEpoch (a planned
        // hand-over) must still reach the other voters.
        unsubscribe();
        await metadataQuorum.close();
        await metadataPublisher.close();
        quorumPeers?.close();
        peerLinks.close();
        inbound.close();
        coordinator.close();
        await retentionTask.stop();
        await logCleaner.stop();
        await running.close();
        await store.close();
      },
    };
  } catch (err) {
    await http?.close();
    peers?.close();
    peerServer?.close();
    await retention?.stop();
    await cleaner?.stop();
    groups?.close();
    await server?.close();
    lifecycle?.close();
    brokerController?.close();
    unsubscribe();
    await quorum?.close();
    await publisher?.close();
    await store.close();
    throw err;
  }
}
