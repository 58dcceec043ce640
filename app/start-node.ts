/**
 * Assembles a running single node: log store → topic manager → replica manager → broker →
 * WebSocket server.
 * `eddy start` and the integration tests use it; `close()` takes it down in reverse order.
 */
import '../protocol/crc32c-native.js'; // hardware CRC-32C in Node (see crc32c-native.ts)
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Broker } from '../node/broker/broker.js';
import { derivedClusterId, openClusterIdentity } from '../node/cluster/cluster-identity.js';
import { RefusalLog } from '../node/cluster/refusal-log.js';
import { GroupCoordinator } from '../node/groups/coordinator.js';
import { healthReport, type HealthReport } from '../node/health.js';
import { silentLogger } from '../node/logger.js';
import { NodeMetrics } from '../node/metrics/node-metrics.js';
import { ReplicaManager } from '../node/replication/replica-manager.js';
import { LogCleaner } from '../node/storage/log-cleaner.js';
import { DiskGuard } from '../node/storage/disk-guard.js';
import { LogStore } from '../node/storage/log-store.js';
import { ProducerIdManager } from '../node/storage/producer-ids.js';
import { SYNC_ALWAYS } from '../node/storage/sync-policy.js';
import { compactedPartitions } from '../node/topics/compacted-partitions.js';
import { RetentionTask } from '../node/topics/retention-task.js';
import { TopicManager } from '../node/topics/topic-manager.js';
import { HttpServer } from '../gateway/http-server.js';
import { PeerLinks } from '../gateway/peer-links.js';
import { QuorumPeerTransport } from '../gateway/quorum-peer-transport.js';
import { wsTransport } from '../gateway/peer-transport.js';
import { PeerServer } from '../gateway/peer-server.js';
import { DEFAULT_MAX_FRAME_BYTES, ProtocolServer } from '../gateway/server.js';
import { startMetadataQuorum, type MetadataQuorum } from './metadata-quorum.js';
import type { BrokerContext } from '../node/broker/context.js';
import { ensureOffsetsTopic } from '../node/broker/node-topics.js';
import { ActiveController } from '../node/controller/active-controller.js';
import { MetadataPublisher } from '../node/controller/metadata-publisher.js';
import { partitionOf, type MetadataImage } from '../node/controller/metadata/index.js';
import { OFFSETS_TOPIC } from '../node/groups/offset-store.js';
import { controllerForwarder } from './controller-forwarder.js';
import { importLegacyTopics } from './legacy-topics.js';
import { nodePeerHandlers } from './peer-handlers.js';
import { allocateProducerIds } from './producer-id-blocks.js';
import { BrokerController } from './broker-controller.js';
import { BrokerLifecycle } from './broker-lifecycle.js';
import { metadataCaughtUp, SINGLE_VOTER_READY_MS } from './metadata-quorum.js';

import type { RunningNode, StartNodeOptions } from './node-options.js';

export type { RunningNode, StartNodeOptions } from './node-options.js';

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
    // The ISR comes from the metadata image, known once the quorum is open (no write comes before).
    const replicas = new ReplicaManager({ topics, diskGuard, isr: (t, p) => (broker.ctx.quorum ? partitionOf(broker.ctx.quorum.image, t, p)?.isr : undefined) });
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
    // Observers are dialled once the metadata lists them as brokers: MQTT records for the
    // partitions they lead go to them over these links.
    const linkObservers = (image: MetadataImage): void => {
      if (!secret) return;
      for (const b of image.brokers.values()) if (!cluster.voters.some((v) => v.id === b.brokerId) && b.endpoints.ws) peerLinks.ensure(b.brokerId, b.endpoints.ws);
    };
    const startPublishing = (): void => {
      unsubscribe = driver.onCommitted((image) => {
        metadataPublisher.publish(image);
        linkObservers(image);
      });
      metadataPublisher.publish(driver.image);
      linkObservers(driver.image);
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
