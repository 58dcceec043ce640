/**
 * Observers (KIP-595) over real peer links: three voters and a fourth node whose id is not among
 * them, all in-process on 127.0.0.1 with the real quorum handlers. The observer declares itself
 * in PeerHello v1, links to every voter, replicates the metadata log, shows among the leader's
 * DescribeQuorum observers, registers as a broker and forwards admin requests to the active
 * controller. A node with another voter list, or an unknown id claiming to be a voter, is
 * refused with the coded reason.
 */
import { describe, expect, it } from 'vitest';
import { allocateProducerIds } from '../../app/producer-id-blocks.js';
import type { RunningNode } from '../../app/start-node.js';
import { Admin } from '../../gateway/client/index.js';
import { writeClusterFile } from '../../node/cluster/cluster-file.js';
import type { Voter } from '../../node/cluster/voters.js';
import { topicByName } from '../../node/controller/metadata/index.js';
import { PEER_ROLE_VOTER } from '../../protocol/apis/peer-auth.js';
import { ERRORS } from '../../protocol/errors.js';
import { freePorts } from '../helpers/cluster.js';
import { parseMetrics } from '../helpers/metrics.js';
import { testNode } from '../helpers/node.js';
import { FAST_PEER_TIMING, peerNodes, rawPeer, until } from '../helpers/peers.js';
import { captureLogger, tempDir } from '../helpers/tmp.js';

async function failures(node: RunningNode, reason: string): Promise<number> {
  return parseMetrics(await node.metrics.text()).value('eddy_peer_auth_failures_total', { reason }) ?? 0;
}

/** Another node of the cluster, its cluster.json written as peerNodes writes the voters'. */
async function extraNode(o: { nodeId: number; voters: Voter[]; clusterId: string; secret: Buffer; logger?: ReturnType<typeof captureLogger>['logger'] }): Promise<RunningNode> {
  const [port] = await freePorts(1);
  const dataDir = tempDir();
  writeClusterFile(dataDir, { clusterId: o.clusterId, nodeId: o.nodeId, voters: o.voters });
  return testNode(dataDir, port!, {
    nodeId: o.nodeId,
    voters: o.voters,
    clusterSecret: o.secret,
    peerTiming: FAST_PEER_TIMING,
    ...(o.logger ? { logger: o.logger } : {}),
  });
}

const hasTopic = (n: RunningNode, name: string) => topicByName(n.quorum.image, name) !== undefined;

describe('observers', () => {
  it('an observer links to every voter, replicates the metadata log, is a DescribeQuorum observer, and forwards admin requests', async () => {
    // peerHandlers undefined: the real quorum handlers, not peerNodes' empty default.
    const { nodes, voters, clusterId, secret } = await peerNodes(3, { options: () => ({ peerHandlers: undefined }) });
    const observer = await extraNode({ nodeId: 4, voters, clusterId, secret });
    expect(observer.cluster.role).toBe('observer');
    expect(observer.peers.status().map((s) => s.nodeId).sort()).toEqual([1, 2, 3]);
    await until('the observer to link to every voter', () => observer.peers.status().every((s) => s.authenticated), 15_000);
    for (const v of nodes) expect(v.inboundPeers().some((p) => p.peerNodeId === 4)).toBe(true);

    let leader: RunningNode | undefined;
    await until('a leader the observer knows', () => {
      leader = nodes.find((n) => n.quorum.role === 'leader');
      return leader !== undefined && observer.quorum.leaderId === leader.cluster.nodeId;
    }, 20_000);
    expect(observer.quorum.role).not.toBe('leader');
    // A topic needs an unfenced broker to place it on: the leader, once its registration commits.
    await until('the leader to be registered', () => leader!.quorum.image.brokers.get(leader!.cluster.nodeId)?.fenced === false, 10_000);

    // A topic created through a voter: committed by the voters, then in the observer's image.
    const viaVoter = new Admin({ server: nodes.find((n) => n !== leader)!.url, requestTimeoutMs: 10_000 });
    try {
      await viaVoter.createTopics([{ name: 'orders', partitions: 1 }]);
    } finally {
      await viaVoter.close();
    }
    await until('the observer to hold orders', () => hasTopic(observer, 'orders'), 10_000);
    await until('the observer to catch up with the leader', () => observer.quorum.image.lastOffset >= leader!.quorum.image.lastOffset, 10_000);

    // The leader sees its fetches: an observer, not a voter.
    const atLeader = new Admin({ server: leader!.url, requestTimeoutMs: 10_000 });
    try {
      const q = await atLeader.describeQuorum();
      expect(q.voters.map((v) => v.nodeId).sort()).toEqual([1, 2, 3]);
      expect(q.observers.map((o) => o.nodeId)).toContain(4);
      expect(q.observers.find((o) => o.nodeId === 4)!.lastFetchTimestamp).toBeGreaterThan(0);
    } finally {
      await atLeader.close();
    }

    // An admin request sent to the observer goes to the active controller over its peer link.
    const viaObserver = new Admin({ server: observer.url, requestTimeoutMs: 10_000 });
    try {
      await viaObserver.createTopics([{ name: 'payments', partitions: 2 }]);
    } finally {
      await viaObserver.close();
    }
    expect(hasTopic(leader!, 'payments')).toBe(true);
    await until('the observer to hold payments', () => hasTopic(observer, 'payments'), 10_000);

    // It registers with the active controller over the same links (BrokerRegistration, then
    // heartbeats unfence it), so it is a broker like the voters; and its producer ids come from
    // the controller too.
    await until('the observer to be an unfenced broker', () => leader!.quorum.image.brokers.get(4)?.fenced === false, 15_000);
    expect(leader!.quorum.image.brokers.get(4)!.endpoints.ws).toBe(observer.url);
    const block = await allocateProducerIds(observer.broker.ctx, 4);
    expect(block.size).toBeGreaterThan(0);
    // Once it is a broker, every voter dials it too (records for partitions it leads go there).
    for (const v of nodes) {
      await until(`node ${v.cluster.nodeId}'s link to the observer`, () => v.peers.get(4)?.status().authenticated === true, 10_000);
    }
  }, 60_000);

  it('an observer of a one-voter cluster replicates from it (the lone voter serves Fetch over the peer path)', async () => {
    const { nodes, voters, clusterId, secret } = await peerNodes(1, { options: () => ({ peerHandlers: undefined }) });
    const voter = nodes[0]!;
    expect(voter.quorum.role).toBe('leader'); // startNode waited for its registration
    const observer = await extraNode({ nodeId: 2, voters, clusterId, secret });
    await until('the observer to know the leader', () => observer.quorum.leaderId === 1, 15_000);
    const admin = new Admin({ server: observer.url, requestTimeoutMs: 10_000 });
    try {
      await admin.createTopics([{ name: 'solo', partitions: 1 }]);
    } finally {
      await admin.close();
    }
    expect(hasTopic(voter, 'solo')).toBe(true);
    await until('the observer to hold solo', () => hasTopic(observer, 'solo'), 10_000);
  }, 30_000);

  it('refuses an observer with another voter list (VOTERS_MISMATCH, both lists named) and an unknown id claiming to be a voter (UNKNOWN_NODE_ID)', async () => {
    const logs = [captureLogger(), captureLogger()];
    const { nodes, voters, clusterId, secret } = await peerNodes(2, { options: (i) => ({ logger: logs[i]!.logger }) });
    const a = nodes[0]!;
    // Node 5 names voters 1 and 2, and a voter 3 the others do not have.
    const [otherPort] = await freePorts(1);
    const wrongVoters = [...voters, { id: 3, url: `ws://127.0.0.1:${otherPort}` }];
    const stray = await extraNode({ nodeId: 5, voters: wrongVoters, clusterId, secret });
    expect(stray.cluster.role).toBe('observer');
    await until('both voters to refuse it', async () => (await failures(a, 'VOTERS_MISMATCH')) >= 1 && (await failures(nodes[1]!, 'VOTERS_MISMATCH')) >= 1);
    // The refusal is counted at the voter before the stray's link has read the answer.
    await until("the stray's link to record the refusal", () => stray.peers.get(1)!.status().lastError?.code === 'REFUSED_BY_PEER');
    const link = stray.peers.get(1)!.status();
    expect(link.authenticated).toBe(false);
    expect(link.lastError).toMatchObject({ code: 'REFUSED_BY_PEER', message: expect.stringMatching(/^VOTERS_MISMATCH/) });
    // The message says which lists differ: the stray's and the voter's own.
    expect(link.lastError!.message).toContain(`3@ws://127.0.0.1:${otherPort}`);
    expect(link.lastError!.message).toContain(`this node's is ${voters.map((v) => `${v.id}@${v.url}`).join(',')}`);
    // Logged once per address per minute, however often it redials.
    await until('several refusals', async () => (await failures(a, 'VOTERS_MISMATCH')) >= 3);
    expect(logs[0]!.lines.filter((l) => l.level === 'warn' && /refused: VOTERS_MISMATCH/.test(l.msg))).toHaveLength(1);
    await stray.close();

    // Node 9 is not a voter but says it is one (v1, the right voter list).
    const before = await failures(a, 'UNKNOWN_NODE_ID');
    const { client, proofError } = await rawPeer(a, { nodeId: 9, secret, declare: { role: PEER_ROLE_VOTER, voters } });
    expect(proofError.errorCode).toBe(ERRORS.PEER_AUTHENTICATION_FAILED.code);
    expect(proofError.errorMessage).toMatch(/^UNKNOWN_NODE_ID/);
    expect((await client.closed).code).toBe(1008);
    expect(await failures(a, 'UNKNOWN_NODE_ID')).toBe(before + 1);

    // The same id declared as an observer, with the right voters, gets in; a voter's id declared as an observer does not.
    const ok = await rawPeer(a, { nodeId: 9, secret, declare: { role: 1, voters } });
    expect(ok.proofError.errorCode).toBe(0);
    ok.client.close();
    const dup = await rawPeer(a, { nodeId: 2, secret, declare: { role: 1, voters } });
    expect(dup.proofError.errorMessage).toMatch(/^OBSERVER_ID_IS_A_VOTER/);
    // A role that is neither is refused at the hello; a v0 hello (no declaration) still reads as a voter with our voters.
    const odd = await rawPeer(a, { nodeId: 9, secret, declare: { role: 5, voters } });
    expect(odd.proofError.errorMessage).toMatch(/^MALFORMED_MESSAGE: PeerHello role 5/);
    const v0 = await rawPeer(a, { nodeId: 2, secret });
    expect(v0.proofError.errorCode).toBe(0);
    v0.client.close();
  }, 30_000);
});
