/**
 * Compression suite: the trade-off of none, gzip and lz4 on what gateways carry, JSON sensor
 * readings such as {"device":"sensor-17","ts":…,"temp":21.43,"hum":48.2,"battery":3.71}, keyed
 * by device, in batches of 100 records (and of 1000, for a busy gateway with a long linger).
 *
 * Per codec and batch size:
 * - ratio: uncompressed batch bytes / stored batch bytes (header included, as on disk);
 * - codec MB/s: the codec alone on the batch's records section, compress and decompress, in
 *   uncompressed MB per second (what it costs the producer and each consumer per byte);
 * - batch records/s: encoding a whole batch (producer) and decoding it back (consumer).
 * Everything runs on the main thread, one call at a time. The codecs are measured in turns (one
 * round each, 15 times over), and each figure is the best round: on a shared machine other work
 * only ever slows a round down, so the best is the closest to the codec's own speed (as timeit
 * reports the minimum). The load average is printed alongside.
 */
import { compress, Compression, decompress } from '../protocol/compression.js';
import { decodeRecords, encodeRecordBatch, HEADER_SIZE, type RecordInput } from '../protocol/record-batch.js';
import { loadavg } from 'node:os';
import { machine, nowMs, result, round, say } from './lib.js';

const CODECS = ['none', 'gzip', 'lz4'] as const;
const BATCH_SIZES = [100, 1000];
const ROUNDS = 15;
const ROUND_MS = 100;
const enc = new TextEncoder();

/** Readings from 40 devices, one a second each, values drifting as sensors do (deterministic). */
function readings(n: number, seed: number): RecordInput[] {
  let x = seed;
  const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const t0 = 1_700_000_000_000;
  return Array.from({ length: n }, (_, i) => {
    const device = `sensor-${(i * 7 + seed) % 40}`;
    const value = JSON.stringify({
      device,
      ts: t0 + i * 25,
      temp: round(18 + rnd() * 8, 2),
      hum: round(40 + rnd() * 20, 1),
      battery: round(3.5 + rnd() * 0.3, 2),
    });
    return { key: enc.encode(device), value: enc.encode(value), timestamp: t0 + i * 25 };
  });
}

/** Work units per second of one round of `fn`, running it for at least ROUND_MS. */
function round1(fn: () => void, unitsPerCall: number): number {
  let calls = 0;
  const t0 = nowMs();
  let t = t0;
  while (t - t0 < ROUND_MS) {
    for (let i = 0; i < 10; i++) fn();
    calls += 10;
    t = nowMs();
  }
  return (calls * unitsPerCall) / ((t - t0) / 1000);
}

/** Best rate of each contender over ROUNDS rounds taken in turns (after a warm-up round each). */
function rates(contenders: Record<string, { fn: () => void; units: number } | null>): Record<string, number | null> {
  const live = Object.entries(contenders).filter((e): e is [string, { fn: () => void; units: number }] => e[1] !== null);
  for (const [, c] of live) round1(c.fn, c.units); // warm up the JIT and the codec
  const best: Record<string, number | null> = Object.fromEntries(Object.keys(contenders).map((k) => [k, null]));
  for (let r = 0; r < ROUNDS; r++) for (const [k, c] of live) best[k] = Math.max(best[k] ?? 0, round1(c.fn, c.units));
  return best;
}

interface Figures {
  ratio: number;
  storedBytes: number;
  compressMBps: number | null;
  decompressMBps: number | null;
  encodeRecordsPerSec: number;
  decodeRecordsPerSec: number;
}

export async function run(): Promise<void> {
  say(`machine: ${machine()}`);
  const sample = new TextDecoder().decode(readings(1, 17)[0]!.value!);
  say(`payload: JSON sensor readings keyed by device, e.g. ${sample} (${sample.length} bytes)`);
  const out: Record<string, Record<string, Figures>> = {};
  for (const n of BATCH_SIZES) {
    const records = readings(n, n);
    const plain = encodeRecordBatch(records);
    const section = plain.subarray(HEADER_SIZE);
    say('');
    say(`batches of ${n} records: ${plain.length} bytes uncompressed`);
    say('codec  stored B   ratio  compress MB/s  decompress MB/s  encode rec/s  decode rec/s');
    const mb = section.length / 1e6;
    const batches = Object.fromEntries(CODECS.map((c) => [c, encodeRecordBatch(records, { compression: Compression[c] })]));
    const each = <T>(f: (c: (typeof CODECS)[number]) => T) => Object.fromEntries(CODECS.map((c) => [c, f(c)]));
    const compressRate = rates(each((c) => (c === 'none' ? null : { fn: () => compress(Compression[c], section), units: mb })));
    const decompressRate = rates(each((c) => (c === 'none' ? null : { fn: () => decompress(Compression[c], batches[c]!.subarray(HEADER_SIZE), 64 << 20), units: mb })));
    const encodeRate = rates(each((c) => ({ fn: () => encodeRecordBatch(records, { compression: Compression[c] }), units: n })));
    const decodeRate = rates(each((c) => ({ fn: () => decodeRecords(batches[c]!), units: n })));
    const perCodec: Record<string, Figures> = {};
    for (const name of CODECS) {
      const f: Figures = {
        ratio: round(plain.length / batches[name]!.length, 2),
        storedBytes: batches[name]!.length,
        compressMBps: compressRate[name] === null ? null : round(compressRate[name]!, 0),
        decompressMBps: decompressRate[name] === null ? null : round(decompressRate[name]!, 0),
        encodeRecordsPerSec: Math.round(encodeRate[name]!),
        decodeRecordsPerSec: Math.round(decodeRate[name]!),
      };
      perCodec[name] = f;
      say(
        `${name.padEnd(5)}  ${String(f.storedBytes).padStart(8)}  ${f.ratio.toFixed(2).padStart(6)}  ${String(f.compressMBps ?? '-').padStart(13)}  ${String(f.decompressMBps ?? '-').padStart(15)}  ${String(f.encodeRecordsPerSec).padStart(12)}  ${String(f.decodeRecordsPerSec).padStart(12)}`,
      );
    }
    out[`batch${n}`] = perCodec;
  }
  const g = out.batch100!.gzip!;
  const l = out.batch100!.lz4!;
  say('');
  say(
    `100-record batches: lz4 compresses ${round(l.compressMBps! / g.compressMBps!, 1)}× as fast as gzip and decompresses ` +
      `${round(l.decompressMBps! / g.decompressMBps!, 1)}× as fast, but stores ${round(l.storedBytes / g.storedBytes, 2)}× the bytes (ratio ${l.ratio} vs ${g.ratio}).`,
  );
  const load = loadavg().map((l) => round(l, 1));
  say(`load average during the run (1, 5, 15 min): ${load.join(', ')}`);
  result({ suite: 'compression', machine: machine(), loadAverage: load, recordBytes: sample.length, ...out });
}
