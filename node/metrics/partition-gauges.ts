/**
 * Per-partition gauges, read from the partition logs when Prometheus scrapes (collect), so the
 * append path pays nothing for them. They are rebuilt on every scrape: a deleted topic's series
 * disappear with it.
 */
import { Gauge, type Registry } from 'prom-client';
import type { PartitionLog } from '../storage/partition-log.js';
import type { TopicManager } from '../topics/topic-manager.js';

const GAUGES: { name: string; help: string; read(log: PartitionLog): number }[] = [
  { name: 'eddy_partition_log_end_offset', help: 'Offset the next record appended to the partition gets', read: (log) => log.logEndOffset },
  { name: 'eddy_partition_high_watermark', help: 'Offset up to which consumers can read (committed records)', read: (log) => log.highWatermark },
  { name: 'eddy_partition_log_start_offset', help: 'First offset still in the partition (moves up as retention deletes)', read: (log) => log.logStartOffset },
  { name: 'eddy_partition_size_bytes', help: 'Bytes of the record batches the partition holds', read: (log) => log.sizeBytes },
];

export function registerPartitionGauges(registry: Registry, topics: TopicManager): void {
  for (const g of GAUGES) {
    new Gauge({
      name: g.name,
      help: g.help,
      labelNames: ['topic', 'partition'],
      registers: [registry],
      collect() {
        this.reset();
        for (const t of topics.list()) {
          for (const { partition, log } of topics.localLogs(t.name)) this.set({ topic: t.name, partition: String(partition) }, g.read(log));
        }
      },
    });
  }
}
