/**
 * Produce and consume suites: a real node in a child process (`eddy start`), the SDK over
 * loopback, 100-byte records in batches of up to 1,000, acks=1, sync always. Compared in the same
 * run with the raw better-sqlite3 limit on the same disk: one blob per 1,000-record batch, one
 * transaction each, synchronous=FULL.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Admin, Consumer, Producer } from '../gateway/client/index.js';
import { encodeRecordBatch } from '../protocol/record-batch.js';
import { benchDir, machine, nowMs, result, round, say } from './lib.js';
import { withNodeProcess } from './node-process.js';

const RECORDS = 1_000_000;
/** Sent untimed first, so that the JIT has compiled the hot paths of client and node. */
const WARMUP_RECORDS = 100_000;
const RECORD_BYTES = 100;

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

async function createTopic(url: string, name: string): Promise<void> {
  const admin = new Admin({ server: url });
  await admin.createTopics([{ name, partitions: 1 }]);
  await admin.close();
}

/**
 * Produces RECORDS records to a fresh topic. `perRecord`: one `send()` per record (a promise
 * each); otherwise `sendBatch()` with 1,000 records per call. Both keep a bounded window of
 * unsettled calls, as an application that awaits now and then would.
 */
async function produceAll(url: string, topic: string, perRecord: boolean, records = RECORDS, idempotent = false): Promise<number> {
  await createTopic(url, topic);
  const producer = new Producer({
    server: url,
    ...(idempotent ? { acks: 'all' as const, idempotent: true } : { acks: 1 as const, idempotent: false }),
    lingerMs: 5,
    batchSizeBytes: 1000 * (RECORD_BYTES + 10),
  });
  const value = new Uint8Array(RECORD_BYTES).fill(2);
  const record = { topic, value };
  // As for the raw baseline: start with the page cache flushed, so that writeback of earlier
  // phases (or earlier suites) does not land on this one.
  execFileSync('sync');
  const t0 = nowMs();
  // A sliding window: when it is full, wait for the oldest part only, so the pipeline never
  // drains (waiting for the whole window would stall on the last batch's linger every time).
  // Per-record sends release a batch's worth at a time: releasing one send per send would leave
  // each batch with a record or two, waiting out its linger.
  const window: Promise<unknown>[] = [];
  if (perRecord) {
    for (let i = 0; i < records; i++) {
      window.push(producer.send(record));
      if (window.length >= 20_000) await Promise.all(window.splice(0, 1000));
    }
  } else {
    const chunk = Array.from({ length: 1000 }, () => record);
    for (let i = 0; i < records; i += chunk.length) {
      window.push(producer.sendBatch(chunk));
      if (window.length >= 20) await window.shift();
    }
  }
  await Promise.all(window);
  const rate = records / ((nowMs() - t0) / 1000);
  await producer.close();
  return rate;
}

async function consumeAll(url: string, topic: string, records = RECORDS, checkCrcs = true): Promise<number> {
  // The consumer's default fetch sizes (1 MiB per partition): larger fetches keep more records
  // alive across a young-generation GC and measured slower (8 MiB: ~2.0M msg/s, 1 MiB: ~3M).
  const consumer = new Consumer({ server: url, autoOffsetReset: 'earliest', checkCrcs });
  consumer.assign([{ topic, partition: 0 }]);
  await consumer.seek({ topic, partition: 0 }, 'earliest');
  let n = 0;
  const t0 = nowMs();
  while (n < records) n += (await consumer.poll({ timeoutMs: 1000 })).length;
  const rate = records / ((nowMs() - t0) / 1000);
  await consumer.close();
  return rate;
}

function withNode<T>(fn: (url: string, dir: string) => Promise<T>): Promise<T> {
  return withNodeProcess('broker', { mqtt: false }, (node, dir) => fn(node.url, dir));
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export async function runProduce(): Promise<void> {
  await withNode(async (url, dir) => {
    say(`  machine: ${machine()}; ${fmt(RECORDS)} x ${RECORD_BYTES}-byte records, acks=1 and idempotent acks=all, node in a child process, loopback`);
    const raw = rawMsgPerSec(dir);
    await produceAll(url, 'warmup', false, WARMUP_RECORDS);
    await produceAll(url, 'warmup-send', true, WARMUP_RECORDS);
    await produceAll(url, 'warmup-idempotent', false, WARMUP_RECORDS, true);
    // Idempotent first: a phase pays for the WAL checkpoints of the one before it, so the
    // default path gets no head start.
    const idempotent = await produceAll(url, 'bench-idempotent', false, RECORDS, true);
    const batched = await produceAll(url, 'bench', false);
    const perRecord = await produceAll(url, 'bench-send', true);
    say(
      `  raw better-sqlite3 (1,000-record blobs, tx each): ${fmt(raw)} msg/s | SDK sendBatch acks=1: ${fmt(batched)} msg/s (${round(batched / raw)}x) ` +
        `| idempotent (acks=all, the default): ${fmt(idempotent)} msg/s (${round(idempotent / raw)}x) | SDK send() per record: ${fmt(perRecord)} msg/s (${round(perRecord / raw)}x)`,
    );
    result({
      suite: 'produce',
      msgPerSec: Math.round(batched),
      rawMsgPerSec: Math.round(raw),
      ratio: round(batched / raw),
      idempotentMsgPerSec: Math.round(idempotent),
      idempotentRatio: round(idempotent / raw),
      sendPerRecordMsgPerSec: Math.round(perRecord),
      sendPerRecordRatio: round(perRecord / raw),
    });
  });
}

export async function runConsume(): Promise<void> {
  await withNode(async (url, dir) => {
    say(`  machine: ${machine()}; ${fmt(RECORDS)} x ${RECORD_BYTES}-byte records, node in a child process, loopback`);
    const raw = rawMsgPerSec(dir);
    await produceAll(url, 'warmup', false, WARMUP_RECORDS);
    await consumeAll(url, 'warmup', WARMUP_RECORDS);
    const produce = await produceAll(url, 'bench', false);
    const consume = await consumeAll(url, 'bench');
    // The client verifies every batch's CRC by default (Kafka's check.crcs); also shown without.
    const noCrc = await consumeAll(url, 'bench', RECORDS, false);
    say(
      `  raw: ${fmt(raw)} msg/s | produce (sendBatch): ${fmt(produce)} msg/s | SDK consume from earliest: ${fmt(consume)} msg/s ` +
        `(${round(consume / produce)}x produce; without client CRC checks ${fmt(noCrc)} msg/s, ${round(noCrc / produce)}x)`,
    );
    result({
      suite: 'consume',
      msgPerSec: Math.round(consume),
      rawMsgPerSec: Math.round(raw),
      ratio: round(consume / raw),
      produceMsgPerSec: Math.round(produce),
      overProduce: round(consume / produce),
      noCrcCheckMsgPerSec: Math.round(noCrc),
      noCrcCheckOverProduce: round(noCrc / produce),
    });
  });
}
