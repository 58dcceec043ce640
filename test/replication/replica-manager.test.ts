/**
 * The leader-append policy, against a real log store and topic manager in a temp dir: who may
 * write internal topics, keys for compacted topics, acks, and the disk guard's admission.
 */
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { OFFSETS_TOPIC } from '../../node/groups/offset-store.js';
import { type AppendOrigin } from '../../node/replication/replica-manager.js';
import { LogStore } from '../../node/storage/log-store.js';
import type { FileSystemSpace } from '../../node/storage/disk-guard.js';
import { TopicManager } from '../../node/topics/topic-manager.js';
import { ERRORS, isEddyError } from '../../protocol/errors.js';
import { encodeRecordBatch } from '../../protocol/record-batch.js';
import { replicasFor } from '../helpers/replicas.js';
import { captureLogger, tempDir } from '../helpers/tmp.js';

const enc = (s: string) => new TextEncoder().encode(s);
const ORIGINS: AppendOrigin[] = ['client', 'mqtt', 'internal'];
const keyed = () => encodeRecordBatch([{ key: enc('k'), value: enc('v') }]);
const keyless = () => encodeRecordBatch([{ key: null, value: enc('v') }]);

async function setup(guard: { maxDiskBytes?: number | null; statfs?: (dir: string) => FileSystemSpace } = {}) {
  const { logger, lines } = captureLogger();
  const store = await LogStore.open({ path: join(tempDir(), 'log.db'), logger });
  onTestFinished(() => store.close());
  const topics = await TopicManager.open(store, logger);
  await topics.create({ name: 'plain', partitions: 1, replicationFactor: 1 });
  await topics.create({ name: 'state', partitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } });
  await topics.create({ name: 'both', partitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'compact,delete' } });
  await topics.create({ name: OFFSETS_TOPIC, partitions: 1, replicationFactor: -1, configs: { 'cleanup.policy': 'compact' } }, { internal: true });
  const { replicas, diskGuard } = replicasFor(store, topics, { logger, ...guard });
  const leo = (topic: string) => topics.partition(topic, 0).logEndOffset;
  return { replicas, diskGuard, topics, lines, leo };
}

/** The EddyError name an append fails with, or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (!isEddyError(err)) throw err;
    return err.errorName;
  }
}

describe('ReplicaManager.appendRecords', () => {
  it('appends as the leader and returns the partition log\'s AppendResult', async () => {
    const { replicas, leo } = await setup();
    const first = await replicas.appendRecords('plain', 0, [keyless()], { acks: 1, origin: 'client' });
    const second = await replicas.appendRecords('plain', 0, [keyless(), keyless()], { acks: -1, origin: 'mqtt' });
    expect(first).toMatchObject({ baseOffset: 0, lastOffset: 0, batches: [{ baseOffset: 0, lastOffset: 0 }] });
    expect(second).toMatchObject({ baseOffset: 1, lastOffset: 2 });
    expect(typeof second.synced).toBe('boolean');
    expect(leo('plain')).toBe(3);
  });

  it('refuses internal topics to clients and MQTT (INVALID_TOPIC_EXCEPTION) and takes them from the node itself', async () => {
    const { replicas, leo } = await setup();
    for (const origin of ['client', 'mqtt'] as const) {
      const err = await replicas.appendRecords(OFFSETS_TOPIC, 0, [keyed()], { acks: -1, origin }).catch((e: unknown) => e);
      expect(isEddyError(err, 'INVALID_TOPIC_EXCEPTION') && !err.retriable).toBe(true);
      expect((err as Error).message).toMatch(/"__consumer_offsets" is an internal topic; only the node writes to it/);
    }
    expect(leo(OFFSETS_TOPIC)).toBe(0);
    await replicas.appendRecords(OFFSETS_TOPIC, 0, [keyed()], { acks: -1, origin: 'internal' });
    expect(leo(OFFSETS_TOPIC)).toBe(1);
  });

  it('refuses records without a key to compacted topics for every origin (INVALID_RECORD, KIP-467), and takes keyed ones', async () => {
    const { replicas, leo } = await setup();
    for (const origin of ORIGINS) {
      const topics = origin === 'internal' ? [OFFSETS_TOPIC, 'state', 'both'] : ['state', 'both'];
      for (const topic of topics) {
        expect(`${origin} ${topic}: ${await outcome(replicas.appendRecords(topic, 0, [keyless()], { acks: 1, origin }))}`).toBe(`${origin} ${topic}: INVALID_RECORD`);
        // All or nothing: a keyed batch next to the keyless one does not get in either.
        expect(await outcome(replicas.appendRecords(topic, 0, [keyed(), keyless()], { acks: 1, origin }))).toBe('INVALID_RECORD');
      }
    }
    expect([leo('state'), leo('both'), leo(OFFSETS_TOPIC)]).toEqual([0, 0, 0]);
    for (const origin of ['client', 'mqtt'] as const) await replicas.appendRecords('state', 0, [keyed()], { acks: 1, origin });
    await replicas.appendRecords(OFFSETS_TOPIC, 0, [keyed()], { acks: 1, origin: 'internal' });
    // Topics that only delete take keyless records.
    for (const origin of ORIGINS) await replicas.appendRecords('plain', 0, [keyless()], { acks: 1, origin });
    expect([leo('state'), leo(OFFSETS_TOPIC), leo('plain')]).toEqual([2, 1, 3]);
  });

  it('takes acks 0, 1 and -1 and refuses any other with INVALID_REQUIRED_ACKS, appending nothing', async () => {
    const { replicas, leo } = await setup();
    for (const origin of ORIGINS) {
      for (const acks of [2, -2, 5, 0.5]) {
        const err = await replicas.appendRecords('plain', 0, [keyless()], { acks, origin }).catch((e: unknown) => e);
        expect(isEddyError(err, 'INVALID_REQUIRED_ACKS')).toBe(true);
        expect((err as Error).message).toMatch(new RegExp(`acks=${acks} is not valid; use 0, 1 or -1 \\(all\\)`));
      }
    }
    expect(leo('plain')).toBe(0);
    for (const acks of [0, 1, -1]) await replicas.appendRecords('plain', 0, [keyless()], { acks, origin: 'client' });
    expect(leo('plain')).toBe(3); // acks=0 appends too: only the answer is left out, by the server
  });

  it('refuses every origin with a retriable KAFKA_STORAGE_ERROR when the disk guard does, appending nothing', async () => {
    // The store's files are already far larger than this budget.
    const { replicas, diskGuard, leo, lines } = await setup({ maxDiskBytes: 4096 });
    for (const [origin, topic] of [['client', 'plain'], ['mqtt', 'plain'], ['internal', OFFSETS_TOPIC]] as const) {
      const err = await replicas.appendRecords(topic, 0, [keyed()], { acks: -1, origin }).catch((e: unknown) => e);
      expect(isEddyError(err, 'KAFKA_STORAGE_ERROR') && err.retriable).toBe(true);
      expect(ERRORS.KAFKA_STORAGE_ERROR.retriable).toBe(true);
      expect((err as Error).message).toMatch(/--max-disk-bytes budget of 4 KiB/);
    }
    expect(diskGuard.refusingRecords).toBe(true);
    expect([leo('plain'), leo(OFFSETS_TOPIC)]).toEqual([0, 0]);
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([
      expect.stringMatching(/^disk guard: refusing new records/),
      expect.stringMatching(/^disk guard: refusing internal writes/),
    ]);
  });

  it('lets the node\'s own writes use the headroom kept for bookkeeping while records are refused', async () => {
    // 1 GiB file system with 40 MiB free: records need 64 MiB free, internal writes 32 MiB.
    const { replicas, leo } = await setup({ statfs: () => ({ totalBytes: 1024 ** 3, freeBytes: 40 * 1024 * 1024 }) });
    expect(await outcome(replicas.appendRecords('plain', 0, [keyed()], { acks: 1, origin: 'client' }))).toBe('KAFKA_STORAGE_ERROR');
    expect(await outcome(replicas.appendRecords('plain', 0, [keyed()], { acks: 1, origin: 'mqtt' }))).toBe('KAFKA_STORAGE_ERROR');
    await replicas.appendRecords(OFFSETS_TOPIC, 0, [keyed()], { acks: -1, origin: 'internal' });
    expect([leo('plain'), leo(OFFSETS_TOPIC)]).toEqual([0, 1]);
  });

  it('refuses unknown topics and partitions with UNKNOWN_TOPIC_OR_PARTITION, bad acks first', async () => {
    const { replicas } = await setup();
    expect(await outcome(replicas.appendRecords('nope', 0, [keyed()], { acks: 1, origin: 'client' }))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(await outcome(replicas.appendRecords('plain', 3, [keyed()], { acks: 1, origin: 'mqtt' }))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(await outcome(replicas.appendRecords('nope', 0, [keyed()], { acks: 7, origin: 'client' }))).toBe('INVALID_REQUIRED_ACKS');
  });
});
