/**
 * A data directory written by the single-node version has topics but no metadata log. Once this
 * node is the active controller, it writes those topics into the metadata log as they are (all
 * partitions here, led by this node), keeping their data and committed offsets; the publisher
 * then adopts the local topics under their new ids. A node that is not the controller leaves
 * them be and says so: they are served here but absent from the cluster's Metadata.
 */
import type { ActiveController } from '../node/controller/active-controller.js';
import type { Logger } from '../node/logger.js';
import type { TopicManager } from '../node/topics/topic-manager.js';

export async function importLegacyTopics(o: { controller: ActiveController; topics: TopicManager; logger: Logger; producerIdFloor: number }): Promise<void> {
  const legacy = o.topics.list().filter((t) => t.topicId === null);
  if (legacy.length === 0) return;
  const names = legacy.map((t) => t.name).join(', ');
  if (!o.controller.active) {
    o.logger.warn({ topics: legacy.map((t) => t.name) }, `topics from before the cluster (${names}) are not in the cluster metadata: only the active controller imports its own; restart this node when it leads the quorum, or recreate them`);
    return;
  }
  try {
    await o.controller.importTopics(legacy.map((t) => ({ name: t.name, partitions: t.partitions, configs: t.configs })), o.producerIdFloor);
    o.logger.info({ topics: legacy.map((t) => t.name) }, `imported ${legacy.length} topic(s) from before the cluster into the metadata log: ${names}`);
  } catch (err) {
    o.logger.error({ err }, `could not import topics from before the cluster (${names}): ${(err as Error).message}; retried at the next start`);
  }
}
