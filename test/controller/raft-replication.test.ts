/** Pull replication (KIP-595): high watermark rule, check-quorum, divergence and truncation, observers. */
import { describe, expect, it } from 'vitest';
import { nextHighWatermark } from '../../node/controller/raft/high-watermark.js';
import { RAFT_ERRORS } from '../../node/controller/raft/raft-errors.js';
import type { FetchRequest, FetchResponse, RaftEntry } from '../../node/controller/raft/raft-messages.js';
import { electLeader, fetchFrom, makeNode, persistAll, sent } from './raft-fixture.js';

const fetchResponses = (out: ReturnType<ReturnType<typeof makeNode>['takeOutputs']>) =>
  sent(out, 'FetchResponse').map((s) => s.message as FetchResponse);

describe('raft high watermark', () => {
  it('needs a majority of voters and an offset in the leader epoch', () => {
    expect(nextHighWatermark({ voterEndOffsets: [10, 3, 2], epochStartOffset: 0, currentHighWatermark: 0 })).toBe(3);
    // Majority end 3 lies in an older epoch (this leader started at offset 5): nothing commits yet (Raft §5.4.2).
    expect(nextHighWatermark({ voterEndOffsets: [10, 3, 2], epochStartOffset: 5, currentHighWatermark: 0 })).toBe(0);
    expect(nextHighWatermark({ voterEndOffsets: [10, 7, 2], epochStartOffset: 5, currentHighWatermark: 0 })).toBe(7);
    // Never backwards.
    expect(nextHighWatermark({ voterEndOffsets: [10, 7, 2], epochStartOffset: 5, currentHighWatermark: 9 })).toBe(9);
  });

  it('advances on the leader only when a majority durably holds it; the leader counts only its durable log', () => {
    const leader = makeNode();
    electLeader(leader);
    expect(leader.highWatermark).toBe(0);
    const p = leader.propose(['x', 'y']);
    expect(p).toEqual({ ok: true, offsets: [1, 2] });
    const appends = leader.takeOutputs().filter((o) => o.kind === 'append');
    // Follower 2 holds everything, but the leader has not synced x, y: HW stops at the LeaderChange.
    leader.receive(2, fetchFrom(2, leader, 3, 1), 1000);
    expect(leader.highWatermark).toBe(1);
    persistAll(leader, appends);
    expect(leader.highWatermark).toBe(3);
    const commits = leader.takeOutputs().filter((o) => o.kind === 'commit');
    expect(commits.flatMap((c) => (c.kind === 'commit' ? c.entries.map((e) => e.offset) : []))).toEqual([0, 1, 2]);
  });

  it('does not count observers toward the high watermark', () => {
    const leader = makeNode();
    electLeader(leader);
    leader.receive(4, fetchFrom(4, leader, 1, 1), 1000);
    expect(leader.highWatermark).toBe(0);
    expect(fetchResponses(leader.takeOutputs())[0]).toMatchObject({ errorCode: 0, records: [] });
    leader.receive(3, fetchFrom(3, leader, 1, 1), 1000);
    expect(leader.highWatermark).toBe(1);
  });

  it('rejects propose on a non-leader with NOT_LEADER_OR_FOLLOWER', () => {
    expect(makeNode().propose(['x'])).toMatchObject({ ok: false, errorCode: RAFT_ERRORS.NOT_LEADER_OR_FOLLOWER });
  });
});

describe('raft check-quorum', () => {
  it('a leader that hears no fetches from a majority within fetchTimeoutMs resigns', () => {
    const leader = makeNode();
    electLeader(leader, 1000);
    leader.tick(1150);
    expect(leader.role).toBe('leader');
    leader.receive(2, fetchFrom(2, leader, 1, 1), 1150);
    leader.tick(1300);
    expect(leader.role).toBe('leader'); // 2 fetched at 1150: 2 of 3 live
    leader.tick(1400);
    expect(leader.role).toBe('unattached');
    expect(leader.propose(['x'])).toMatchObject({ ok: false });
  });
});

describe('raft fetch and divergence', () => {
  it('answers a stale epoch with FENCED_LEADER_EPOCH and a divergent log with the diverging epoch', () => {
    const old: RaftEntry[] = [{ offset: 0, epoch: 1, payload: 'a' }, { offset: 1, epoch: 1, payload: 'b' }];
    const leader = makeNode({ entries: old, quorumState: { epoch: 2, votedFor: 1, leaderId: null } });
    electLeader(leader);
    expect(leader.epoch).toBe(3);
    leader.receive(2, { ...(fetchFrom(2, leader, 1, 1) as FetchRequest), replicaEpoch: 2 }, 1000);
    expect(fetchResponses(leader.takeOutputs())[0]).toMatchObject({ errorCode: RAFT_ERRORS.FENCED_LEADER_EPOCH, leaderId: 1, leaderEpoch: 3 });
    // Follower has offsets 0..4 with 2..4 from epoch 2, which the leader never had.
    leader.receive(2, fetchFrom(2, leader, 5, 2), 1000);
    expect(fetchResponses(leader.takeOutputs())[0]).toMatchObject({ divergingEpoch: { epoch: 1, endOffset: 2 } });
  });

  it('a follower truncates on divergence, fetches again, and reports only durable offsets', () => {
    const mine: RaftEntry[] = [0, 1, 2, 3].map((o) => ({ offset: o, epoch: o < 2 ? 1 : 2, payload: `f${o}` }));
    const follower = makeNode({ nodeId: 2, entries: mine, quorumState: { epoch: 3, votedFor: null, leaderId: 1 } });
    follower.tick(1);
    const [first] = sent(follower.takeOutputs(), 'Fetch');
    expect(first).toMatchObject({ to: 1, message: { fetchOffset: 4, lastFetchedEpoch: 2 } });
    const id = (first!.message as FetchRequest).correlationId;
    const base = { type: 'FetchResponse', errorCode: 0, leaderId: 1, leaderEpoch: 3, highWatermark: 0, logStartOffset: 0, records: [] } as const;
    follower.receive(1, { ...base, correlationId: id, divergingEpoch: { epoch: 1, endOffset: 2 } }, 2);
    let out = follower.takeOutputs();
    expect(out.find((o) => o.kind === 'truncate')).toEqual({ kind: 'truncate', offset: 2 });
    const [second] = sent(out, 'Fetch');
    expect(second!.message).toMatchObject({ fetchOffset: 2, lastFetchedEpoch: 1 });
    // A duplicate of the old response is ignored: it must not truncate again.
    follower.receive(1, { ...base, correlationId: id, divergingEpoch: { epoch: 0, endOffset: 0 } }, 3);
    expect(follower.takeOutputs().some((o) => o.kind === 'truncate')).toBe(false);
    const records = [{ offset: 2, epoch: 3, payload: 'L' }];
    follower.receive(1, { ...base, correlationId: (second!.message as FetchRequest).correlationId, records, highWatermark: 3 }, 4);
    out = follower.takeOutputs();
    expect(out.find((o) => o.kind === 'append')).toMatchObject({ endOffset: 3 });
    // Not durable yet: no fetch goes out claiming offset 3.
    expect(sent(out, 'Fetch')).toEqual([]);
    expect(follower.highWatermark).toBe(3);
    follower.persisted(3);
    expect(sent(follower.takeOutputs(), 'Fetch')[0]!.message).toMatchObject({ fetchOffset: 3, lastFetchedEpoch: 3 });
  });

  it('sends a snapshot id to a follower below the log start, then serves the snapshot', () => {
    const leader = makeNode();
    electLeader(leader);
    leader.propose(['a', 'b']);
    persistAll(leader, leader.takeOutputs());
    leader.receive(2, fetchFrom(2, leader, 3, 1), 1000);
    leader.takeOutputs();
    leader.snapshotTaken({ endOffset: 3, epoch: 1 }, { state: 'ab' });
    expect(leader.logStartOffset).toBe(3);
    leader.receive(3, fetchFrom(3, leader, 0, 0, 7), 1000);
    expect(fetchResponses(leader.takeOutputs())[0]).toMatchObject({ correlationId: 7, snapshotId: { endOffset: 3, epoch: 1 } });
    leader.receive(3, { type: 'FetchSnapshot', correlationId: 8, replicaId: 3, replicaEpoch: 1, snapshotId: { endOffset: 3, epoch: 1 } }, 1000);
    expect(sent(leader.takeOutputs(), 'FetchSnapshotResponse')[0]!.message).toMatchObject({ errorCode: 0, data: { state: 'ab' } });
  });
});
