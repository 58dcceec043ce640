/** The disk guard's view, measured when Prometheus scrapes (the store's size by stat, the free space by statfs, each once). */
import { Gauge, type Registry } from 'prom-client';
import type { DiskGuard } from '../storage/disk-guard.js';

export function registerDiskGauges(registry: Registry, guard: DiskGuard): void {
  const registers = [registry];
  new Gauge({
    name: 'eddy_disk_store_bytes',
    help: 'Bytes of the log store on disk (log.db and its WAL), as the disk guard counts them',
    registers,
    collect() {
      this.set(guard.storeBytes());
    },
  });
  if (guard.maxDiskBytes !== null) {
    const budget = guard.maxDiskBytes;
    new Gauge({
      name: 'eddy_disk_budget_bytes',
      help: 'The log store budget (--max-disk-bytes); new records are refused from 95 % of it',
      registers,
      collect() {
        this.set(budget);
      },
    });
  }
  new Gauge({
    name: 'eddy_disk_free_bytes',
    help: 'Bytes free on the file system holding the data directory (records are refused below the larger of 64 MiB and 5 %)',
    registers,
    collect() {
      this.set(guard.fileSystem()?.freeBytes ?? NaN); // NaN: statfs failed (logged once)
    },
  });
  new Gauge({
    name: 'eddy_disk_refusing_records',
    help: '1 while the disk guard refuses new records (produce and MQTT) to keep the disk from filling, else 0',
    registers,
    collect() {
      this.set(guard.refusingRecords ? 1 : 0);
    },
  });
}
