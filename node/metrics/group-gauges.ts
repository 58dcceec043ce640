/**
 * Consumer group gauges, computed when Prometheus scrapes from the committed offsets and the
 * partition logs: lag (the same definition as `eddy groups describe`), committed offset, and
 * members. Only partitions with a commit on an existing topic have a lag series.
 */
import { Gauge, type Registry } from 'prom-client';
import type { GroupCoordinator } from '../groups/coordinator.js';
import { groupLag } from '../groups/group-lag.js';
import type { TopicManager } from '../topics/topic-manager.js';

interface Position {
  group: string;
  topic: string;
  partition: number;
  committedOffset: number;
  lag: number;
}

function positions(groups: GroupCoordinator, topics: TopicManager): Position[] {
  const out: Position[] = [];
  for (const group of groups.offsets.groupIds()) {
    for (const c of groups.offsets.list(group)) {
      let highWatermark = -1;
      try {
        highWatermark = topics.partition(c.topic, c.partition).highWatermark;
      } catch {
        continue; // topic deleted or shrunk since the commit: no log to lag behind
      }
      out.push({ group, topic: c.topic, partition: c.partition, committedOffset: c.offset, lag: groupLag(c.offset, highWatermark) });
    }
  }
  return out;
}

export function registerGroupGauges(registry: Registry, groups: GroupCoordinator, topics: TopicManager): void {
  const registers = [registry];
  const labelNames = ['group', 'topic', 'partition'] as const;
  new Gauge({
    name: 'eddy_consumer_group_lag',
    help: 'Records a consumer group has yet to process on a partition: high watermark minus committed offset (as eddy groups describe)',
    labelNames,
    registers,
    collect() {
      this.reset();
      for (const p of positions(groups, topics)) this.set({ group: p.group, topic: p.topic, partition: String(p.partition) }, p.lag);
    },
  });
  new Gauge({
    name: 'eddy_consumer_group_committed_offset',
    help: 'Offset a consumer group has committed on a partition (the next record it will process)',
    labelNames,
    registers,
    collect() {
      this.reset();
      for (const p of positions(groups, topics)) this.set({ group: p.group, topic: p.topic, partition: String(p.partition) }, p.committedOffset);
    },
  });
  new Gauge({
    name: 'eddy_consumer_group_members',
    help: 'Members of a consumer group now (0 for a group with only committed offsets)',
    labelNames: ['group'],
    registers,
    collect() {
      this.reset();
      for (const id of groups.groupIds()) this.set({ group: id }, groups.group(id)?.size ?? 0);
    },
  });
}
