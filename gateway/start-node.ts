/**
 * Assembles a running single node: log store → topic manager → broker → WebSocket server.
 * `eddy start` and the integration tests use it; `close()` takes it down in reverse order.
 */
import '../node/protocol/crc32c-native.js'; // hardware CRC-32C in Node (see crc32c-native.ts)
import { join, resolve } from 'node:path';
import { Broker } from '../node/broker/broker.js';
import { GroupCoordinator } from '../node/groups/coordinator.js';
import { silentLogger, type Logger } from '../node/logger.js';
import { LogStore } from '../node/storage/log-store.js';
import { ProducerIdManager } from '../node/storage/producer-ids.js';
import { SYNC_ALWAYS, type SyncPolicy } from '../node/storage/sync-policy.js';
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
}

export interface RunningNode {
  url: string;
  host: string;
  port: number;
  dataDir: string;
  store: LogStore;
  topics: TopicManager;
  groups: GroupCoordinator;
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
  try {
    const topics = await TopicManager.open(store, logger);
    groups = await GroupCoordinator.open(topics, logger);
    const producerIds = await ProducerIdManager.open(store);
    store.persistRecoveryPointsEvery(RECOVERY_POINT_INTERVAL_MS);
    const ctx = { topics, groups, producerIds, logger, nodeId: opts.nodeId ?? 0, advertisedHost: host, advertisedPort: opts.port ?? 0, logDir: dataDir };
    const broker = new Broker(ctx);
    server = await ProtocolServer.listen({ host, port: opts.port ?? 0, broker, logger, maxFrameBytes: opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES });
    const port = server.port;
    ctx.advertisedPort = port;
    const running = server;
    const coordinator = groups;
    return {
      url: `ws://${host.includes(':') ? `[${host}]` : host}:${port}`,
      host,
      port,
      dataDir,
      store,
      topics,
      groups,
      async close() {
        coordinator.close();
        await running.close();
        await store.close();
      },
    };
  } catch (err) {
    groups?.close();
    await server?.close();
    await store.close();
    throw err;
  }
}
