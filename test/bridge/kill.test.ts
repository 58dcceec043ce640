/**
 * MQTT ack-after-durable across SIGKILL: a real `eddy start` child process, a QoS 1 publisher in
 * this process, and the node killed at a random moment while publishes are in flight. Every
 * payload whose PUBACK arrived must be in the log after the restart (QoS 1 is at-least-once:
 * duplicates are allowed and counted, losses are not).
 */
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { Consumer } from '../../gateway/client/index.js';
import { eddyStart, type EddyServer } from '../helpers/eddy-process.js';
import { tempDir } from '../helpers/tmp.js';

const ROUNDS = 10;
const MQTT_TOPIC = 'kill/seq';
const EDDY_TOPIC = 'mqtt';
/** Publishes in flight at once: enough that the kill lands between PUBLISH and PUBACK. */
const WINDOW = 64;
/** A round that never gets its first PUBACK gives up after this (counts as a round without acks). */
const FIRST_ACK_LIMIT_MS = 5_000;

const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

function start(dataDir: string): Promise<EddyServer> {
  return eddyStart(['--data-dir', dataDir, '--port', '0', '--mqtt-port', '0', '--log-level', 'warn']);
}

/**
 * Publishes `"<round>-<n>"` with WINDOW in flight until the connection dies; SIGKILLs the node
 * `killAfterMs` after the first PUBACK. Returns the payloads whose PUBACK arrived before the kill.
 */
async function publishUntilKilled(node: EddyServer, round: number, killAfterMs: number): Promise<{ acked: string[]; sent: number; aliveAtKill: boolean }> {
  const client = await mqtt.connectAsync(node.mqttUrl!, { clientId: `kill-${round}`, reconnectPeriod: 0, protocolVersion: 4, connectTimeout: 5_000 });
  // The kill resets the socket: expected, and must not become an unhandled 'error' event.
  client.on('error', () => {});
  const acked: string[] = [];
  let sent = 0;
  let dead = false;
  let aliveAtKill = false;
  let killed: Promise<unknown> | undefined;
  let onFirstAck: () => void = () => {};
  const firstAck = new Promise<void>((resolve) => (onFirstAck = resolve));
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  void closed.then(() => (dead = true));

  // Kill at a random moment after the first PUBACK (or give up if none comes). The delay is a
  // sleep on purpose: the random moment is what the test varies; the race only bounds the wait.
  const killer = Promise.race([firstAck, new Promise((r) => setTimeout(r, FIRST_ACK_LIMIT_MS))])
    .then(() => new Promise((r) => setTimeout(r, killAfterMs)))
    .then(() => {
      // The node must still be running: a crash of its own would be a different bug.
      aliveAtKill = node.child.exitCode === null && node.child.signalCode === null;
      killed = node.stop('SIGKILL');
      return killed;
    });

  // QoS 1 publishes still in flight when the connection closes are neither acked nor rejected by
  // mqtt.js (they wait for a reconnect that never comes): each slot also settles on 'close'.
  const slot = async (): Promise<void> => {
    while (!dead) {
      const payload = `${round}-${sent++}`;
      try {
        await Promise.race([client.publishAsync(MQTT_TOPIC, payload, { qos: 1 }).then(() => true), closed.then(() => false)]).then((ok) => {
          if (!ok) return; // settled by the close, not by a PUBACK: not acknowledged
          acked.push(payload);
          onFirstAck();
        });
      } catch {
        return; // the connection died: this one was not acknowledged, and does not count
      }
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, slot));
  await killer;
  await killed;
  client.end(true); // force: rejects what is still pending, no DISCONNECT to a dead node
  return { acked, sent, aliveAtKill };
}

/** Every record of the Eddy topic from the earliest offset up to the high watermark, read with the SDK. */
async function readLog(url: string): Promise<{ values: string[]; badHeaders: number }> {
  const consumer = new Consumer({ server: url, autoOffsetReset: 'earliest', maxWaitMs: 100 });
  const tp = { topic: EDDY_TOPIC, partition: 0 };
  try {
    consumer.assign([tp]);
    await consumer.seek(tp, 'earliest');
    const values: string[] = [];
    let badHeaders = 0;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const records = await consumer.poll({ timeoutMs: 500 });
      for (const r of records) {
        values.push(dec(r.value)!);
        const h = Object.fromEntries(r.headers.map((x) => [x.key, dec(x.value)]));
        if (dec(r.key) !== MQTT_TOPIC || h['mqtt.topic'] !== MQTT_TOPIC || h['mqtt.qos'] !== '1') badHeaders++;
      }
      const hw = consumer.highWatermark(tp);
      if (hw !== undefined && (await consumer.position(tp)) >= hw) return { values, badHeaders };
      if (Date.now() > deadline) throw new Error(`log not read to its high watermark in 20 s (read ${values.length}, hw ${hw})`);
    }
  } finally {
    await consumer.close();
  }
}

describe('MQTT ingest across SIGKILL', () => {
  it(`keeps every PUBACKed QoS 1 message across ${ROUNDS} SIGKILLs at random moments`, async () => {
    const dataDir = tempDir();
    const allAcked: string[] = [];
    let roundsWithAcks = 0;
    let lastDuplicates = 0;
    let node = await start(dataDir);
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const killAfter = 50 + Math.floor(Math.random() * 350);
        const { acked, aliveAtKill } = await publishUntilKilled(node, round, killAfter);
        expect(aliveAtKill, `node exited on its own before the kill in round ${round}:\n${node.output()}`).toBe(true);
        allAcked.push(...acked);
        if (acked.length > 0) roundsWithAcks++;

        // Restart through the real recovery path and check everything acknowledged so far.
        node = await start(dataDir);
        expect(node.output()).toContain('recovered after an unclean shutdown');
        const { values, badHeaders } = await readLog(node.url);
        expect(badHeaders).toBe(0);
        const present = new Set(values);
        const missing = allAcked.filter((p) => !present.has(p));
        expect(missing.length, `round ${round}: PUBACKed payloads missing after the restart, e.g. ${missing.slice(0, 5).join(', ')}`).toBe(0);
        lastDuplicates = values.length - present.size;
      }
    } finally {
      await node.stop('SIGKILL');
    }
    console.log(`kill test: ${allAcked.length} PUBACKed over ${ROUNDS} rounds (${roundsWithAcks} with acks), all present; ${lastDuplicates} duplicate records`);
    expect(roundsWithAcks).toBeGreaterThanOrEqual(ROUNDS - 1);
    expect(allAcked.length).toBeGreaterThan(ROUNDS * 10);
  }, 180_000);
});
