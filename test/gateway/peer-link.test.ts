import { describe, expect, it } from 'vitest';
import type { PeerRequestHandler } from '../../gateway/peer-server.js';
import { Apis } from '../../protocol/apis/index.js';
import type { VoteRequest, VoteResponse } from '../../protocol/apis/vote.js';
import { ERRORS, isEddyError } from '../../protocol/errors.js';
import { encode } from '../../protocol/wire/schema.js';
import { parseMetrics } from '../helpers/metrics.js';
import { testNode } from '../helpers/node.js';
import { FAST_PEER_TIMING, peerNodes, peerUrl, rawPeer, until } from '../helpers/peers.js';
import { RawClient } from '../helpers/raw-client.js';
import { captureLogger } from '../helpers/tmp.js';
import { randomBytes } from 'node:crypto';

const VOTE: VoteRequest = { clusterId: null, candidateEpoch: 1, candidateId: 1, lastOffsetEpoch: 0, lastOffset: 0, preVote: true };

async function failures(node: { metrics: { text(): Promise<string> } }, reason: string): Promise<number> {
  return parseMetrics(await node.metrics.text()).value('eddy_peer_auth_failures_total', { reason }) ?? 0;
}

describe('peer links', () => {
  it('two nodes with the same secret authenticate both ways, and carry peer requests', async () => {
    const vote: PeerRequestHandler = async (req) => {
      const r = req as VoteRequest;
      return { errorCode: 0, errorMessage: null, leaderId: -1, leaderEpoch: r.candidateEpoch, voteGranted: true } satisfies VoteResponse;
    };
    const { nodes } = await peerNodes(2, { options: (i) => (i === 1 ? { peerHandlers: new Map([[Apis.Vote.key, vote]]) } : {}) });
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    await Promise.all([a.peers.get(2)!.authenticated(), b.peers.get(1)!.authenticated()]);
    expect(a.peers.status()).toMatchObject([{ nodeId: 2, connected: true, authenticated: true, lastError: null }]);
    expect(b.peers.status()).toMatchObject([{ nodeId: 1, connected: true, authenticated: true, lastError: null }]);
    await until('inbound links', () => a.inboundPeers().length === 1 && b.inboundPeers().length === 1);
    expect(a.inboundPeers()[0]!.peerNodeId).toBe(2);

    // b serves Vote; a does not (yet): a coded error, and the link stays.
    const granted = await a.peers.get(2)!.request<VoteResponse>(Apis.Vote.key, 0, { ...VOTE, candidateEpoch: 7 }, { timeoutMs: 2000 });
    expect(granted).toMatchObject({ voteGranted: true, leaderEpoch: 7 });
    const refused = await b.peers.get(1)!.request(Apis.Vote.key, 0, VOTE).catch((e: unknown) => e);
    expect(isEddyError(refused, 'UNSUPPORTED_VERSION')).toBe(true);
    expect(b.peers.get(1)!.status().authenticated).toBe(true);

    // A link that drops fails its in-flight requests retriably, then comes back by itself.
    a.close(); // b's link to a drops and redials (a is gone: it stays down, with a retriable error)
    const down = await b.peers.get(1)!.request(Apis.Vote.key, 0, VOTE).catch((e: unknown) => e);
    await until('b sees a gone', () => !b.peers.get(1)!.status().authenticated);
    const after = await b.peers.get(1)!.request(Apis.Vote.key, 0, VOTE).catch((e: unknown) => e);
    expect(isEddyError(after, 'NETWORK_EXCEPTION') && after.retriable).toBe(true);
    expect(isEddyError(down)).toBe(true);
  });

  it('fails in-flight requests retriably when the link drops, and re-authenticates when the peer is back', async () => {
    const stall: PeerRequestHandler = () => new Promise(() => {});
    const { nodes, voters, secret } = await peerNodes(2, { options: (i) => (i === 1 ? { peerHandlers: new Map([[Apis.Vote.key, stall]]) } : {}) });
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    const link = a.peers.get(2)!;
    await link.authenticated();
    const inFlight = link.request(Apis.Vote.key, 0, VOTE, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    await b.close();
    const err = await inFlight;
    expect(isEddyError(err, 'NETWORK_EXCEPTION') && err.retriable).toBe(true);
    await until('the link notices', () => !link.status().authenticated);
    expect(link.status().lastError).not.toBeNull();
    // b again, same dir and port: a's link redials by itself.
    await testNode(b.dataDir, b.port, { nodeId: 2, voters, clusterSecret: secret, peerTiming: FAST_PEER_TIMING, peerHandlers: new Map() });
    await link.authenticated();
    expect(link.status()).toMatchObject({ authenticated: true, lastError: null, attempts: 0 });
    const unserved = await link.request(Apis.Vote.key, 0, VOTE, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(isEddyError(unserved, 'UNSUPPORTED_VERSION')).toBe(true); // the new b has no handler
  });

  it('a wrong secret is refused on both sides, logged once a minute per address, and counted', async () => {
    const logs = [captureLogger(), captureLogger()];
    const { nodes } = await peerNodes(2, { secret: (i) => (i === 0 ? randomBytes(32) : randomBytes(32)), options: (i) => ({ logger: logs[i]!.logger }) });
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    // Each dials the other and finds its proof wrong; with fast redials, several times.
    await until('three refusals each', async () => (await failures(a, 'BAD_PROOF')) >= 3 && (await failures(b, 'BAD_PROOF')) >= 3);
    for (const [i, node] of [a, b].entries()) {
      const link = node.peers.status()[0]!;
      expect(link).toMatchObject({ authenticated: false, lastError: { code: 'BAD_PROOF' } });
      const refusals = logs[i]!.lines.filter((l) => l.level === 'warn' && /refused: BAD_PROOF/.test(l.msg));
      expect(refusals).toHaveLength(1);
      expect(refusals[0]!.msg).toContain(link.url);
      expect(refusals[0]!.msg).not.toMatch(/[0-9a-f]{64}/); // no secret or proof in the log
    }
  });

  it('refuses a peer of another cluster with CLUSTER_ID_MISMATCH', async () => {
    const { nodes } = await peerNodes(2, { clusterId: (i) => (i === 0 ? 'AAAAAAAAAAAAAAAAAAAAAA' : 'BBBBBBBBBBBBBBBBBBBBBB') });
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    await until('both refuse', async () => (await failures(a, 'CLUSTER_ID_MISMATCH')) >= 1 && (await failures(b, 'CLUSTER_ID_MISMATCH')) >= 1);
    const link = a.peers.get(2)!.status();
    expect(link.authenticated).toBe(false);
    expect(link.lastError).toMatchObject({ code: 'REFUSED_BY_PEER', message: expect.stringMatching(/^CLUSTER_ID_MISMATCH/) });
    // And by hand: the answer's code is INCONSISTENT_CLUSTER_ID, then the link closes.
    const { client, proofError } = await rawPeer(b, { nodeId: 1, secret: randomBytes(32), clusterId: a.cluster.clusterId });
    expect(proofError.errorCode).toBe(ERRORS.INCONSISTENT_CLUSTER_ID.code);
    expect((await client.closed).code).toBe(1008);
  });

  it('refuses an authenticated node that is not a voter with UNKNOWN_NODE_ID', async () => {
    const { nodes, secret } = await peerNodes(2);
    const a = nodes[0]!;
    const before = await failures(a, 'UNKNOWN_NODE_ID');
    const { client, proofError } = await rawPeer(a, { nodeId: 9, secret });
    expect(proofError.errorCode).toBe(ERRORS.PEER_AUTHENTICATION_FAILED.code);
    expect(proofError.errorMessage).toMatch(/^UNKNOWN_NODE_ID/);
    expect((await client.closed).code).toBe(1008);
    expect(await failures(a, 'UNKNOWN_NODE_ID')).toBe(before + 1);
    // The same node with the same secret as voter 2 gets in.
    const ok = await rawPeer(a, { nodeId: 2, secret });
    expect(ok.proofError.errorCode).toBe(0);
    ok.client.close();
  });

  it('keeps peer and client APIs apart: each port refuses the other kind with a code', async () => {
    const { nodes, secret } = await peerNodes(2);
    const a = nodes[0]!;
    const client = await RawClient.connect(a.url);
    for (const api of [Apis.Vote, Apis.PeerHello, Apis.BrokerHeartbeat]) {
      const r = await client.send(api.key, new Uint8Array(0));
      expect(r.header.errorCode).toBe(ERRORS.CLUSTER_AUTHORIZATION_FAILED.code);
    }
    expect((await client.call(Apis.Metadata.key, { topics: null })).brokers).toBeDefined();
    client.close();
    const { client: peer, proofError } = await rawPeer(a, { nodeId: 2, secret });
    expect(proofError.errorCode).toBe(0);
    const meta = await peer.send(Apis.Metadata.key, encode(Apis.Metadata.newest.request, { topics: null }));
    expect(meta.header.errorCode).toBe(ERRORS.INVALID_REQUEST.code);
    const again = await peer.send(Apis.PeerHello.key, new Uint8Array(0));
    expect(again.header.errorCode).toBe(ERRORS.INVALID_REQUEST.code);
    const vote = await peer.send(Apis.Vote.key, encode(Apis.Vote.newest.request, VOTE));
    expect(vote.header.errorCode).toBe(ERRORS.UNSUPPORTED_VERSION.code); // no handler yet
    expect(peer.ws.readyState).toBe(peer.ws.OPEN);
    peer.close();
  });

  it('closes a peer that sends anything before authenticating, or nothing in time', async () => {
    const log = captureLogger();
    const { nodes } = await peerNodes(1, { options: () => ({ logger: log.logger, peerTiming: { handshakeTimeoutMs: 300 } }) });
    const a = nodes[0]!;
    const early = await RawClient.connect(peerUrl(a));
    const r = await early.send(Apis.Vote.key, encode(Apis.Vote.newest.request, VOTE));
    expect(r.header.errorCode).toBe(ERRORS.PEER_AUTHENTICATION_FAILED.code);
    expect(r.header.errorMessage).toMatch(/^UNEXPECTED_MESSAGE/);
    expect(await early.closed).toMatchObject({ code: 1008, reason: 'UNEXPECTED_MESSAGE' });
    const silent = await RawClient.connect(peerUrl(a));
    expect(await silent.closed).toMatchObject({ code: 1008, reason: 'HANDSHAKE_TIMEOUT' });
    expect(await failures(a, 'HANDSHAKE_TIMEOUT')).toBe(1);
  });
});
