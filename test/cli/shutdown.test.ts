/**
 * SIGTERM while a producer is mid-stream: `eddy start` stops cleanly (exit 0, "stopped cleanly",
 * a clean start next time), and every record it acknowledged is there after the restart, at the
 * offset it was acknowledged with.
 */
import { describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer } from '../../gateway/client/index.js';
import { waitFor, within } from '../helpers/client.js';
import { eddyStart } from '../helpers/eddy-process.js';
import { tempDir } from '../helpers/tmp.js';

const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

describe('eddy start: graceful shutdown', () => {
  it('keeps every acknowledged record when SIGTERM arrives with records in flight', async () => {
    const dir = tempDir();
    let node = await eddyStart(['--data-dir', dir, '--port', '0']);
    const admin = new Admin({ server: node.url });
    await admin.createTopics([{ name: 'inflight', partitions: 2 }]);
    await admin.close();

    // Short timeouts: sends still in flight when the node goes give up within seconds.
    const producer = new Producer({ server: node.url, acks: 'all', lingerMs: 1, requestTimeoutMs: 1000, deliveryTimeoutMs: 3000, retryBackoffMs: 50, retryBackoffMaxMs: 200 });
    // value → "partition:offset", or null for a resend the node had stored long before (the
    // answer is DUPLICATE_SEQUENCE_NUMBER: stored once, no offset to report)
    const acked = new Map<string, string | null>();
    let failed = 0;
    let sent = 0;
    let pumping = true;
    const settled: Promise<void>[] = [];
    // Waves of 50 sends, a new one as soon as the last one's first record is acknowledged (or
    // 20 ms pass): the producer always has records queued and in flight.
    const pump = (async () => {
      while (pumping) {
        const wave = Array.from({ length: 50 }, () => {
          const value = `r${sent++}`;
          return producer.send({ topic: 'inflight', key: value, value }).then(
            (r) => void acked.set(value, r.offset < 0 ? null : `${r.partition}:${r.offset}`),
            () => void failed++,
          );
        });
        settled.push(...wave);
        // A cap, not a wait for something: while the node stops and acks stall, waves keep coming.
        await Promise.race([wave[0], new Promise((r) => setTimeout(r, 20))]);
      }
    })();
    await waitFor(() => acked.size >= 300, '300 acknowledged records', 20_000);
    const code = await within(node.stop('SIGTERM'), 'the node to exit after SIGTERM', 20_000);
    pumping = false;
    await pump;
    await within(Promise.all(settled), `every send to settle (${acked.size} acknowledged, ${failed} failed of ${sent})`, 20_000);

    expect(code).toBe(0);
    expect(node.output()).toMatch(/SIGTERM received: shutting down \(at most 10 s\)\n[\s\S]*stopped cleanly\n$/);
    expect(failed).toBeGreaterThan(0); // records really were in flight when it stopped
    expect(acked.size + failed).toBe(sent);

    // The same port, as a gateway restarts: the producer reconnects. (Its close() waits until it
    // has started a new epoch for the batches that failed, which needs a node to answer.)
    node = await eddyStart(['--data-dir', dir, '--port', new URL(node.url).port]);
    expect(node.output()).toContain('clean start');
    await within(producer.close(), 'producer.close() against the restarted node', 20_000);
    const consumer = new Consumer({ server: node.url, autoOffsetReset: 'earliest' });
    consumer.assign([0, 1].map((partition) => ({ topic: 'inflight', partition })));
    const stored = new Map<string, string | null>();
    const admin2 = new Admin({ server: node.url });
    const ends = await admin2.listOffsets([0, 1].map((partition) => ({ topic: 'inflight', partition, spec: 'latest' as const })));
    await admin2.close();
    const total = ends.reduce((n, e) => n + e.offset, 0);
    expect(total).toBeGreaterThanOrEqual(acked.size); // it may hold some it could not acknowledge
    const deadline = Date.now() + 20_000;
    while (stored.size < total && Date.now() < deadline) {
      for (const r of await consumer.poll({ timeoutMs: 200 })) stored.set(`${r.partition}:${r.offset}`, text(r.value));
    }
    await consumer.close();
    expect(stored.size).toBe(total);
    const copies = new Map<string | null, number>();
    for (const v of stored.values()) copies.set(v, (copies.get(v) ?? 0) + 1);
    const missing = [...acked].filter(([value, at]) => (at === null ? !copies.has(value) : stored.get(at) !== value));
    expect(missing).toEqual([]);
    expect([...acked.keys()].filter((value) => copies.get(value)! > 1)).toEqual([]); // each stored once
    expect(await within(node.stop(), 'the restarted node to exit', 20_000)).toBe(0);
  }, 90_000);
});
