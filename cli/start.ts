/**
 * `eddy start`. Until the network server lands (WebSocket protocol, MQTT), starting a node means
 * opening its data directory: the log store is created or recovered and its partitions listed,
 * then the command says plainly that there is nothing to serve yet and exits.
 */
import { join, resolve } from 'node:path';
import type { NodeConfig } from '../node/config.js';
import { createLogger } from '../node/logger.js';
import { LogStore } from '../node/storage/log-store.js';
import { formatSyncPolicy } from '../node/storage/sync-policy.js';
import { VERSION } from '../node/version.js';

export async function start(config: NodeConfig, out: (line: string) => void): Promise<void> {
  const logger = createLogger(config.logLevel);
  const dataDir = resolve(config.dataDir);
  const store = await LogStore.open({ path: join(dataDir, 'log.db'), sync: config.sync, logger });
  const partitions = store.listPartitions();
  for (const p of partitions) await store.partition(p.topic, p.partition); // runs recovery
  out(`Eddy ${VERSION}`);
  out(`  data:       ${dataDir} (${partitions.length} partition${partitions.length === 1 ? '' : 's'}, ${store.cleanStart ? 'clean' : 'recovered after an unclean'} shutdown)`);
  out(`  sync:       ${formatSyncPolicy(config.sync)}`);
  out('  listening:  not yet. This build has the storage engine only; the WebSocket and MQTT');
  out('              listeners arrive with the single-node broker. Nothing to serve: exiting.');
  await store.close();
}
