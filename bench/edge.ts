/**
 * Edge suite: what the node costs a gateway, measured on the node as a separate process (the
 * packaged single executable when there is one): start-up time, resident memory idle, under
 * load and with a stalled consumer, and write amplification (bytes written to disk per payload
 * byte, which is what wears out an SD card).
 *
 * Phases, one node each for start-up and one node for the rest (in this order, so that idle
 * memory is measured before any load):
 * 1. start: a cold start, then 5 more, each on an empty data dir, stopped with SIGTERM.
 * 2. idle: one topic (3 partitions), MQTT listener on, then 5 s of nothing; /proc/<pid>/status.
 * 3. load: 20 s of produce with a consumer keeping up (a separate load process); peak RSS
 *    sampled every 100 ms; disk writes of the node over the phase (writeAmp).
 * 4. paced: 10 s at 1,000 records/s, a sensor gateway's pace: small batches; disk writes again.
 * 5. stalled: 15 s of produce while a client pipelines Fetch requests and never reads; peak RSS,
 *    and whether it still grows at the end.
 *
 * Targets (printed next to each figure; a miss is reported as one, never adjusted): idle RSS ≤
 * 50 MB, load RSS ≤ 150 MB, start < 300 ms, write amplification ≤ 2.5.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Admin } from '../gateway/client/index.js';
import { REPO, resolveTarget, startTarget, track, type RunningTarget, type Target } from './edge-target.js';
import { benchDir, machine, result, round, say } from './lib.js';
import { ioDelta, readIo, readRss, RssSampler, toMB, type Io } from './proc-stats.js';

const STARTS = 5;
const IDLE_MS = 5_000;
const LOAD_S = 20;
const PACED_S = 10;
const PACED_RATE = 1_000;
const STALL_S = 15;
const PARTITIONS = 3;
/**
 * Stalled memory is called unbounded when the last third's peak passes the first third's by
 * this factor. Some rise is garbage: each 1 MiB answer is built in large-object space, freed
 * only by a full GC (a few MB to ~10 % here); without backpressure it was +80 % (258 → 464 MB).
 */
const STILL_GROWING = 1.25;
/** A node past this while stalled is growing without bound: stop the phase before it hurts the machine. */
const STALL_ABORT_MB = 2048;

const TARGETS = { idleRssMB: 50, loadRssMB: 150, startMs: 300, writeAmp: 2.5 };

const LOAD_SCRIPT = fileURLToPath(new URL('./edge-load.js', import.meta.url));

function verdict(value: number | null, target: number, lowerIsBetter = true, strict = false): string {
  if (value === null || Number.isNaN(value)) return '(not measured)';
  const ok = lowerIsBetter ? (strict ? value < target : value <= target) : value >= target;
  return ok ? `meets target ${strict ? '<' : '≤'} ${target}` : `MISSES target ${strict ? '<' : '≤'} ${target}`;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the load generator to completion and returns its JSON result; killed if the bench dies. */
function runLoad(args: string[], onSpawn?: (kill: () => void) => void): Promise<Record<string, number>> {
  const child = spawn(process.execPath, [LOAD_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  track(child);
  onSpawn?.(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last));
      else reject(new Error(`load generator (${args[0]}) exited with ${signal ?? code}: ${out}`));
    });
  });
}

/**
 * The plain Node binary the measured process runs on: this machine's for the CLI, the one the
 * executable was built from (packaging's cache) for a single executable; null if not at hand.
 */
function bareRuntime(target: Target, nodeVersion: string | null): string | null {
  if (target.runtime === 'node') return process.execPath;
  if (!nodeVersion) return null;
  const candidate = join(REPO, '.build', 'cache', `node-linux-${process.arch}-${nodeVersion.replace(/^v/, '')}`, 'package', 'bin', 'node');
  return existsSync(candidate) ? candidate : null;
}

/** Waits until the node has written nothing for 1 s (at most 10 s): its commits and checkpoints are done. */
async function quiet(pid: number): Promise<void> {
  let last = readIo(pid).writeBytes;
  let still = 0;
  for (let waited = 0; waited < 10_000 && still < 1_000; waited += 200) {
    await sleep(200);
    const now = readIo(pid).writeBytes;
    still = now === last ? still + 200 : 0;
    last = now;
  }
}

/**
 * Copies the WAL into log.db, as the node's own checkpoints do every ~4 MB of WAL, and returns
 * the bytes that cost (this process's write_bytes: it runs the checkpoint). The node checkpoints
 * what is left at shutdown, but /proc/<pid>/io is gone by then; running it here while the node
 * is alive and idle puts the same page writes on a counter we can read. Without it, the last few
 * MB of a phase would be counted once (WAL) instead of twice (WAL + file).
 */
function checkpoint(dataDir: string): { bytes: number; complete: boolean } {
  const before = readIo('self').writeBytes;
  const db = new Database(join(dataDir, 'log.db'));
  try {
    db.pragma('busy_timeout = 5000');
    const row = (db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[])[0];
    return { bytes: readIo('self').writeBytes - before, complete: row?.busy === 0 };
  } finally {
    db.close();
  }
}

interface WritePhase {
  payloadBytes: number;
  acked: number;
  producedMs: number;
  nodeWrites: Io;
  checkpointBytes: number;
  /** (node write_bytes − cancelled + final checkpoint) ÷ payload. */
  writeAmp: number;
  source: string;
  extra: Record<string, number>;
}

/** Runs a produce phase and accounts the node's disk writes over it, final checkpoint included. */
async function writePhase(node: RunningTarget, dataDir: string, args: string[], sampler?: RssSampler): Promise<WritePhase> {
  checkpoint(dataDir); // start from an empty WAL: earlier phases' pages are not this one's
  await quiet(node.pid);
  const before = readIo(node.pid);
  const load = await runLoad(args);
  sampler?.stop();
  await quiet(node.pid);
  const nodeWrites = ioDelta(readIo(node.pid), before);
  const ckpt = checkpoint(dataDir);
  const payload = load.payloadBytes!;
  let written = nodeWrites.writeBytes - nodeWrites.cancelledWriteBytes + ckpt.bytes;
  let source = 'proc-io-write_bytes';
  if (nodeWrites.writeBytes === 0 && payload > 0) {
    // This kernel does not account block I/O per process (some containers): wchar is the bytes
    // handed to write(2), sockets included (the consumer's fetches), so it over-states the disk.
    written = nodeWrites.wchar;
    source = 'proc-io-wchar (write_bytes reads 0 here; wchar includes socket writes, so this over-states disk writes)';
  }
  if (!ckpt.complete) source += '; final checkpoint incomplete (a reader held the WAL)';
  return { payloadBytes: payload, acked: load.acked!, producedMs: load.producedMs!, nodeWrites, checkpointBytes: ckpt.bytes, writeAmp: written / payload, source, extra: load };
}

function dataDirBytes(dataDir: string): number {
  let n = 0;
  for (const f of ['log.db', 'log.db-wal']) {
    try {
      n += statSync(join(dataDir, f)).size;
    } catch {
      // absent (no WAL after a TRUNCATE checkpoint)
    }
  }
  return n;
}

async function measureStarts(target: Target, dir: string): Promise<{ cold: number; startMs: number; all: number[]; runtimeLine: string | null }> {
  const all: number[] = [];
  let runtimeLine: string | null = null;
  for (let i = 0; i <= STARTS; i++) {
    const node = await startTarget(target, join(dir, `start-${i}`, 'data'));
    all.push(node.startMs);
    runtimeLine ??= node.runtimeLine;
    const code = await node.stop();
    if (code !== 0) throw new Error(`eddy exited with ${code} after SIGTERM:\n${node.output()}`);
  }
  return { cold: all[0]!, startMs: median(all.slice(1)), all, runtimeLine };
}

export async function run(): Promise<void> {
  let target: Target;
  try {
    target = resolveTarget(process.argv, process.env);
  } catch (err) {
    // Nothing to measure: one line that says why, not a stack trace.
    process.stderr.write(`edge bench: ${(err as Error).message.split('\n')[0]}\n`);
    process.exit(2);
  }
  const { dir, cleanup } = benchDir('edge');
  // Ctrl-C or a kill of the bench: the nodes and load processes go too (the exit hook kills them).
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
  const mb = (n: number) => round(n, 1);
  try {
    say(`  machine: ${machine()}`);
    say(`  measuring: ${target.describe}, eddy ${target.eddyVersion}${target.binaryBytes === null ? '' : `, ${mb(toMB(target.binaryBytes))} MB`}`);

    const starts = await measureStarts(target, dir);
    const nodeVersion = /node (v[\d.]+)/.exec(starts.runtimeLine ?? '')?.[1] ?? (target.runtime === 'node' ? process.version : null);
    say(`  runtime of the measured process: ${starts.runtimeLine ?? `${nodeVersion ?? 'unknown'} (the banner does not say)`}`);
    say(`  start (spawn → "Eddy … is running"): cold ${round(starts.cold, 0)} ms, median of ${STARTS} ${round(starts.startMs, 0)} ms [${starts.all.slice(1).map((m) => round(m, 0)).join(', ')}] — ${verdict(starts.startMs, TARGETS.startMs, true, true)}`);

    const dataDir = join(dir, 'node', 'data');
    const node = await startTarget(target, dataDir);
    try {
      const admin = new Admin({ server: node.url });
      await admin.createTopics([{ name: 'telemetry', partitions: PARTITIONS }]);
      await admin.close();
      // The same Node running nothing, idle for as long, measured alongside: what the runtime
      // itself costs on this machine, so the figure above it is Eddy's own.
      const bare = bareRuntime(target, nodeVersion);
      const bareChild = bare ? spawn(bare, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }) : null;
      await sleep(IDLE_MS);
      const idle = readRss(node.pid)!;
      const runtimeIdle = bareChild?.pid ? readRss(bareChild.pid) : null;
      bareChild?.kill('SIGKILL');
      say(`  idle RSS (one topic, MQTT on, ${IDLE_MS / 1000} s): ${mb(idle.rssMB)} MB (anon ${mb(idle.anonMB)} MB heap and stacks, file ${mb(idle.fileMB)} MB mapped code) — ${verdict(idle.rssMB, TARGETS.idleRssMB)}`);
      if (runtimeIdle) say(`    the same Node ${nodeVersion} running an empty script: ${mb(runtimeIdle.rssMB)} MB (anon ${mb(runtimeIdle.anonMB)}, file ${mb(runtimeIdle.fileMB)}); Eddy adds ${mb(idle.rssMB - runtimeIdle.rssMB)} MB`);

      const loadSampler = new RssSampler(node.pid);
      const load = await writePhase(node, dataDir, ['load', node.url, 'telemetry', String(PARTITIONS), String(LOAD_S)], loadSampler);
      const loadRss = loadSampler.peak!;
      const rate = load.acked / (load.producedMs / 1000);
      say(
        `  load (${LOAD_S} s produce, ${PARTITIONS} partitions, 200-byte values, client defaults, consumer keeping up): ${Math.round(rate).toLocaleString('en-US')} records/s, ` +
          `consumed ${load.extra.consumed!.toLocaleString('en-US')} of ${load.acked.toLocaleString('en-US')}; peak RSS ${mb(loadRss.rssMB)} MB (anon ${mb(loadRss.anonMB)}) — ${verdict(loadRss.rssMB, TARGETS.loadRssMB)}`,
      );
      say(
        `  write amplification under load: ${round(load.writeAmp)} (node wrote ${mb(toMB(load.nodeWrites.writeBytes))} MB, ${mb(toMB(load.nodeWrites.cancelledWriteBytes))} MB of it cancelled, ` +
          `+ ${mb(toMB(load.checkpointBytes))} MB final checkpoint, for ${mb(toMB(load.payloadBytes))} MB of keys and values) — ${verdict(load.writeAmp, TARGETS.writeAmp)}`,
      );

      const paced = await writePhase(node, dataDir, ['paced', node.url, 'telemetry', String(PARTITIONS), String(PACED_S), String(PACED_RATE)]);
      say(
        `  write amplification at ${PACED_RATE.toLocaleString('en-US')} records/s (small batches): ${round(paced.writeAmp)} (${mb(toMB(paced.nodeWrites.writeBytes - paced.nodeWrites.cancelledWriteBytes + paced.checkpointBytes))} MB ` +
          `for ${mb(toMB(paced.payloadBytes))} MB) — ${verdict(paced.writeAmp, TARGETS.writeAmp)}`,
      );

      const admin2 = new Admin({ server: node.url });
      await admin2.createTopics([{ name: 'stall-produce', partitions: PARTITIONS }]);
      await admin2.close();
      const stallSampler = new RssSampler(node.pid);
      let aborted = false;
      let kill = () => {};
      const guard = setInterval(() => {
        if ((stallSampler.peak?.rssMB ?? 0) > STALL_ABORT_MB) {
          aborted = true;
          kill();
        }
      }, 100);
      const stall = await runLoad(['stall', node.url, 'stall-produce', String(PARTITIONS), String(STALL_S), 'telemetry'], (k) => (kill = k)).catch((err: Error) => {
        if (aborted) return { acked: 0, producedMs: 0, fetchesSent: 0 } as Record<string, number>;
        throw err;
      });
      clearInterval(guard);
      stallSampler.stop();
      const stalled = stallSampler.peak!;
      const third = (STALL_S * 1000) / 3;
      const early = stallSampler.peakBetween(0, third);
      const late = stallSampler.peakBetween(2 * third, 3 * third + 1000);
      say(
        `  stalled consumer (${stall.fetchesSent} pipelined 1 MiB fetches never read, produce meanwhile ${Math.round(stall.acked! / (stall.producedMs! / 1000) || 0).toLocaleString('en-US')} records/s): ` +
          `peak RSS ${mb(stalled.rssMB)} MB (${round(stalled.rssMB / loadRss.rssMB)}x load); first third ${mb(early)} MB, last third ${mb(late)} MB — ` +
          (aborted ? `ABORTED past ${STALL_ABORT_MB} MB: grows without bound` : late > early * STILL_GROWING ? 'STILL GROWING: not bounded' : 'bounded'),
      );

      result({
        suite: 'edge',
        binaryMB: target.binaryBytes === null ? null : round(toMB(target.binaryBytes), 1),
        startMs: round(starts.startMs, 0),
        idleRssMB: mb(idle.rssMB),
        loadRssMB: mb(loadRss.rssMB),
        stalledRssMB: mb(stalled.rssMB),
        writeAmp: round(load.writeAmp),
        runtime: target.runtime,
        nodeVersion,
        eddyVersion: target.eddyVersion,
        command: target.command.join(' '),
        nodeArgs: target.nodeArgs.join(' '),
        coldStartMs: round(starts.cold, 0),
        // The least contended of the starts: on a shared machine the median moves with its load.
        startMinMs: round(Math.min(...starts.all.slice(1)), 0),
        idleRssAnonMB: mb(idle.anonMB),
        idleRssFileMB: mb(idle.fileMB),
        runtimeIdleRssMB: runtimeIdle ? mb(runtimeIdle.rssMB) : null,
        loadRssAnonMB: mb(loadRss.anonMB),
        loadRecordsPerSec: Math.round(rate),
        loadConsumed: load.extra.consumed,
        loadAcked: load.acked,
        stalledOverLoad: round(stalled.rssMB / loadRss.rssMB),
        stalledRssFirstThirdMB: mb(early),
        stalledRssLastThirdMB: mb(late),
        stalledAborted: aborted,
        stalledFetchesSent: stall.fetchesSent,
        writeAmpSource: load.source,
        writePayloadMB: round(toMB(load.payloadBytes), 1),
        writeNodeMB: round(toMB(load.nodeWrites.writeBytes), 1),
        writeCancelledMB: round(toMB(load.nodeWrites.cancelledWriteBytes), 1),
        writeFinalCheckpointMB: round(toMB(load.checkpointBytes), 1),
        writeAmpPaced: round(paced.writeAmp),
        pacedRecordsPerSec: PACED_RATE,
        pacedPayloadMB: round(toMB(paced.payloadBytes), 2),
        dataDirMB: round(toMB(dataDirBytes(dataDir)), 1),
        targets: TARGETS,
      });
    } finally {
      await node.stop();
    }
  } finally {
    cleanup();
  }
}
