/**
 * Load generator for the edge suite, run as its own process so that its CPU and memory are
 * neither the node's nor the sampling bench's. Prints one JSON line (its result) and exits.
 *
 *   edge-load.js load   <url> <topic> <partitions> <seconds>   produce + a consumer keeping up
 *   edge-load.js paced  <url> <topic> <partitions> <seconds> <records/s>   produce at a fixed rate
 *   edge-load.js stall  <url> <topic> <partitions> <seconds> <fetchTopic>  produce, while a raw
 *        client pipelines Fetch requests for fetchTopic-0 and never reads its socket
 *
 * Records: 200-byte JSON-like values under keys `sensor-NNNN`, with the client's defaults
 * (idempotent, acks=all, linger 5 ms, 16 KiB batches, no compression).
 */
import WebSocket from 'ws';
import { Consumer, Producer } from '../gateway/client/index.js';
import { Apis } from '../protocol/apis/index.js';
import { CONSUMER_PARTITION_EPOCHS } from '../protocol/apis/fetch.js';
import { encodeRequest } from '../protocol/frame.js';

const VALUE_BYTES = 200;
const DEVICES = 500;
/** sendBatch calls of this many records, at most WINDOW unsettled: the producer never idles. */
const CHUNK = 100;
const WINDOW = 50;

const enc = new TextEncoder();

/** One reading per device, padded to exactly VALUE_BYTES; built once so the loop costs nothing. */
function records(topic: string) {
  return Array.from({ length: DEVICES }, (_, d) => {
    const key = `sensor-${String(d).padStart(4, '0')}`;
    const head = `{"device":"${key}","ts":1767225600000,"temp":${(20 + (d % 70) / 10).toFixed(1)},"humidity":${40 + (d % 30)},"battery":3.${d % 10},"fw":"2.4.1","note":"`;
    const value = enc.encode(head.padEnd(VALUE_BYTES - 2, 'x') + '"}');
    if (value.length !== VALUE_BYTES) throw new Error(`payload is ${value.length} bytes`);
    const k = enc.encode(key);
    return { topic, key: k, value, bytes: k.length + value.length };
  });
}

interface ProduceStats {
  acked: number;
  payloadBytes: number;
}

/**
 * Produces until `deadline`: as fast as the producer takes records (rate null), or `rate`
 * records per second in 10 ms ticks. Counts only acknowledged records.
 */
async function produce(url: string, topic: string, deadline: number, rate: number | null): Promise<ProduceStats> {
  const producer = new Producer({ server: url, clientId: 'edge-bench' });
  const all = records(topic);
  const stats: ProduceStats = { acked: 0, payloadBytes: 0 };
  const window: Promise<void>[] = [];
  let next = 0;
  const take = (n: number) => {
    const chunk = Array.from({ length: n }, () => all[next++ % all.length]!);
    const bytes = chunk.reduce((s, r) => s + r.bytes, 0);
    return producer.sendBatch(chunk.map(({ topic, key, value }) => ({ topic, key, value }))).then(() => {
      stats.acked += n;
      stats.payloadBytes += bytes;
    });
  };
  if (rate === null) {
    while (Date.now() < deadline) {
      window.push(take(CHUNK));
      if (window.length >= WINDOW) await window.shift();
    }
  } else {
    const t0 = Date.now();
    let sent = 0;
    while (Date.now() < deadline) {
      const due = Math.floor(((Date.now() - t0) / 1000) * rate) - sent;
      if (due > 0) {
        window.push(take(due));
        sent += due;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  await Promise.all(window);
  await producer.close();
  return stats;
}

/** Reads `topic` from the start, counting into `count.n`, until `stop()`. */
async function consumeUntil(url: string, topic: string, partitions: number, count: { n: number }, stop: () => boolean): Promise<void> {
  const consumer = new Consumer({ server: url, autoOffsetReset: 'earliest', clientId: 'edge-bench' });
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  while (!stop()) count.n += (await consumer.poll({ timeoutMs: 200 })).length;
  await consumer.close();
}

/**
 * A consumer that stalls: pipelines Fetch requests (1 MiB each, from offset 0, so each has a
 * full answer) at `perSecond`, with its TCP socket paused so the kernel buffers fill and the
 * node has to hold or stop producing the answers.
 */
async function stall(url: string, topic: string, deadline: number, perSecond: number): Promise<number> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('error', () => {});
  ws.pause(); // never read: the answers stay in the socket buffers and the node
  const body = {
    replicaId: -1, // a consumer
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolation: 0,
    topics: [{ name: topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, ...CONSUMER_PARTITION_EPOCHS }] }],
  };
  let sent = 0;
  const t0 = Date.now();
  while (Date.now() < deadline) {
    const due = Math.floor(((Date.now() - t0) / 1000) * perSecond);
    for (; sent < due; sent++) {
      ws.send(encodeRequest({ apiKey: Apis.Fetch.key, apiVersion: Apis.Fetch.newest.version, correlationId: sent + 1, clientId: 'edge-bench-stalled' }, Apis.Fetch.newest.request, body), { binary: true });
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  ws.terminate();
  return sent;
}

const [mode, url, topic, partitionsArg, secondsArg, extra] = process.argv.slice(2);
const partitions = Number(partitionsArg);
const seconds = Number(secondsArg);
if (!url || !topic || !(partitions > 0) || !(seconds > 0)) {
  process.stderr.write('usage: edge-load.js load|paced|stall <url> <topic> <partitions> <seconds> [records/s | fetchTopic]\n');
  process.exit(2);
}
const t0 = Date.now();
const deadline = t0 + seconds * 1000;
let out: Record<string, unknown>;
if (mode === 'load') {
  const consumed = { n: 0 };
  let produced: ProduceStats | null = null;
  let drainLimit = Infinity;
  // The consumer stops once it has read everything acked, or 10 s after producing stopped.
  const consuming = consumeUntil(url, topic, partitions, consumed, () => produced !== null && (consumed.n >= produced.acked || Date.now() > drainLimit));
  produced = await produce(url, topic, deadline, null);
  const producedMs = Date.now() - t0;
  drainLimit = Date.now() + 10_000;
  await consuming;
  out = { mode, ...produced, producedMs, consumed: consumed.n, drainMs: Date.now() - t0 - producedMs };
} else if (mode === 'paced') {
  const produced = await produce(url, topic, deadline, Number(extra));
  out = { mode, ...produced, producedMs: Date.now() - t0 };
} else if (mode === 'stall') {
  const [produced, fetchesSent] = await Promise.all([produce(url, topic, deadline, null), stall(url, extra!, deadline, 20)]);
  out = { mode, ...produced, producedMs: Date.now() - t0, fetchesSent };
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
