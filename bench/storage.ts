/**
 * Storage suite: Eddy's append path against raw better-sqlite3 on the same disk, in the same run.
 *
 * Raw: one blob per batch, one transaction each, WAL, synchronous=FULL, on the main thread: the
 * least work SQLite can do for a durable batch. Eddy: validate (CRC, record walk), stamp, hand
 * to the writer thread, commit with fsync (sync policy always). Measured two ways:
 * - sequential: one append in flight (the same shape as raw);
 * - pipelined: 16 in flight, as concurrent producers drive it; appends share group commits.
 * Rounds alternate raw/Eddy on fresh files; the median of 3 rounds is reported.
 */
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { decodeRecords, encodeRecordBatch, readBatchHeader } from '../protocol/record-batch.js';
import { LogStore } from '../node/storage/log-store.js';
import { benchDir, machine, nowMs, percentile, result, round, say } from './lib.js';

const RECORD_BYTES = 100;
const ROUNDS = 3;

function makeBatches(count: number, recordsPerBatch: number): Uint8Array[] {
  const value = new Uint8Array(RECORD_BYTES);
  for (let i = 0; i < RECORD_BYTES; i++) value[i] = (i * 7) & 0xff;
  const template = encodeRecordBatch(Array.from({ length: recordsPerBatch }, () => ({ value })), {
    baseTimestamp: 1_700_000_000_000,
  });
  // Distinct buffers: an append stamps its batch in place.
  return Array.from({ length: count }, () => template.slice());
}

/**
 * Each run gets a fresh file, deleted afterwards, and starts after `sync` has flushed what
 * earlier runs left in the page cache: otherwise their writeback competes with later runs and
 * the order of runs, not the code, decides the ratio.
 */
function freshFile(dir: string, name: string): { path: string; done(): void } {
  execFileSync('sync');
  const path = join(dir, `${name}.db`);
  return { path, done: () => ['', '-wal', '-shm'].forEach((s) => rmSync(path + s, { force: true })) };
}

function rawRun(dir: string, batches: Uint8Array[]): { seconds: number; commitMs: number[] } {
  const file = freshFile(dir, 'raw');
  const db = new Database(file.path);
  db.pragma('page_size = 4096');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE raw (k INTEGER PRIMARY KEY, v BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO raw (k, v) VALUES (?, ?)');
  const tx = db.transaction((k: number, v: Uint8Array) => insert.run(k, v));
  const commitMs: number[] = [];
  const t0 = nowMs();
  for (let i = 0; i < batches.length; i++) {
    const t = nowMs();
    tx(i, batches[i]!);
    commitMs.push(nowMs() - t);
  }
  const seconds = (nowMs() - t0) / 1000;
  db.close();
  file.done();
  return { seconds, commitMs };
}

async function eddyRun(dir: string, batches: Uint8Array[], window: number): Promise<{ seconds: number; loopP99Ms: number; groups: number }> {
  const file = freshFile(dir, 'eddy');
  const store = await LogStore.open({ path: file.path });
  const log = await store.partition('bench', 0);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const groups0 = store.stats.groupCommits;
  loop.enable();
  const t0 = nowMs();
  let next = 0;
  // Each append starts in its own macrotask, as a produce request arriving on a socket would,
  // so the event-loop figure shows what other connections would wait, not one long burst.
  await new Promise<void>((resolve, reject) => {
    let inFlight = 0;
    const one = () => {
      if (next >= batches.length) return;
      inFlight++;
      log.append([batches[next++]!]).then(() => {
        inFlight--;
        if (next === batches.length && inFlight === 0) resolve();
        else setImmediate(one);
      }, reject);
    };
    for (let i = 0; i < window; i++) setImmediate(one);
  });
  const seconds = (nowMs() - t0) / 1000;
  loop.disable();
  const groups = store.stats.groupCommits - groups0;
  await store.close();
  file.done();
  return { seconds, loopP99Ms: loop.percentile(99) / 1e6, groups };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function compare(dir: string, recordsPerBatch: number, count: number) {
  const batches = makeBatches(count, recordsPerBatch);
  const msgs = count * recordsPerBatch;
  const raw: number[] = [];
  const seq: number[] = [];
  const pipe: number[] = [];
  const loopP99: number[] = [];
  const commitP99: number[] = [];
  let groups = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const runRaw = () => {
      const rr = rawRun(dir, batches);
      raw.push(msgs / rr.seconds);
      commitP99.push(percentile(rr.commitMs.sort((a, b) => a - b), 99));
    };
    if (r % 2 === 0) runRaw(); // alternate who goes first
    seq.push(msgs / (await eddyRun(dir, batches, 1)).seconds);
    const p = await eddyRun(dir, batches, 16);
    pipe.push(msgs / p.seconds);
    loopP99.push(p.loopP99Ms);
    groups = p.groups;
    if (r % 2 === 1) runRaw();
  }
  const out = {
    rawMsgPerSec: median(raw),
    sequentialMsgPerSec: median(seq),
    pipelinedMsgPerSec: median(pipe),
    eventLoopP99Ms: median(loopP99),
    rawCommitP99Ms: median(commitP99),
    groupsPerRun: groups,
  };
  say(
    `  ${recordsPerBatch}-record batches x ${count}: raw ${fmt(out.rawMsgPerSec)} msg/s | eddy sequential ${fmt(out.sequentialMsgPerSec)} ` +
      `(${round(out.sequentialMsgPerSec / out.rawMsgPerSec)}x) | eddy pipelined ${fmt(out.pipelinedMsgPerSec)} ` +
      `(${round(out.pipelinedMsgPerSec / out.rawMsgPerSec)}x, ${groups} group commits for ${count} appends) | ` +
      `event-loop p99 ${round(out.eventLoopP99Ms)} ms (raw commit on main thread p99 ${round(out.rawCommitP99Ms)} ms)`,
  );
  return out;
}

async function readBack(dir: string, totalRecords: number) {
  const batches = makeBatches(totalRecords / 1000, 1000);
  const store = await LogStore.open({ path: join(dir, 'read.db') });
  const log = await store.partition('bench', 0);
  for (let i = 0; i < batches.length; i += 16) await Promise.all(batches.slice(i, i + 16).map((b) => log.append([b])));
  const readOnce = (decode: boolean) => {
    let records = 0;
    let offset = 0;
    const t0 = nowMs();
    while (offset < log.highWatermark) {
      const r = log.read(offset, 1 << 20);
      for (const b of r.batches) records += decode ? decodeRecords(b).length : readBatchHeader(b).recordCount;
      offset = r.nextOffset;
    }
    if (records !== totalRecords) throw new Error(`read back ${records} records, expected ${totalRecords}`);
    return totalRecords / ((nowMs() - t0) / 1000);
  };
  readOnce(false); // warm the page cache: the figure is for the read path, not the disk
  const readMsgPerSec = median([readOnce(false), readOnce(false), readOnce(false)]);
  const decodeMsgPerSec = readOnce(true);
  await store.close();
  say(`  read-back of ${fmt(totalRecords)} records via read(): ${fmt(readMsgPerSec)} msg/s (with full record decode: ${fmt(decodeMsgPerSec)} msg/s)`);
  return { readMsgPerSec, decodeMsgPerSec };
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export async function run(): Promise<void> {
  const { dir, cleanup } = benchDir('storage');
  try {
    say(`  machine: ${machine()}; disk: ${dir}; ${RECORD_BYTES}-byte records, sync always, median of ${ROUNDS} rounds`);
    const big = await compare(dir, 1000, 1000);
    const small = await compare(dir, 10, 5000);
    const read = await readBack(dir, 1_000_000);
    result({
      suite: 'storage',
      appendMsgPerSec: Math.round(big.pipelinedMsgPerSec),
      rawMsgPerSec: Math.round(big.rawMsgPerSec),
      ratio: round(big.pipelinedMsgPerSec / big.rawMsgPerSec),
      readMsgPerSec: Math.round(read.readMsgPerSec),
      eventLoopP99Ms: round(big.eventLoopP99Ms),
      sequentialMsgPerSec: Math.round(big.sequentialMsgPerSec),
      sequentialRatio: round(big.sequentialMsgPerSec / big.rawMsgPerSec),
      small: {
        appendMsgPerSec: Math.round(small.pipelinedMsgPerSec),
        rawMsgPerSec: Math.round(small.rawMsgPerSec),
        ratio: round(small.pipelinedMsgPerSec / small.rawMsgPerSec),
        sequentialRatio: round(small.sequentialMsgPerSec / small.rawMsgPerSec),
        eventLoopP99Ms: round(small.eventLoopP99Ms),
      },
      decodeMsgPerSec: Math.round(read.decodeMsgPerSec),
      rawCommitP99Ms: round(big.rawCommitP99Ms),
    });
  } finally {
    cleanup();
  }
}
