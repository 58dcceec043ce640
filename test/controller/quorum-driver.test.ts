/**
 * The quorum driver on real storage: a single voter elects itself and commits, a restart
 * recovers epoch, vote, log and image, and `__cluster_metadata` stays the node's own.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METADATA_TOPIC } from '../../node/controller/metadata-log.js';
import { ProposeError } from '../../node/controller/quorum-driver.js';
import { TopicManager } from '../../node/topics/topic-manager.js';
import { isEddyError } from '../../protocol/errors.js';
import { encodeRecordBatch } from '../../protocol/record-batch.js';
import { replicasFor } from '../helpers/replicas.js';
import { agreedLeader, cluster, hasTopic, topicRecord, waitFor } from './quorum-fixture.js';

describe('QuorumDriver, one voter', () => {
  it('elects itself, commits a TopicRecord into the image and reports it', async () => {
    const [m] = cluster([1]);
    const d = await m!.start();
    const seen: string[] = [];
    d.onCommitted((_image, records) => { for (const r of records) seen.push(r.type); });
    await agreedLeader([m!]);
    const committed = await d.propose([topicRecord('orders')]);
    expect(hasTopic(d, 'orders')).toBe(true);
    expect(seen).toContain('Topic');
    expect(d.highWatermark).toBeGreaterThan(committed.offsets[0]!);
    const q = d.describe();
    expect(q).toMatchObject({ role: 'leader', leaderId: 1, leaderEpoch: d.epoch });
    expect(q.currentVoters[0]).toMatchObject({ replicaId: 1, logEndOffset: d.logEndOffset });
  });

  it('restarts from its directory with epoch, vote, log and image, never below the epoch it voted in', async () => {
    const [m] = cluster([1]);
    let d = await m!.start();
    await agreedLeader([m!]);
    await d.propose([topicRecord('a')]);
    await d.propose([topicRecord('b'), topicRecord('c')]);
    const { epoch, logEndOffset } = d;
    await m!.stop();
    const qs = JSON.parse(readFileSync(join(m!.dir, 'quorum-state.json'), 'utf8')) as { epoch: number; votedFor: number };
    expect(qs).toMatchObject({ epoch, votedFor: 1 });

    d = await m!.start();
    // Before any election runs, the durable epoch (and its vote) is back: no second vote in it.
    expect(d.epoch).toBe(epoch);
    expect(d.logEndOffset).toBe(logEndOffset);
    await agreedLeader([m!]);
    expect(d.epoch).toBeGreaterThan(epoch);
    await waitFor('the old log to commit again', () => hasTopic(d, 'c'));
    expect(['a', 'b', 'c'].every((t) => hasTopic(d, t))).toBe(true);
    await d.propose([topicRecord('d')]);
    expect(hasTopic(d, 'd')).toBe(true);
  });

  it('takes snapshots every N records, cuts the log, and restarts from the snapshot', async () => {
    const [m] = cluster([1], 4);
    let d = await m!.start();
    await agreedLeader([m!]);
    for (let i = 0; i < 10; i++) await d.propose([topicRecord(`t${i}`)]);
    await waitFor('a snapshot to cut the log', () => d.logStartOffset > 0);
    const partition = await m!.store!.partition(METADATA_TOPIC, 0);
    await waitFor('the partition to be cut', () => partition.logStartOffset > 0);
    expect(readdirSync(join(m!.dir, 'snapshots')).length).toBe(1);
    await m!.stop();
    d = await m!.start();
    expect(d.logStartOffset).toBeGreaterThan(0);
    // The snapshot's image is there at once, before any election.
    expect(hasTopic(d, 't0')).toBe(true);
    await agreedLeader([m!]);
    await waitFor('everything to commit again', () => hasTopic(d, 't9'));
  });

  it('rejects proposals with a retriable coded error when not the leader', async () => {
    const [m] = cluster([1, 2, 3]); // no quorum: only one of three runs
    const d = await m!.start();
    const err = await d.propose([topicRecord('x')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProposeError);
    expect((err as ProposeError).errorName).toBe('NOT_LEADER_OR_FOLLOWER');
    expect((err as ProposeError).retriable).toBe(true);
  });

  it('keeps __cluster_metadata away from clients and the topic manager', async () => {
    const [m] = cluster([1]);
    const d = await m!.start();
    await agreedLeader([m!]);
    await d.propose([topicRecord('orders')]);
    const topics = await TopicManager.open(m!.store!, m!.log.logger);
    // Not a topic: not listed, not dropped as an orphan partition at open.
    expect(topics.list().map((t) => t.name)).not.toContain(METADATA_TOPIC);
    expect(m!.store!.listPartitions().map((p) => p.topic)).toContain(METADATA_TOPIC);
    const { replicas } = replicasFor(m!.store!, topics);
    const batch = encodeRecordBatch([{ value: new TextEncoder().encode('x') }]);
    for (const origin of ['client', 'mqtt'] as const) {
      const err = await replicas.appendRecords(METADATA_TOPIC, 0, [batch], { acks: -1, origin }).catch((e: unknown) => e);
      expect(isEddyError(err) && err.errorName).toBe('INVALID_TOPIC_EXCEPTION');
    }
    await expect(topics.create({ name: METADATA_TOPIC, partitions: 1, replicationFactor: 1 })).rejects.toMatchObject({ errorName: 'INVALID_TOPIC_EXCEPTION' });
  });
});
