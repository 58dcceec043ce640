/**
 * `eddy start`: runs a node until SIGINT or SIGTERM, then shuts down gracefully (stop accepting,
 * let in-flight appends finish, sync, close the store) within a bounded time.
 */
import { parseMappingRules } from '../firmware-bridge/mapping.js';
import { BANNER_LAST_LINE } from './banner.js';
import type { BrokerBridge } from '../firmware-bridge/broker-bridge.js';
import type { RunningMqtt } from '../app/start-mqtt.js';
import { startNode } from '../app/start-node.js';
import { ConfigError, type NodeConfig } from '../node/config.js';
import { createLogger, resolveLogFormat } from '../node/logger.js';
import { formatBytes } from '../node/storage/disk-guard.js';
import { formatSyncPolicy } from '../node/storage/sync-policy.js';
import { VERSION } from '../node/version.js';

/** The longest a clean shutdown may take; then the process exits 1 (a service manager's stop timeout must exceed it). */
export const SHUTDOWN_LIMIT_MS = 10_000;

export async function start(config: NodeConfig, out: (line: string) => void): Promise<void> {
  // Signal handlers go in first: a signal that arrives before them would kill the process
  // outright (the default action), skipping the clean shutdown.
  let signalled: (signal: string) => void = () => {};
  const stopRequested = new Promise<string>((resolve) => (signalled = resolve));
  const onSignal = (signal: string) => () => signalled(signal);
  process.once('SIGINT', onSignal('SIGINT'));
  process.once('SIGTERM', onSignal('SIGTERM'));

  const logger = await createLogger({
    level: config.logLevel,
    format: resolveLogFormat(config.logFormat, process.stderr.isTTY === true),
    colorize: process.stderr.isTTY === true,
  });
  let rules;
  if (config.mqttRules !== null) {
    try {
      rules = parseMappingRules(config.mqttRules);
    } catch (err) {
      throw new ConfigError((err as Error).message.split('\n'));
    }
  }
  // The MQTT listener's modules (aedes) load while the log store's writer thread starts up:
  // each takes tens of milliseconds, and they need not wait for each other.
  const mqttModule = config.mqttPort !== null ? import('../app/start-mqtt.js') : null;
  mqttModule?.catch(() => {}); // awaited below; a failure is reported there, not as unhandled
  const node = await startNode({
    dataDir: config.dataDir,
    host: config.host,
    port: config.port,
    sync: config.sync,
    maxFrameBytes: config.maxFrameBytes,
    maxDiskBytes: config.maxDiskBytes,
    retentionCheckIntervalMs: config.retentionCheckIntervalMs,
    producerIdExpirationMs: config.producerIdExpirationMs,
    metadataSnapshotRecords: config.metadataSnapshotRecords,
    brokerHeartbeatIntervalMs: config.brokerHeartbeatIntervalMs,
    brokerSessionTimeoutMs: config.brokerSessionTimeoutMs,
    nodeId: config.nodeId,
    voters: config.controllerQuorumVoters,
    clusterId: config.clusterId,
    clusterSecret: config.clusterSecret,
    peerPath: config.peerPath,
    httpPort: config.httpPort,
    logger,
  });
  let mqtt: RunningMqtt | null = null;
  if (mqttModule && config.mqttPort !== null) {
    try {
      const { startMqtt } = await mqttModule;
      mqtt = await startMqtt(node, {
        port: config.mqttPort,
        logger,
        ...(rules ? { rules } : {}),
        ingest: { deadLetterTopic: config.mqttDeadLetterTopic, autoCreateTopics: config.mqttAutoCreateTopics },
      });
    } catch (err) {
      await node.close();
      throw err;
    }
  }
  const bridges: BrokerBridge[] = [];
  if (mqtt && config.mqttBridges.length > 0) {
    // Loaded only when bridging: the MQTT client library is the largest module the node has,
    // about a third of the start-up time and several MB of memory when nothing uses it.
    const { BrokerBridge } = await import('../firmware-bridge/broker-bridge.js');
    for (const b of config.mqttBridges) {
      bridges.push(BrokerBridge.start({ url: b.url, topics: b.topics, clientId: b.clientId, ingest: mqtt.ingest, logger }));
    }
  }
  const topics = node.topics.list().filter((t) => !t.internal).length;
  const groups = node.groups.groupIds().length;
  out(`Eddy ${VERSION} is running`);
  out(`  websocket:  ${node.url} (peer links at ${config.peerPath})`);
  const { cluster } = node;
  const others = cluster.voters.filter((v) => v.id !== cluster.nodeId).length;
  out(`  cluster:    ${cluster.clusterId}, node ${cluster.nodeId}, ${cluster.role}${cluster.singleNode ? ' (single node)' : `, ${cluster.voters.length} voters (${others} other${others === 1 ? '' : 's'})`}`);
  out(`  mqtt:       ${mqtt ? `mqtt://${node.host}:${mqtt.port}` : 'off (--no-mqtt)'}`);
  out(`  http:       ${node.httpUrl ? `${node.httpUrl}/health, /metrics` : 'off (--no-http)'}`);
  for (const b of config.mqttBridges) out(`  bridge:     ${b.url} topics ${b.topics.join(', ')} as client ${b.clientId}`);
  out(`  data:       ${node.dataDir} (${topics} topic${topics === 1 ? '' : 's'}, ${groups} group${groups === 1 ? '' : 's'}, ${node.store.cleanStart ? 'clean start' : 'recovered after an unclean shutdown'})`);
  out(`  sync:       ${formatSyncPolicy(config.sync)}`);
  // Which Node runs this node: a packaged executable embeds its own, unlike `npm start`.
  out(`  runtime:    node ${process.version} (${process.platform}-${process.arch}), pid ${process.pid}`);
  const budget = config.maxDiskBytes === null ? 'no budget (--max-disk-bytes)' : `budget ${formatBytes(config.maxDiskBytes)}`;
  out(`  disk:       ${budget}; new records are refused before the disk fills; retention checked every ${config.retentionCheckIntervalMs / 1000} s`);
  out(BANNER_LAST_LINE);

  const signal = await stopRequested;
  out(`${signal} received: shutting down (at most ${SHUTDOWN_LIMIT_MS / 1000} s)`);
  const force = setTimeout(() => {
    out('shutdown is taking too long; exiting now. The next start will verify the log tail.');
    process.exit(1);
  }, SHUTDOWN_LIMIT_MS);
  force.unref();
  try {
    // Health checks and scrapes see a closed port at once, not a node half shut down.
    await node.http?.close();
    await Promise.all(bridges.map((b) => b.close())); // stop taking device messages first,
    await mqtt?.close(); // then drain the log
    await node.close();
    out('stopped cleanly');
  } catch (err) {
    out(`shutdown failed: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
