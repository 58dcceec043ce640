/**
 * Produce and consume suites: a real node in a child process (`eddy start`), the SDK over
 * loopback, 100-byte records in batches of up to 1,000, acks=1, sync always. Compared in the same
 * run with the raw better-sqlite3 limit on the same disk: one blob per 1,000-record batch, one
 * transaction each, synchronous=FULL.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Admin, Consumer, Producer } from '../gateway/client/index.js';
import { encodeRecordBatch } from '../node/protocol/record-batch.js';
import { benchDir, machine, nowMs, result, round, say } from './lib.js';

const RECORDS = 500_000;
const RECORD_BYTES = 100;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function startNodeProcess(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  // EDDY_BENCH_NODE_ARGS passes extra Node flags to the node under test (e.g. --cpu-prof).
  const extra = process.env.EDDY_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', join(ROOT, 'cli/main.ts'), 'start', '--data-dir', dataDir, '--port', '0', '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /websocket:\s+(ws:\/\/\S+)[\s\S]*Stop with/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`node exited (${code}) before listening: ${out}`)));
  });
  return { url, child };
}

function rawMsgPerSec(dir: string): number {
  execFileSync('sync');
  const value = new Uint8Array(RECORD_BYTES).fill(1);
  const batch = encodeRecordBatch(Array.from({ length: 1000 }, () => ({ value })));
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE raw (k INTEGER PRIMARY KEY, v BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO raw (k, v) VALUES (?, ?)');
  const tx = db.transaction((k: number) => insert.run(k, batch));
  const batches = RECORDS / 1000;
  const t0 = nowMs();
  for (let i = 0; i < batches; i++) tx(i);
  const rate = RECORDS / ((nowMs() - t0) / 1000);
  db.close();
  return rate;
}

async function produceAll(url: string): Promise<number> {
  const admin = new Admin({ server: url });
  await admin.createTopics([{ name: 'bench', partitions: 1 }]);
  await admin.close();
  const producer = new Producer({ server: url, acks: 1, lingerMs: 5, batchSizeBytes: 1000 * (RECORD_BYTES + 10) });
  const value = new Uint8Array(RECORD_BYTES).fill(2);
  const t0 = nowMs();
  // A bounded window of unresolved sends, as an application that awaits now and then would keep.
  const window: Promise<unknown>[] = [];
  for (let i = 0; i < RECORDS; i++) {
    window.push(producer.send({ topic: 'bench', value }));
    if (window.length >= 20_000) await Promise.all(window.splice(0));
  }
  await Promise.all(window);
  const rate = RECORDS / ((nowMs() - t0) / 1000);
  await producer.close();
  return rate;
}

async function consumeAll(url: string): Promise<number> {
  const consumer = new Consumer({ server: url, autoOffsetReset: 'earliest', maxBytes: 8 * 1024 * 1024, partitionMaxBytes: 8 * 1024 * 1024 });
  consumer.assign([{ topic: 'bench', partition: 0 }]);
  await consumer.seek({ topic: 'bench', partition: 0 }, 'earliest');
  let n = 0;
  const t0 = nowMs();
  while (n < RECORDS) n += (await consumer.poll({ timeoutMs: 1000 })).length;
  const rate = RECORDS / ((nowMs() - t0) / 1000);
  await consumer.close();
  return rate;
}

async function withNode<T>(fn: (url: string, dir: string) => Promise<T>): Promise<T> {
  const { dir, cleanup } = benchDir('broker');
  const node = await startNodeProcess(join(dir, 'data'));
  try {
    return await fn(node.url, dir);
  } finally {
    node.child.kill('SIGTERM');
    await new Promise((r) => node.child.once('exit', r));
    cleanup();
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export async function runProduce(): Promise<void> {
  await withNode(async (url, dir) => {
    say(`  machine: ${machine()}; ${fmt(RECORDS)} x ${RECORD_BYTES}-byte records, acks=1, node in a child process, loopback`);
    const raw = rawMsgPerSec(dir);
    const produce = await produceAll(url);
    say(`  raw better-sqlite3 (1,000-record blobs, tx each): ${fmt(raw)} msg/s | SDK produce: ${fmt(produce)} msg/s (${round(produce / raw)}x)`);
    result({ suite: 'produce', msgPerSec: Math.round(produce), rawMsgPerSec: Math.round(raw), ratio: round(produce / raw) });
  });
}

export async function runConsume(): Promise<void> {
  await withNode(async (url, dir) => {
    say(`  machine: ${machine()}; ${fmt(RECORDS)} x ${RECORD_BYTES}-byte records, node in a child process, loopback`);
    const raw = rawMsgPerSec(dir);
    const produce = await produceAll(url);
    const consume = await consumeAll(url);
    say(`  raw: ${fmt(raw)} msg/s | produce: ${fmt(produce)} msg/s | SDK consume from earliest: ${fmt(consume)} msg/s (${round(consume / produce)}x produce)`);
    result({
      suite: 'consume',
      msgPerSec: Math.round(consume),
      rawMsgPerSec: Math.round(raw),
      ratio: round(consume / raw),
      produceMsgPerSec: Math.round(produce),
      overProduce: round(consume / produce),
    });
  });
}
