/**
 * MQTT ingest suite: a real node in a child process (`eddy start` with the embedded listener),
 * publishers using the `mqtt` package over loopback, sync always (PUBACK = durable).
 *
 * - Throughput: PUBLISHERS QoS 1 clients, each with WINDOW publishes in flight, 100-byte payloads;
 *   acknowledged messages per second.
 * - Latency: a paced 5,000 msg/s QoS 1 stream; an SDK Consumer in this same process reads it back
 *   over WebSocket. Each payload carries its send time (performance.now()), so latency is
 *   publish → PUBACK (ack) and publish → consumer poll returns it (end to end), on one clock.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { Consumer } from '../gateway/client/index.js';
import { benchDir, machine, percentile, result, round, say } from './lib.js';
import { startNodeProcess } from './node-process.js';

const PUBLISHERS = 8;
const WINDOW = 100;
const PAYLOAD_BYTES = 100;
const TPUT_MESSAGES = 200_000;
/** Untimed first, so that client and node hot paths are compiled before measuring. */
const WARMUP_MESSAGES = 20_000;
/** The throughput phase stops here even if TPUT_MESSAGES are not all acknowledged (slow disk). */
const TPUT_LIMIT_MS = 40_000;
const RATE = 5_000;
const LATENCY_MS = 10_000;
const LATENCY_WARMUP_MS = 1_000;
/**
 * Pacing granularity: 10 sends every 2 ms. Many devices publishing independently do not arrive in
 * synchronized bursts; 10 ms ticks (50 at once) measured p50 ~4-5 ms instead of ~1.3 ms, mostly
 * time spent queued behind the rest of the burst.
 */
const TICK_MS = 2;
/** After the last paced send, how long the consumer may take to read the rest. */
const DRAIN_LIMIT_MS = 5_000;

async function connectAll(url: string, prefix: string): Promise<MqttClient[]> {
  return Promise.all(
    Array.from({ length: PUBLISHERS }, (_, i) => mqtt.connectAsync(url, { clientId: `${prefix}-${i}`, reconnectPeriod: 0, protocolVersion: 4 })),
  );
}

/** Publishes `count` QoS 1 messages spread over the clients, WINDOW in flight per client; acked msg/s. */
async function throughput(clients: MqttClient[], count: number, topicPrefix: string, limitMs: number): Promise<{ rate: number; acked: number }> {
  const payload = Buffer.alloc(PAYLOAD_BYTES, 0x61);
  let next = 0;
  let acked = 0;
  execFileSync('sync'); // flush earlier writes first: their writeback must not land on this phase
  const t0 = performance.now();
  const deadline = t0 + limitMs;
  const slot = async (c: MqttClient, topic: string) => {
    while (next < count && performance.now() < deadline) {
      next++;
      await c.publishAsync(topic, payload, { qos: 1 });
      acked++;
    }
  };
  await Promise.all(clients.flatMap((c, i) => Array.from({ length: WINDOW }, () => slot(c, `${topicPrefix}/${i}`))));
  return { rate: acked / ((performance.now() - t0) / 1000), acked };
}

interface LatencyResult {
  sent: number;
  achievedRate: number;
  e2e: number[];
  ack: number[];
  received: number;
  maxInFlight: number;
}

/**
 * Paced publishing at RATE for LATENCY_MS, read back by a Consumer positioned at the end of the
 * log first. Latencies of messages sent before LATENCY_WARMUP_MS are left out.
 */
async function latency(clients: MqttClient[], wsUrl: string): Promise<LatencyResult> {
  const tp = { topic: 'mqtt', partition: 0 };
  const consumer = new Consumer({ server: wsUrl, autoOffsetReset: 'latest', maxWaitMs: 100 });
  consumer.assign([tp]);
  await consumer.seek(tp, 'latest');

  const total = Math.round((RATE * LATENCY_MS) / 1000);
  const e2e: number[] = [];
  const ack: number[] = [];
  let sent = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let received = 0;
  let publishError: unknown;
  execFileSync('sync'); // flush earlier writes first: their writeback must not land on this phase
  const t0 = performance.now();
  const warmEnd = t0 + LATENCY_WARMUP_MS;

  const send = (seq: number) => {
    const payload = Buffer.alloc(PAYLOAD_BYTES, 0x20);
    const at = performance.now();
    payload.writeDoubleLE(at, 0);
    payload.writeUInt32LE(seq, 8);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    clients[seq % clients.length]!.publishAsync(`lat/${seq % clients.length}`, payload, { qos: 1 }).then(
      () => {
        inFlight--;
        if (at >= warmEnd) ack.push(performance.now() - at);
      },
      (err: unknown) => (publishError ??= err),
    );
  };

  // Paced against the start time, not tick to tick, so timer lateness does not lower the rate.
  let lastSendAt = t0;
  let stopped = false;
  const paced = new Promise<void>((resolve) => {
    const tick = () => {
      if (stopped) return resolve();
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE));
      while (sent < due) send(sent++);
      if (sent >= total) {
        lastSendAt = performance.now();
        resolve();
      } else setTimeout(tick, TICK_MS);
    };
    tick();
  });

  let sendingDone = false;
  void paced.then(() => (sendingDone = true));
  try {
    while (received < total) {
      if (publishError !== undefined) throw publishError;
      if (sendingDone && performance.now() - lastSendAt > DRAIN_LIMIT_MS) break;
      const records = await consumer.poll({ timeoutMs: 200 });
      const now = performance.now();
      for (const r of records) {
        if (r.value === null || r.value.length !== PAYLOAD_BYTES) continue;
        const at = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength).readDoubleLE(0);
        received++;
        if (at >= warmEnd) e2e.push(now - at);
      }
    }
    await paced;
  } finally {
    stopped = true;
    await consumer.close();
  }
  const achievedRate = sent / ((lastSendAt - t0) / 1000);
  return { sent, achievedRate, e2e: e2e.sort((a, b) => a - b), ack: ack.sort((a, b) => a - b), received, maxInFlight };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * `p`, unless the node exits or `ms` pass first. mqtt.js neither resolves nor rejects a QoS 1
 * publish whose connection died (with reconnectPeriod 0 it waits for a reconnect that never
 * comes), so without this a crashed node would hang the suite.
 */
function bounded<T>(p: Promise<T>, ms: number, what: string, child: ChildProcess): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onExit: ((code: number | null) => void) | undefined;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms / 1000} s`)), ms);
    onExit = (code) => reject(new Error(`the node exited (${code}) during ${what}`));
    child.once('exit', onExit);
  });
  return Promise.race([p, failed]).finally(() => {
    clearTimeout(timer);
    child.off('exit', onExit!);
  });
}

export async function run(): Promise<void> {
  const { dir, cleanup } = benchDir('mqtt');
  const node = await startNodeProcess(join(dir, 'data'), { mqtt: true });
  const clients: MqttClient[] = [];
  try {
    say(`  machine: ${machine()}; node in a child process (sync always), mqtt.js publishers in this process, loopback`);
    clients.push(...(await connectAll(node.mqttUrl!, 'bench'))); // started with mqtt: true
    await bounded(throughput(clients, WARMUP_MESSAGES, 'warmup', TPUT_LIMIT_MS), TPUT_LIMIT_MS + 10_000, 'the warm-up', node.child);
    const tput = await bounded(throughput(clients, TPUT_MESSAGES, 'tput', TPUT_LIMIT_MS), TPUT_LIMIT_MS + 10_000, 'the throughput phase', node.child);
    say(
      `  throughput: ${fmt(tput.acked)} x ${PAYLOAD_BYTES}-byte QoS 1 publishes, ${PUBLISHERS} clients x ${WINDOW} in flight: ${fmt(tput.rate)} acked msg/s` +
        (tput.acked < TPUT_MESSAGES ? ` (stopped at the ${TPUT_LIMIT_MS / 1000} s limit)` : ''),
    );

    const lat = await bounded(latency(clients, node.url), LATENCY_MS + DRAIN_LIMIT_MS + 10_000, 'the latency phase', node.child);
    const p = (xs: number[], q: number) => round(percentile(xs, q), 2);
    say(
      `  latency at ${fmt(RATE)} msg/s target, paced every ${TICK_MS} ms (${fmt(lat.achievedRate)} achieved, ${fmt(lat.sent)} sent over ${LATENCY_MS / 1000} s, ${fmt(lat.received)} read back, ` +
        `${fmt(lat.e2e.length)} measured after a ${LATENCY_WARMUP_MS / 1000} s warm-up; at most ${fmt(lat.maxInFlight)} in flight):`,
    );
    say(`    publish → PUBACK:            p50 ${p(lat.ack, 50)} ms, p99 ${p(lat.ack, 99)} ms, max ${p(lat.ack, 100)} ms`);
    say(`    publish → consumer poll():   p50 ${p(lat.e2e, 50)} ms, p99 ${p(lat.e2e, 99)} ms, max ${p(lat.e2e, 100)} ms`);
    if (lat.received < lat.sent) say(`    WARNING: ${fmt(lat.sent - lat.received)} messages not read back within ${DRAIN_LIMIT_MS / 1000} s of the last send`);
    result({
      suite: 'mqtt',
      qos1MsgPerSec: Math.round(tput.rate),
      p50Ms: p(lat.e2e, 50),
      p99Ms: p(lat.e2e, 99),
      ackP50Ms: p(lat.ack, 50),
      ackP99Ms: p(lat.ack, 99),
      targetRate: RATE,
      achievedRate: Math.round(lat.achievedRate),
      measured: lat.e2e.length,
      sent: lat.sent,
      received: lat.received,
    });
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
    node.child.kill('SIGTERM');
    if (node.child.exitCode === null && node.child.signalCode === null) await new Promise((r) => node.child.once('exit', r));
    cleanup();
  }
}
