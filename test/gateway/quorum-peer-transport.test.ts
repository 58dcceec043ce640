/**
 * Three real nodes (startNode, temp dirs, shared cluster secret, voters on ports chosen first),
 * each running a QuorumDriver on its own store over QuorumPeerTransport and the node's PeerLinks,
 * wired by hand: the driver's peer handlers go into a mutable registry passed to startNode as
 * `peerHandlers`, since the driver is created after the node. Election, commit on all three,
 * and failover when the leader's node closes.
 */
import { describe, expect, it } from 'vitest';
import type { RunningNode } from '../../app/start-node.js';
import { QuorumPeerTransport } from '../../gateway/quorum-peer-transport.js';
import type { PeerRequestHandler } from '../../gateway/peer-server.js';
import { QuorumDriver } from '../../node/controller/quorum-driver.js';
import { FAST_RAFT, hasTopic, topicRecord, waitFor } from '../controller/quorum-fixture.js';
import { peerNodes } from '../helpers/peers.js';
import { tempDir } from '../helpers/tmp.js';

interface Member {
  id: number;
  node: RunningNode;
  transport: QuorumPeerTransport;
  driver: QuorumDriver;
  up: boolean;
}

async function agreedLeader(members: Member[]): Promise<Member> {
  const up = () => members.filter((m) => m.up);
  await waitFor('an agreed leader', () => {
    const leaders = up().filter((m) => m.driver.role === 'leader');
    return leaders.length === 1 && up().every((m) => m.driver.leaderId === leaders[0]!.id && m.driver.epoch === leaders[0]!.driver.epoch);
  }, 10_000);
  return up().find((m) => m.driver.role === 'leader')!;
}

describe('QuorumPeerTransport', () => {
  it('three nodes elect one leader over peer links, commit on all, and fail over when the leader closes', async () => {
    const registries = [0, 1, 2].map(() => new Map<number, PeerRequestHandler>());
    const { nodes, voters, clusterId } = await peerNodes(3, { options: (i) => ({ peerHandlers: registries[i]! }) });
    const ids = voters.map((v) => v.id);
    const members: Member[] = [];
    try {
      for (const [i, node] of nodes.entries()) {
        const id = i + 1;
        const transport = new QuorumPeerTransport({ nodeId: id, links: node.peers, requestTimeoutMs: 1_000, clusterId });
        for (const [key, h] of transport.handlers()) registries[i]!.set(key, h);
        const driver = await QuorumDriver.start({
          nodeId: id, voters: ids, dataDir: tempDir('eddy-qpt-'), store: node.store, transport,
          raft: FAST_RAFT, tickIntervalMs: 10, proposeTimeoutMs: 2_000,
        });
        members.push({ id, node, transport, driver, up: true });
      }

      const first = await agreedLeader(members);
      expect(members.filter((m) => m.driver.role === 'leader')).toHaveLength(1);
      await first.driver.propose([topicRecord('orders')]);
      await waitFor('every image to hold orders', () => members.every((m) => hasTopic(m.driver, 'orders')));
      const images = members.map((m) => m.driver.image);
      expect(images[1]).toEqual(images[0]);
      expect(images[2]).toEqual(images[0]);

      const oldEpoch = first.driver.epoch;
      await first.driver.close();
      first.transport.close();
      await first.node.close();
      first.up = false;

      const rest = members.filter((m) => m.up);
      const second = await agreedLeader(rest);
      expect(second.id).not.toBe(first.id);
      expect(second.driver.epoch).toBeGreaterThan(oldEpoch);
      await second.driver.propose([topicRecord('payments')]);
      await waitFor('the survivors to hold payments', () => rest.every((m) => hasTopic(m.driver, 'payments') && hasTopic(m.driver, 'orders')));
      expect(rest[1]!.driver.image).toEqual(rest[0]!.driver.image);
    } finally {
      for (const m of members) {
        if (!m.up) continue;
        await m.driver.close();
        m.transport.close();
      }
    }
  }, 30_000);
});
