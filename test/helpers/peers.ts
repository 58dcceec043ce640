/**
 * Nodes of one cluster in-process, for peer link tests: ports chosen first (the voters name
 * them), cluster.json written into each temp data dir with a shared cluster id (as a cluster
 * formatted together would have), and a raw peer that runs the dialler's handshake by hand so
 * tests can send what a PeerLink never would.
 */
import { randomBytes } from 'node:crypto';
import type { RunningNode, StartNodeOptions } from '../../app/start-node.js';
import { challengeMessage } from '../../gateway/peer-handshake-frames.js';
import { writeClusterFile } from '../../node/cluster/cluster-file.js';
import { newClusterId } from '../../node/cluster/cluster-identity.js';
import { PeerAuthInitiator } from '../../node/cluster/peer-auth.js';
import type { Voter } from '../../node/cluster/voters.js';
import { Apis } from '../../protocol/apis/index.js';
import { decode, encode } from '../../protocol/wire/schema.js';
import { freePorts } from './cluster.js';
import { testNode } from './node.js';
import { RawClient } from './raw-client.js';
import { tempDir } from './tmp.js';

export const PEER_PATH = '/eddy-peer';
/** Quick redials, so a test sees several attempts in well under a second. */
export const FAST_PEER_TIMING = { handshakeTimeoutMs: 2_000, initialBackoffMs: 20, maxBackoffMs: 80 };

export interface PeerNodePlan {
  /** Per node index: overrides of its secret, cluster id and startNode options. */
  secret?: (i: number) => Buffer;
  clusterId?: (i: number) => string;
  options?: (i: number) => Partial<StartNodeOptions>;
}

/** `n` voters (ids 1..n) on ports chosen now; node i is started only if `start(i)` (default all). */
export async function peerNodes(n: number, plan: PeerNodePlan = {}): Promise<{ nodes: RunningNode[]; voters: Voter[]; clusterId: string; secret: Buffer }> {
  const ports = await freePorts(n);
  const voters = ports.map((port, i) => ({ id: i + 1, url: `ws://127.0.0.1:${port}` }));
  const clusterId = newClusterId();
  const secret = randomBytes(32);
  const nodes: RunningNode[] = [];
  for (let i = 0; i < n; i++) {
    const dataDir = tempDir();
    writeClusterFile(dataDir, { clusterId: plan.clusterId?.(i) ?? clusterId, nodeId: i + 1, voters });
    nodes.push(
      await testNode(dataDir, ports[i]!, {
        nodeId: i + 1,
        voters,
        clusterSecret: plan.secret?.(i) ?? secret,
        peerTiming: FAST_PEER_TIMING,
        // Links alone, no metadata quorum on them: a test serves the peer APIs it names.
        peerHandlers: new Map(),
        ...plan.options?.(i),
      }),
    );
  }
  return { nodes, voters, clusterId, secret };
}

/** Polls `cond` every 10 ms until true; fails naming `what` after `timeoutMs`. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 8_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function peerUrl(node: Pick<RunningNode, 'url'>): string {
  return `${node.url}${PEER_PATH}`;
}

/**
 * A raw connection to `node`'s peer path that authenticates as `nodeId` with `secret` (the
 * dialler's side by hand). Resolves with the client and the PeerProof answer's header; the
 * client is authenticated if that has error code 0.
 */
export interface RawPeerOptions {
  nodeId: number;
  secret: Buffer;
  clusterId?: string;
  /** Send PeerHello v1 declaring this role (0 voter, 1 observer) and voters; absent: v0 (a voter with the node's voters). */
  declare?: { role: number; voters: Voter[] };
}

export async function rawPeer(
  node: RunningNode,
  o: RawPeerOptions,
): Promise<{ client: RawClient; proofError: { errorCode: number; errorMessage: string | null } }> {
  const client = await RawClient.connect(peerUrl(node));
  const clusterId = o.clusterId ?? node.cluster.clusterId;
  const initiator = new PeerAuthInitiator({ secret: o.secret, clusterId, nodeId: o.nodeId, peerNodeId: node.cluster.nodeId });
  const hello = initiator.start();
  if (hello.kind !== 'send' || hello.message.type !== 'hello') throw new Error('no hello');
  const base = { clusterId, nodeId: o.nodeId, nonce: hello.message.nonce };
  const h = o.declare
    ? await client.send(Apis.PeerHello.key, encode(Apis.PeerHello.versions[1]!.request, { ...base, ...o.declare }), 1)
    : await client.send(Apis.PeerHello.key, encode(Apis.PeerHello.versions[0]!.request, base), 0);
  if (h.header.errorCode !== 0) return { client, proofError: h.header as { errorCode: number; errorMessage: string | null } };
  const step = initiator.receive(challengeMessage(decode(Apis.PeerHello.newest.response, h.body)));
  if (step.kind !== 'send' || step.message.type !== 'proof') throw new Error(`the node's challenge was refused: ${JSON.stringify(step)}`);
  const p = await client.send(Apis.PeerProof.key, encode(Apis.PeerProof.newest.request, { proof: step.message.proof }));
  return { client, proofError: p.header as { errorCode: number; errorMessage: string | null } };
}
