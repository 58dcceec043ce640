/** Vote rules (KIP-595), pre-vote (KIP-996), and the durable-before-answer rule for votes. */
import { describe, expect, it } from 'vitest';
import { RAFT_ERRORS } from '../../node/controller/raft/raft-errors.js';
import type { VoteRequest, VoteResponse } from '../../node/controller/raft/raft-messages.js';
import { electLeader, makeNode, persistAll, sent } from './raft-fixture.js';

const vote = (over: Partial<VoteRequest> = {}): VoteRequest => ({
  type: 'Vote', candidateId: 2, candidateEpoch: 1, lastOffsetEpoch: 0, lastOffset: 0, preVote: false, ...over,
});
const responses = (node: ReturnType<typeof makeNode>) => sent(node.takeOutputs(), 'VoteResponse').map((s) => s.message as VoteResponse);
const entries = [{ offset: 0, epoch: 1, payload: 'a' }, { offset: 1, epoch: 1, payload: 'b' }];

describe('raft votes', () => {
  it('withholds a granted vote until the quorum state is durable', () => {
    const node = makeNode();
    node.receive(2, vote(), 0);
    const out = node.takeOutputs();
    const writes = out.filter((o) => o.kind === 'quorum-state');
    // First the new epoch, then the vote in it: two writes, and the answer waits for both.
    expect(writes[writes.length - 1]).toMatchObject({ state: { epoch: 1, votedFor: 2 } });
    expect(sent(out)).toEqual([]);
    for (let i = 0; i < writes.length - 1; i++) node.quorumStatePersisted();
    expect(responses(node)).toEqual([]);
    node.quorumStatePersisted();
    const [resp] = responses(node);
    expect(resp).toMatchObject({ voteGranted: true, leaderEpoch: 1, errorCode: RAFT_ERRORS.NONE });
  });

  it('votes at most once per epoch', () => {
    const node = makeNode();
    node.receive(2, vote(), 0);
    persistAll(node, node.takeOutputs());
    node.takeOutputs();
    node.receive(3, vote({ candidateId: 3 }), 0);
    expect(responses(node)[0]).toMatchObject({ voteGranted: false });
    // The same candidate asking again (a duplicate) is granted again: it is the same vote.
    node.receive(2, vote(), 0);
    expect(responses(node)[0]).toMatchObject({ voteGranted: true });
  });

  it('refuses a candidate whose log is behind (log up-to-date rule)', () => {
    const node = makeNode({ entries });
    node.receive(2, vote({ candidateEpoch: 2, lastOffsetEpoch: 1, lastOffset: 1 }), 0);
    persistAll(node, node.takeOutputs());
    expect(responses(node)[0]).toMatchObject({ voteGranted: false, leaderEpoch: 2 });
    node.receive(3, vote({ candidateId: 3, candidateEpoch: 2, lastOffsetEpoch: 1, lastOffset: 2 }), 0);
    persistAll(node, node.takeOutputs());
    expect(responses(node)[0]).toMatchObject({ voteGranted: true });
  });

  it('rejects stale epochs with FENCED_LEADER_EPOCH and non-voters with INCONSISTENT_VOTER_SET', () => {
    const node = makeNode({ quorumState: { epoch: 5, votedFor: null, leaderId: null } });
    node.receive(2, vote({ candidateEpoch: 4 }), 0);
    expect(responses(node)[0]).toMatchObject({ voteGranted: false, errorCode: RAFT_ERRORS.FENCED_LEADER_EPOCH, leaderEpoch: 5 });
    node.receive(9, vote({ candidateId: 9, candidateEpoch: 6 }), 0);
    expect(responses(node)[0]).toMatchObject({ voteGranted: false, errorCode: RAFT_ERRORS.INCONSISTENT_VOTER_SET });
  });

  it('an observer never votes', () => {
    const observer = makeNode({ nodeId: 4 });
    observer.receive(2, vote(), 0);
    expect(responses(observer)[0]).toMatchObject({ voteGranted: false, errorCode: RAFT_ERRORS.INCONSISTENT_VOTER_SET });
    observer.tick(10_000);
    expect(sent(observer.takeOutputs(), 'Vote')).toEqual([]);
  });

  it('pre-votes before standing, without bumping the epoch', () => {
    const node = makeNode();
    node.tick(1000);
    const out = node.takeOutputs();
    expect(node.role).toBe('prospective');
    expect(node.epoch).toBe(0);
    expect(out.some((o) => o.kind === 'quorum-state')).toBe(false);
    expect(sent(out, 'Vote').map((s) => s.message)).toEqual([vote({ candidateId: 1, preVote: true }), vote({ candidateId: 1, preVote: true })]);
  });

  it('grants a pre-vote without changing state, and refuses it while hearing a leader', () => {
    const node = makeNode();
    node.receive(2, vote({ preVote: true }), 0);
    const out = node.takeOutputs();
    expect(out.some((o) => o.kind === 'quorum-state')).toBe(false);
    expect((sent(out)[0]!.message as VoteResponse).voteGranted).toBe(true);
    node.receive(3, { type: 'BeginQuorumEpoch', leaderId: 3, leaderEpoch: 1 }, 10);
    persistAll(node, node.takeOutputs());
    node.takeOutputs();
    node.receive(2, vote({ candidateEpoch: 2, preVote: true, lastOffsetEpoch: 5, lastOffset: 100 }), 20);
    expect(responses(node)[0]).toMatchObject({ voteGranted: false, leaderId: 3, leaderEpoch: 1 });
  });

  it('wins only after its own candidacy is durable, then appends a LeaderChange entry', () => {
    const node = makeNode();
    const out = electLeader(node);
    expect(node.role).toBe('leader');
    expect(node.epoch).toBe(1);
    expect(out.find((o) => o.kind === 'append')).toMatchObject({ entries: [{ offset: 0, epoch: 1, control: true }] });
    expect(sent(out, 'BeginQuorumEpoch').map((s) => s.to).sort()).toEqual([2, 3]);
  });
});
