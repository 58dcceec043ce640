/**
 * Three quorum drivers, each with its own real data dir and log store, over the loopback
 * network: election, commit, failover after the leader stops, and a far-behind voter catching
 * up from the leader's snapshot (KIP-630).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProposeError } from '../../node/controller/quorum-driver.js';
import { agreedLeader, cluster, hasTopic, topicRecord, waitFor } from './quorum-fixture.js';

describe('QuorumDriver, three voters', () => {
  it('elects one leader, commits on all, and fails over when the leader stops', async () => {
    const members = cluster([1, 2, 3]);
    for (const m of members) await m.start();
    const first = await agreedLeader(members);
    await first.d.propose([topicRecord('orders')]);
    await waitFor('every image to hold orders', () => members.every((m) => hasTopic(m.d, 'orders')));
    const q = first.d.describe();
    expect(q.currentVoters.map((v) => v.replicaId)).toEqual([1, 2, 3]);
    expect(q.currentVoters.every((v) => v.lastFetchTimestamp > 0)).toBe(true);

    const oldEpoch = first.d.epoch;
    await first.stop();
    const rest = members.filter((m) => m !== first);
    const second = await agreedLeader(rest);
    expect(second.d.epoch).toBeGreaterThan(oldEpoch);
    await second.d.propose([topicRecord('payments')]);
    await waitFor('the survivors to hold payments', () => rest.every((m) => hasTopic(m.d, 'payments') && hasTopic(m.d, 'orders')));

    // The old leader comes back as a follower and catches up.
    await first.start();
    await waitFor('the old leader to catch up', () => hasTopic(first.d, 'payments'));
    expect(first.d.role).toBe('follower');
  });

  it('rejects a proposal the cut-off leader cannot commit with a retriable error, then commits after the heal', async () => {
    const members = cluster([1, 2, 3]);
    for (const m of members) await m.start();
    const leader = await agreedLeader(members);
    for (const m of members) if (m !== leader) m.net.disconnect(m.id);
    const err = (await leader.d.propose([topicRecord('lost')]).catch((e: unknown) => e)) as ProposeError;
    expect(err).toBeInstanceOf(ProposeError);
    expect(['REQUEST_TIMED_OUT', 'NOT_LEADER_OR_FOLLOWER']).toContain(err.errorName);
    expect(err.retriable).toBe(true);
    for (const m of members) m.net.connect(m.id);
    const next = await agreedLeader(members);
    await next.d.propose([topicRecord('kept')]);
    await waitFor('all to hold kept', () => members.every((m) => hasTopic(m.d, 'kept')));
  });

  it('brings a restarted, far-behind voter up to date from a snapshot', async () => {
    const members = cluster([1, 2, 3], 5);
    for (const m of members) await m.start();
    const leader = await agreedLeader(members);
    await leader.d.propose([topicRecord('early')]);
    await waitFor('all to hold early', () => members.every((m) => hasTopic(m.d, 'early')));
    const lagger = members.find((m) => m !== leader)!;
    const behindAt = lagger.d.logEndOffset;
    await lagger.stop();

    for (let i = 0; i < 30; i++) await leader.d.propose([topicRecord(`t${i}`)]);
    await waitFor('the leader to cut its log past the lagger', () => leader.d.logStartOffset > behindAt);

    const d = await lagger.start();
    await waitFor('the lagger to catch up', () => hasTopic(d, 't29'), 15_000);
    // It got there by installing the leader's snapshot: its log starts past where it stopped.
    expect(d.logStartOffset).toBeGreaterThan(behindAt);
    expect(readdirSync(join(lagger.dir, 'snapshots')).length).toBeGreaterThan(0);
    await leader.d.propose([topicRecord('after')]);
    await waitFor('all to hold after', () => members.every((m) => hasTopic(m.d, 'after')));
  });
});
