/**
 * Layout suite: the measurement behind the file layout (node/storage/STORAGE.md). Same workload,
 * same disk, same run:
 * - per-node: one SQLite file (one writer thread) holds all partitions;
 * - per-partition: one SQLite file (and writer thread) per partition.
 * Workload: P partitions, each with its own producer keeping 4 appends of 10 x 100-byte
 * records in flight, sync always: the many-small-producers shape of a gateway.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { encodeRecordBatch } from '../protocol/record-batch.js';
import { LogStore } from '../node/storage/log-store.js';
import type { PartitionLog } from '../node/storage/partition-log.js';
import { benchDir, machine, nowMs, result, round, say } from './lib.js';

const PARTITIONS = 8;
const APPENDS_PER_PARTITION = 600;
const RECORDS = 10;

function batch(): Uint8Array {
  const value = new Uint8Array(100).fill(5);
  return encodeRecordBatch(Array.from({ length: RECORDS }, () => ({ value })), { baseTimestamp: 1_700_000_000_000 });
}

async function drive(logs: PartitionLog[]): Promise<number> {
  const t0 = nowMs();
  await Promise.all(
    logs.map(async (log) => {
      let next = 0;
      const lane = async () => {
        while (next < APPENDS_PER_PARTITION) {
          next++;
          await log.append([batch()]);
        }
      };
      await Promise.all([lane(), lane(), lane(), lane()]);
    }),
  );
  return (PARTITIONS * APPENDS_PER_PARTITION * RECORDS) / ((nowMs() - t0) / 1000);
}

async function perNode(dir: string) {
  execFileSync('sync');
  const store = await LogStore.open({ path: join(dir, 'node.db') });
  const logs = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => store.partition('t', p)));
  const rate = await drive(logs);
  const syncs = store.stats.syncedGroups;
  const t0 = nowMs();
  for (let p = 0; p < PARTITIONS; p++) await store.dropPartition('t', p);
  const dropMs = nowMs() - t0;
  await store.close();
  return { rate, syncs, dropMs };
}

async function perPartition(dir: string) {
  execFileSync('sync');
  const stores = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => LogStore.open({ path: join(dir, `p${p}.db`) })));
  const logs = await Promise.all(stores.map((s, p) => s.partition('t', p)));
  const rate = await drive(logs);
  const syncs = stores.reduce((n, s) => n + s.stats.syncedGroups, 0);
  const t0 = nowMs();
  for (let p = 0; p < PARTITIONS; p++) await stores[p]!.dropPartition('t', p);
  const dropMs = nowMs() - t0;
  await Promise.all(stores.map((s) => s.close()));
  return { rate, syncs, dropMs };
}

export async function run(): Promise<void> {
  const { dir, cleanup } = benchDir('layout');
  try {
    say(`  machine: ${machine()}; ${PARTITIONS} partitions x 4 producers in flight, ${RECORDS}-record batches, sync always`);
    const a = await perNode(join(dir, 'a'));
    const b = await perPartition(join(dir, 'b'));
    const a2 = await perNode(join(dir, 'c'));
    const b2 = await perPartition(join(dir, 'd'));
    const node = { rate: (a.rate + a2.rate) / 2, syncs: a.syncs, dropMs: (a.dropMs + a2.dropMs) / 2 };
    const part = { rate: (b.rate + b2.rate) / 2, syncs: b.syncs, dropMs: (b.dropMs + b2.dropMs) / 2 };
    say(`  per-node file:      ${Math.round(node.rate).toLocaleString('en-US')} msg/s, ${node.syncs} fsynced commits, drop ${PARTITIONS} partitions ${round(node.dropMs)} ms`);
    say(`  per-partition file: ${Math.round(part.rate).toLocaleString('en-US')} msg/s, ${part.syncs} fsynced commits, drop ${PARTITIONS} partitions ${round(part.dropMs)} ms`);
    result({
      suite: 'layout',
      partitions: PARTITIONS,
      perNodeMsgPerSec: Math.round(node.rate),
      perPartitionMsgPerSec: Math.round(part.rate),
      perNodeOverPerPartition: round(node.rate / part.rate),
      perNodeSyncs: node.syncs,
      perPartitionSyncs: part.syncs,
    });
  } finally {
    cleanup();
  }
}
