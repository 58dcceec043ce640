/**
 * Retention and the disk guard on a real node over real sockets. The node's clock is moved
 * forward instead of waited for (startNode's `clock`), and retention runs are triggered with
 * `retention.runOnce()` (the timer is set to a day so it never runs by itself here).
 */
import mqtt from 'mqtt';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { startMqtt } from '../../app/start-mqtt.js';
import { Admin, Consumer, Producer, type ConsumedRecord } from '../../gateway/client/index.js';
import { startNode, type RunningNode, type StartNodeOptions } from '../../app/start-node.js';
import { Apis } from '../../protocol/apis/index.js';
import { ERRORS, errorNameForCode } from '../../protocol/errors.js';
import { encodeRecordBatch } from '../../protocol/record-batch.js';
import { pollN } from '../helpers/client.js';
import { RawClient } from '../helpers/raw-client.js';
import { captureLogger, tempDir } from '../helpers/tmp.js';

const HOUR = 3_600_000;
const TP = { topic: 't', partition: 0 };
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A clock that runs with real time, `ahead` ms in the future. */
function movableClock() {
  let ahead = 0;
  return { now: () => Date.now() + ahead, advance: (ms: number) => void (ahead += ms) };
}

async function node(opts: Partial<StartNodeOptions>): Promise<RunningNode> {
  const n = await startNode({ dataDir: tempDir(), retentionCheckIntervalMs: 24 * HOUR, ...opts });
  onTestFinished(() => n.close());
  return n;
}

function storeFiles(n: RunningNode): number {
  const size = (f: string) => statSync(join(n.dataDir, f), { throwIfNoEntry: false })?.size ?? 0;
  return size('log.db') + size('log.db-wal');
}

function consumer(url: string, opts: Partial<ConstructorParameters<typeof Consumer>[0]>): Consumer {
  const c = new Consumer({ server: url, maxWaitMs: 200, ...opts });
  cleanups.push(() => c.close());
  return c;
}

describe('retention on a running node', () => {
  it('deletes records older than retention.ms under consumers, which reset per autoOffsetReset, and the files shrink', async () => {
    const clock = movableClock();
    const { logger, lines } = captureLogger();
    const n = await node({ clock: clock.now, logger });
    const admin = new Admin({ server: n.url });
    cleanups.push(() => admin.close());
    await admin.createTopics([{ name: 't', partitions: 1, configs: { 'retention.ms': String(HOUR) } }]);
    const producer = new Producer({ server: n.url });
    cleanups.push(() => producer.close());
    const big = 'x'.repeat(4000);
    for (let i = 0; i < 300; i++) await producer.send({ topic: 't', value: `old-${i}:${big}` }); // one batch each, ~1.2 MB

    // A consumer reading from the start, one batch per fetch, is at about offset 10.
    const early = consumer(n.url, { autoOffsetReset: 'earliest', maxBytes: 1, partitionMaxBytes: 1 });
    early.assign([TP]);
    const before = await pollN(early, 10);
    expect(before.map((r) => r.offset)).toEqual([...Array(10).keys()]);
    // One that would start at the end (latest) is sought back into the old records.
    const late = consumer(n.url, { autoOffsetReset: 'latest' });
    late.assign([TP]);
    await late.seek(TP, 5);

    // Two hours pass; new records arrive (timestamped by the producer at the new time).
    clock.advance(2 * HOUR);
    for (let i = 0; i < 5; i++) await producer.send({ topic: 't', value: `new-${i}`, timestamp: clock.now() });
    const filesBefore = storeFiles(n);
    const run = await n.retention.runOnce();

    // Everything older than an hour went; the log starts at the first new record, and ends where it did.
    expect(run.deleted).toEqual([{ topic: 't', partition: 0, fromOffset: 0, toOffset: 300, freedBytes: expect.any(Number), olderThan: expect.any(Number) }]);
    const [earliest] = await admin.listOffsets([{ ...TP, spec: 'earliest' }]);
    const [latest] = await admin.listOffsets([{ ...TP, spec: 'latest' }]);
    expect([earliest!.offset, latest!.offset]).toEqual([300, 305]);
    const [described] = await admin.describeTopics(['t']);
    expect(described!.partitions[0]).toMatchObject({ logStartOffset: 300, logEndOffset: 305, highWatermark: 305 });
    expect(lines.some((l) => l.level === 'info' && /^retention deleted offsets 0\.\.299 of t-0 \(1\.\d MiB\); the log now starts at 300\. Why: records older than .* \(retention\.ms=3600000\)$/.test(l.msg))).toBe(true);

    // The files on disk shrank (pages returned, WAL checkpointed and truncated).
    expect(filesBefore).toBeGreaterThan(1_200_000);
    expect(storeFiles(n)).toBeLessThan(256 * 1024); // measured: 5.1 MB → 74 KB

    // The early consumer's next fetch is out of range: it resets to the earliest offset, 300.
    // It may still hand out the one batch it had prefetched before the deletion, nothing else old.
    const after: ConsumedRecord[] = [];
    const deadline = Date.now() + 10_000;
    while (!after.some((r) => r.offset === 304) && Date.now() < deadline) after.push(...(await early.poll({ timeoutMs: 500 })));
    const offsets = after.map((r) => r.offset);
    expect(offsets.filter((o) => o >= 300)).toEqual([300, 301, 302, 303, 304]);
    expect(offsets.filter((o) => o < 300).length).toBeLessThanOrEqual(1);
    expect(after.filter((r) => r.offset >= 300).map((r) => text(r.value))).toEqual(['new-0', 'new-1', 'new-2', 'new-3', 'new-4']);

    // The late consumer, sought to 5, resets to the latest offset: it sees only what comes next.
    while ((await late.position(TP)) === 5 && Date.now() < deadline) expect(await late.poll({ timeoutMs: 200 })).toEqual([]);
    expect(await late.position(TP)).toBe(305);
    await producer.send({ topic: 't', value: 'after' });
    expect((await pollN(late, 1)).map((r) => [r.offset, text(r.value)])).toEqual([[305, 'after']]);
  });
});

/** A raw Produce of one batch; returns the partition's error code, message and base offset. */
async function produceRaw(c: RawClient, topic: string, values: string[]) {
  const records = encodeRecordBatch(values.map((v) => ({ value: new TextEncoder().encode(v) })));
  const res = await c.call(Apis.Produce.key, { acks: -1, timeoutMs: 5000, topics: [{ name: topic, partitions: [{ partition: 0, records }] }] });
  const p = res.topics[0].partitions[0] as { errorCode: number; errorMessage: string | null; baseOffset: number };
  return p;
}

describe('disk guard on a running node', () => {
  it('refuses produce and MQTT with a retriable KAFKA_STORAGE_ERROR before --max-disk-bytes, keeps reads and commits going, and takes records again once retention frees space', async () => {
    const clock = movableClock();
    const { logger, lines } = captureLogger();
    const budget = 8 * 1024 * 1024;
    const n = await node({ clock: clock.now, logger, maxDiskBytes: budget });
    const admin = new Admin({ server: n.url });
    cleanups.push(() => admin.close());
    await admin.createTopics([{ name: 'fill', partitions: 1, configs: { 'retention.ms': String(HOUR) } }]);
    const raw = await RawClient.connect(n.url);
    cleanups.push(() => raw.close());

    // Fill until refused: 20 records of ~1 KB per request. Remember what was acknowledged where.
    // The guard refuses on its estimate; keep going until a fresh sample of the files confirms
    // that they are at the limit, so that from here on every append is refused, whatever its size.
    const acked = new Map<number, string>();
    const pad = 'p'.repeat(1000);
    let refused: { errorCode: number; errorMessage: string | null } | undefined;
    for (let i = 0; i < 2000 && !(refused && n.diskGuard.refusingRecords); i++) {
      const values = Array.from({ length: 20 }, (_, j) => `${i}.${j}:${pad}`);
      const r = await produceRaw(raw, 'fill', values);
      if (r.errorCode === 0) values.forEach((v, j) => acked.set(r.baseOffset + j, v));
      else {
        refused ??= r;
        expect(r.errorCode).toBe(ERRORS.KAFKA_STORAGE_ERROR.code);
        n.diskGuard.refresh();
      }
    }
    expect(refused, 'produce was never refused').toBeDefined();
    expect(errorNameForCode(refused!.errorCode)).toBe('KAFKA_STORAGE_ERROR');
    expect(ERRORS.KAFKA_STORAGE_ERROR.retriable).toBe(true);
    expect(refused!.errorMessage).toMatch(/^new records refused to keep the disk from filling: the log store would use [\d.]+ MiB of its --max-disk-bytes budget of 8 MiB \(9\d(\.\d)? %; new records are refused from 95 %\)\. Lower retention\.ms .* or raise --max-disk-bytes/);
    expect(acked.size).toBeGreaterThan(1000);
    // It was the guard, before the limit: SQLite never hit its hard cap, and the files are within budget.
    expect(lines.some((l) => /write to the log store failed/.test(l.msg))).toBe(false);
    expect(storeFiles(n)).toBeLessThan(budget);
    expect(lines.filter((l) => l.level === 'warn' && /^disk guard: refusing new records/.test(l.msg))).toHaveLength(1);

    // Refused again (retrying does not help until space is freed); nothing of it is stored.
    const leo = n.topics.partition('fill', 0).logEndOffset;
    expect(leo).toBe(acked.size);
    expect((await produceRaw(raw, 'fill', ['again'])).errorCode).toBe(ERRORS.KAFKA_STORAGE_ERROR.code);
    // MQTT ingest appends through the same logs: a QoS 1 publish is not acknowledged.
    const bridge = await startMqtt(n, { port: 0, logger });
    cleanups.push(() => bridge.close());
    await admin.createTopics([{ name: 'mqtt', partitions: 1 }]);
    const url = `mqtt://127.0.0.1:${bridge.port}`;
    const device = await mqtt.connectAsync(url, { clientId: 'sensor', reconnectPeriod: 0, protocolVersion: 4 });
    const ackedWhileFull = await Promise.race([
      device.publishAsync('plant/temp', '21.5', { qos: 1 }).then(() => true, () => false),
      new Promise<boolean>((r) => device.once('close', () => r(false))),
    ]);
    expect(ackedWhileFull).toBe(false);
    device.end(true);
    expect(n.topics.partition('fill', 0).logEndOffset).toBe(leo);
    expect(n.topics.partition('mqtt', 0).logEndOffset).toBe(0);

    // Reads keep working: every acknowledged record is there, at its offset, and nothing else.
    const reader = consumer(n.url, { autoOffsetReset: 'earliest' });
    reader.assign([{ topic: 'fill', partition: 0 }]);
    const read = await pollN(reader, acked.size, 20_000);
    expect(read.map((r) => [r.offset, text(r.value)])).toEqual([...acked]);
    // Committed offsets (internal writes) keep a headroom above the records' limit.
    await admin.resetOffsets('g', [{ topic: 'fill', partition: 0, offset: 42 }]);
    expect((await admin.fetchOffsets('g'))[0]!.offset).toBe(42);

    // Two hours later retention deletes the old records and returns their space: records are taken again.
    clock.advance(2 * HOUR);
    await n.retention.runOnce();
    expect(storeFiles(n)).toBeLessThan(budget / 2);
    expect(lines.some((l) => l.level === 'info' && /^disk guard: taking new records again/.test(l.msg))).toBe(true);
    const resumed = await produceRaw(raw, 'fill', ['after']);
    expect(resumed).toMatchObject({ errorCode: 0, baseOffset: leo }); // offsets continue, none reused
    const again = await mqtt.connectAsync(url, { clientId: 'sensor', reconnectPeriod: 0, protocolVersion: 4 });
    await again.publishAsync('plant/temp', '21.5', { qos: 1 });
    await again.endAsync();
    expect(n.topics.partition('mqtt', 0).logEndOffset).toBe(1);

    // Nothing acknowledged was lost: each acknowledged record is either still readable at its
    // offset with its value, or below the log start, deleted by retention because it was older
    // than retention.ms. Here retention took exactly the records written before the clock moved.
    const log = n.topics.partition('fill', 0);
    expect(log.logStartOffset).toBe(leo);
    const rest = consumer(n.url, { autoOffsetReset: 'earliest' });
    rest.assign([{ topic: 'fill', partition: 0 }]);
    expect((await pollN(rest, 1)).map((r) => [r.offset, text(r.value)])).toEqual([[leo, 'after']]);
  }, 60_000);
});
