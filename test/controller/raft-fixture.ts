/** Small drivers for RaftNode unit tests: a node, its outputs, and a quick way to make it leader. */
import { RaftNode, type RaftNodeOptions } from '../../node/controller/raft/raft-node.js';
import type { RaftMessage, RaftOutput } from '../../node/controller/raft/raft-messages.js';

export const CONFIG = { electionTimeoutMs: 100, fetchTimeoutMs: 200, electionBackoffMaxMs: 100, fetchMaxWaitMs: 10, requestTimeoutMs: 100 };

export function makeNode(over: Partial<RaftNodeOptions> = {}): RaftNode {
  return new RaftNode({ nodeId: 1, voters: [1, 2, 3], random: () => 0, config: CONFIG, ...over });
}

export function sent(outputs: RaftOutput[], type?: RaftMessage['type']): { to: number; message: RaftMessage }[] {
  return outputs.flatMap((o) => (o.kind === 'send' && (type === undefined || o.message.type === type) ? [{ to: o.to, message: o.message }] : []));
}

/** Ack every persistence output the node emitted, as a fast disk would. */
export function persistAll(node: RaftNode, outputs: RaftOutput[]): void {
  for (const o of outputs) {
    if (o.kind === 'quorum-state') node.quorumStatePersisted();
    if (o.kind === 'append') node.persisted(o.endOffset);
  }
}

/** Drive node 1 (of voters 1..3) to leader of epoch 1 with its LeaderChange entry durable. */
export function electLeader(node: RaftNode, now = 1000): RaftOutput[] {
  node.tick(now);
  const preVotes = sent(node.takeOutputs(), 'Vote');
  if (preVotes.length === 0) throw new Error('no pre-vote');
  node.receive(2, { type: 'VoteResponse', errorCode: 0, leaderEpoch: node.epoch, leaderId: null, candidateEpoch: node.epoch + 1, voteGranted: true, preVote: true }, now);
  let out = node.takeOutputs();
  persistAll(node, out);
  out = node.takeOutputs();
  node.receive(2, { type: 'VoteResponse', errorCode: 0, leaderEpoch: node.epoch, leaderId: null, candidateEpoch: node.epoch, voteGranted: true, preVote: false }, now);
  out = node.takeOutputs();
  persistAll(node, out);
  return [...out, ...node.takeOutputs()];
}

export function fetchFrom(replicaId: number, node: RaftNode, fetchOffset: number, lastFetchedEpoch: number, correlationId = 1): RaftMessage {
  return { type: 'Fetch', correlationId, replicaId, replicaEpoch: node.epoch, fetchOffset, lastFetchedEpoch };
}
