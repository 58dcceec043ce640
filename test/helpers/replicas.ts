/** A replica manager over a real log store, with a real disk guard on its files (as startNode wires it). */
import { dirname } from 'node:path';
import type { Logger } from '../../node/logger.js';
import { ReplicaManager } from '../../node/replication/replica-manager.js';
import { DiskGuard, type FileSystemSpace } from '../../node/storage/disk-guard.js';
import type { LogStore } from '../../node/storage/log-store.js';
import type { TopicManager } from '../../node/topics/topic-manager.js';
import { captureLogger } from './tmp.js';

export function replicasFor(
  store: LogStore,
  topics: TopicManager,
  opts: { maxDiskBytes?: number | null; logger?: Logger; statfs?: (dir: string) => FileSystemSpace } = {},
): { replicas: ReplicaManager; diskGuard: DiskGuard } {
  const diskGuard = new DiskGuard({
    dataDir: dirname(store.path),
    files: [store.path, `${store.path}-wal`],
    databaseBytes: () => {
      const { total, pageSize } = store.pageCounts();
      return total * pageSize;
    },
    maxDiskBytes: opts.maxDiskBytes ?? null,
    logger: opts.logger ?? captureLogger().logger,
    ...(opts.statfs ? { statfs: opts.statfs } : {}),
  });
  return { replicas: new ReplicaManager({ topics, diskGuard }), diskGuard };
}
