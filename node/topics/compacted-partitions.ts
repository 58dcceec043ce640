/**
 * The partitions the log cleaner looks after: every partition this node holds of every topic whose
 * cleanup.policy includes compact (the internal `__consumer_offsets` among them).
 */
import type { CleanerTarget } from '../storage/log-cleaner.js';
import { resolveTopicConfig } from './topic-config.js';
import type { TopicManager } from './topic-manager.js';

export function compactedPartitions(topics: TopicManager): CleanerTarget[] {
  const out: CleanerTarget[] = [];
  for (const info of topics.list()) {
    const config = resolveTopicConfig(info.configs);
    if (config.cleanupPolicy === 'delete') continue;
    for (const { log } of topics.localLogs(info.name)) out.push({ log, deleteRetentionMs: config.deleteRetentionMs, internal: info.internal });
  }
  return out;
}
