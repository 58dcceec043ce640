/**
 * DescribeLogDirs across the cluster: each broker reports the partitions it stores, so every
 * broker is asked and the answers merged. A topic's error counts only when no broker had it.
 */
import { Apis } from '../../protocol/apis/index.js';
import type { DescribeLogDirsResponse } from '../../protocol/apis/describe-log-dirs.js';
import type { BrokerConnections } from './broker-connections.js';
import { serverError } from './client-errors.js';

type LogDirTopic = DescribeLogDirsResponse['topics'][number];

export async function describeLogDirs(brokers: BrokerConnections, topics: readonly string[]): Promise<LogDirTopic[]> {
  const answers = await Promise.all((await brokers.allBrokers()).map(({ conn }) => conn.request(Apis.DescribeLogDirs, { topics: [...topics] })));
  const merged = new Map<string, LogDirTopic>();
  const errors = new Map<string, LogDirTopic>();
  for (const res of answers) {
    for (const t of res.topics) {
      if (t.errorCode !== 0) {
        errors.set(t.name, t);
        continue;
      }
      const m = merged.get(t.name);
      if (m) m.partitions.push(...t.partitions);
      else merged.set(t.name, { ...t, partitions: [...t.partitions] });
    }
  }
  for (const [name, t] of errors) {
    if (!merged.has(name)) throw serverError(t.errorCode, t.errorMessage, `log dir of topic ${name}`);
  }
  return [...merged.values()];
}
