/**
 * Assembles a running single node: log store → topic manager → broker → WebSocket server.
 * `eddy start` and the integration tests use it; `close()` takes it down in reverse order.
 */
import '../node/protocol/crc32c-native.js'; // hardware CRC-32C in Node (see crc32c-native.ts)
import { join, resolve } from 'node:path';
import { Broker } from '../node/broker/broker.js';
import { GroupCoordinator } from '../node/groups/coordinator.js';
import { silentLogger, type Logger } from '../node/logger.js';
import { LogCleaner } from '../node/storage/log-cleaner.js';
import { LogStore } from '../node/storage/log-store.js';
import { ProducerIdManager } from '../node/storage/producer-ids.js';
import { SYNC_ALWAYS, type SyncPolicy } from '../node/storage/sync-policy.js';
import { compactedPartitions } from '../node/topics/compacted-partitions.js';
import { TopicManager } from '../node/topics/topic-manager.js';
import { DEFAULT_MAX_FRAME_BYTES, ProtocolServer } from './server.js';

export interface StartNodeOptions {
  dataDir: string;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  sync?: SyncPolicy;
  logger?: Logger;
  maxFrameBytes?: number;
  nodeId?: number;
  /** Hard cap on the log file; writes past it fail with KAFKA_STORAGE_ERROR (as a full disk). */
  maxDatabaseBytes?: number;
  /** An idempotent producer idle this long is forgotten by each partition (default 1 day). */
  producerIdExpirationMs?: number;
  /** Time between log cleaner rounds (compacted topics); default 15 s. */
  cleanerIntervalMs?: number;
  /** Batches appended since a partition's last clean that make it due; default 100. */
  cleanerMinDirtyBatches?: number;
  /** The clock background tasks read (tests advance it instead of sleeping); default Date.now. */
  clock?: () => number;
}

export interface RunningNode {
  url: string;
  host: string;
  port: number;
  dataDir: string;
  store: LogStore;
  topics: TopicManager;
  groups: GroupCoordinator;
  /** The log cleaner of compacted topics (`runOnce()` cleans the due partitions now). */
  cleaner: LogCleaner;
  /** Stops the listener, then closes the log store cleanly. */
  close(): Promise<void>;
}

/** How often partitions' recovery points are persisted while running. */
const RECOVERY_POINT_INTERVAL_MS = 10_000;

export async function startNode(opts: StartNodeOptions): Promise<RunningNode> {
  const logger = opts.logger ?? silentLogger;
  const dataDir = resolve(opts.dataDir);
  const host = opts.host ?? '127.0.0.1';
  const store = await LogStore.open({
    path: join(dataDir, 'log.db'),
    sync: opts.sync ?? SYNC_ALWAYS,
    logger,
    ...(opts.maxDatabaseBytes !== undefined ? { maxDatabaseBytes: opts.maxDatabaseBytes } : {}),
    ...(opts.producerIdExpirationMs !== undefined ? { partitionDefaults: { producerIdExpirationMs: opts.producerIdExpirationMs } } : {}),
  });
  let server: ProtocolServer | undefined;
  let groups: GroupCoordinator | undefined;
  let cleaner: LogCleaner | undefined;
  try {
    const topics = await TopicManager.open(store, logger);
    groups = await GroupCoordinator.open(topics, logger);
    const producerIds = await ProducerIdManager.open(store);
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
    const ctx = { topics, groups, producerIds, logger, nodeId: opts.nodeId ?? 0, advertisedHost: host, advertisedPort: opts.port ?? 0, logDir: dataDir };
    const broker = new Broker(ctx);
    server = await ProtocolServer.listen({ host, port: opts.port ?? 0, broker, logger, maxFrameBytes: opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES });
    const port = server.port;
    ctx.advertisedPort = port;
    const running = server;
    const coordinator = groups;
    const logCleaner = cleaner;
    return {
      url: `ws://${host.includes(':') ? `[${host}]` : host}:${port}`,
      host,
      port,
      dataDir,
      store,
      topics,
      groups,
      cleaner: logCleaner,
      async close() {
        coordinator.close();
        await running.close();
        await logCleaner.stop();
        await store.close();
      },
    };
  } catch (err) {
    await cleaner?.stop();
    groups?.close();
    await server?.close();
    await store.close();
    throw err;
  }
}
