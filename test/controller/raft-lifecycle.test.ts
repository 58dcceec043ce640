/** Restart and graceful shutdown (KIP-595 EndQuorumEpoch), and following a leader's announcement. */
import { describe, expect, it } from 'vitest';
import { RAFT_ERRORS } from '../../node/controller/raft/raft-errors.js';
import type { EndQuorumEpochRequest } from '../../node/controller/raft/raft-messages.js';
import { electLeader, fetchFrom, makeNode, persistAll, sent } from './raft-fixture.js';

describe('raft lifecycle', () => {
  it('a leader that restarts does not resume leadership of its epoch', () => {
    const node = makeNode({ quorumState: { epoch: 4, votedFor: 1, leaderId: 1 } });
    expect(node.role).toBe('unattached');
    expect(node.epoch).toBe(4);
    expect(node.propose(['x'])).toMatchObject({ ok: false });
  });

  it('a follower that restarts follows its recorded leader and fetches from it', () => {
    const node = makeNode({ nodeId: 2, quorumState: { epoch: 4, votedFor: null, leaderId: 3 } });
    expect(node.role).toBe('follower');
    node.tick(1);
    expect(sent(node.takeOutputs(), 'Fetch')[0]).toMatchObject({ to: 3, message: { replicaEpoch: 4, fetchOffset: 0 } });
  });

  it('shutdown of a leader sends EndQuorumEpoch with the most caught-up successor first', () => {
    const leader = makeNode();
    electLeader(leader);
    leader.propose(['a']);
    persistAll(leader, leader.takeOutputs());
    leader.receive(3, fetchFrom(3, leader, 2, 1), 1000);
    leader.receive(2, fetchFrom(2, leader, 1, 1), 1000);
    leader.takeOutputs();
    leader.shutdown();
    const ends = sent(leader.takeOutputs(), 'EndQuorumEpoch');
    expect(ends.map((e) => e.to).sort()).toEqual([2, 3]);
    expect((ends[0]!.message as EndQuorumEpochRequest).preferredSuccessors).toEqual([3, 2]);
  });

  it('the preferred successor stands at once on EndQuorumEpoch', () => {
    const follower = makeNode({ nodeId: 3, quorumState: { epoch: 1, votedFor: null, leaderId: 1 } });
    follower.receive(1, { type: 'EndQuorumEpoch', leaderId: 1, leaderEpoch: 1, preferredSuccessors: [3, 2] }, 5);
    persistAll(follower, follower.takeOutputs());
    follower.takeOutputs();
    follower.tick(5);
    expect(follower.role).toBe('prospective');
    expect(sent(follower.takeOutputs(), 'Vote').length).toBe(2);
  });

  it('BeginQuorumEpoch from a stale epoch is fenced; a newer one is followed', () => {
    const node = makeNode({ nodeId: 2, quorumState: { epoch: 3, votedFor: null, leaderId: null } });
    node.receive(1, { type: 'BeginQuorumEpoch', leaderId: 1, leaderEpoch: 2 }, 0);
    expect(sent(node.takeOutputs())[0]!.message).toMatchObject({ errorCode: RAFT_ERRORS.FENCED_LEADER_EPOCH, leaderEpoch: 3 });
    node.receive(1, { type: 'BeginQuorumEpoch', leaderId: 1, leaderEpoch: 5 }, 0);
    expect(node.role).toBe('follower');
    expect(node.leaderId).toBe(1);
    expect(node.takeOutputs().find((o) => o.kind === 'quorum-state')).toMatchObject({ state: { epoch: 5, leaderId: 1, votedFor: null } });
  });
});
