/**
 * The broker lifecycle across three in-process nodes over real peer links on 127.0.0.1: every
 * node registers with the active controller and is unfenced in every node's image; a graceful
 * close fences the node at once (its partitions lose their leader, RF=1); its restart unfences it
 * and gives them back; a node that stops without the controlled shutdown (as a crash would) is
 * fenced once its session expires.
 */
import { describe, expect, it } from 'vitest';
import type { RunningNode, StartNodeOptions } from '../../app/start-node.js';
import { Admin, Producer } from '../../gateway/client/index.js';
import { NO_LEADER, sortedPartitions, type MetadataImage } from '../../node/controller/metadata/index.js';
import { scrape } from '../helpers/metrics.js';
import { testNode } from '../helpers/node.js';
import { FAST_PEER_TIMING, peerNodes, until } from '../helpers/peers.js';

const SESSION_TIMEOUT_MS = 1_500;
const OPTIONS: Partial<StartNodeOptions> = {
  peerHandlers: undefined, // the node's own: the metadata quorum's and the broker lifecycle's
  brokerSessionTimeoutMs: SESSION_TIMEOUT_MS,
  brokerHeartbeatIntervalMs: 100,
  httpPort: 0,
  processMetrics: false,
};
const IDS = [1, 2, 3];

function unfenced(image: MetadataImage, id: number): boolean {
  return image.brokers.get(id)?.fenced === false;
}

function leaders(image: MetadataImage, topic: string): number[] {
  const t = image.topicsById.get(image.topicIdsByName.get(topic) ?? '');
  return t ? sortedPartitions(t).map((p) => p.leader) : [];
}

async function createTopic(node: RunningNode, name: string, partitions: number): Promise<void> {
  const admin = new Admin({ server: node.url, requestTimeoutMs: 5_000 });
  try {
    await admin.createTopics([{ name, partitions }]);
  } finally {
    await admin.close();
  }
}

async function threeRegistered(extra: Partial<StartNodeOptions> = {}) {
  const started = await peerNodes(3, { options: () => ({ ...OPTIONS, ...extra }) });
  const { nodes } = started;
  await until('every node registered and unfenced in every image', () => nodes.every((n) => IDS.every((id) => unfenced(n.quorum.image, id))), 20_000);
  return started;
}

describe('the broker lifecycle', () => {
  it('registers all three nodes; a graceful close fences a node at once, its restart unfences it and gives its partitions back', async () => {
    const { nodes, voters, secret } = await threeRegistered();
    for (const n of nodes) expect([...n.quorum.image.brokers.values()].map((b) => b.endpoints.ws).sort()).toEqual(nodes.map((x) => x.url).sort());
    await createTopic(nodes[0]!, 'orders', 6);
    await until('orders in every image', () => nodes.every((n) => leaders(n.quorum.image, 'orders').length === 6));
    const before = leaders(nodes[0]!.quorum.image, 'orders');
    expect(new Set(before)).toEqual(new Set(IDS)); // spread over all three brokers

    // Close a node that is not the controller: the fencing must come from its own request.
    const victim = nodes.find((n) => n.quorum.role !== 'leader')!;
    const id = victim.cluster.nodeId;
    const rest = nodes.filter((n) => n !== victim);
    const victimEpoch = victim.quorum.image.brokers.get(id)!.brokerEpoch;
    const mine = before.flatMap((l, p) => (l === id ? [p] : []));
    const producer = new Producer({ server: victim.url });
    for (const partition of mine) await producer.send({ topic: 'orders', partition, key: 'k', value: `kept in ${partition}` });
    await producer.close();
    const closedAt = Date.now();
    await victim.close();
    // Fenced before close() returned: no waiting for a session to expire.
    for (const n of rest) {
      await until(`node ${id} fenced in node ${n.cluster.nodeId}'s image`, () => !unfenced(n.quorum.image, id), 1_000);
      expect(leaders(n.quorum.image, 'orders')).toEqual(before.map((l) => (l === id ? NO_LEADER : l)));
    }
    expect(Date.now() - closedAt).toBeLessThan(SESSION_TIMEOUT_MS);
    expect((await scrape(rest[0]!.httpUrl!)).value('eddy_fenced_brokers')).toBe(1);

    const back = await testNode(victim.dataDir, victim.port, { nodeId: id, voters, clusterSecret: secret, peerTiming: FAST_PEER_TIMING, ...OPTIONS });
    const all = [...rest, back];
    await until(`node ${id} unfenced again everywhere`, () => all.every((n) => IDS.every((b) => unfenced(n.quorum.image, b))), 20_000);
    await until('its partitions led by it again', () => all.every((n) => JSON.stringify(leaders(n.quorum.image, 'orders')) === JSON.stringify(before)), 5_000);
    expect((await scrape(back.httpUrl!)).value('eddy_fenced_brokers')).toBe(0);
    // Its partitions kept their records across the restart.
    const admin = new Admin({ server: back.url });
    const ends = await admin.listOffsets(mine.map((partition) => ({ topic: 'orders', partition, spec: 'latest' as const })));
    await admin.close();
    expect(ends.map((e) => e.offset)).toEqual(mine.map(() => 1));
    // A new incarnation, with the broker epoch the controller answered its registration with.
    const b = back.quorum.image.brokers.get(id)!;
    expect(b.brokerEpoch).toBe(back.lifecycle.brokerEpoch);
    expect(b.brokerEpoch).toBeGreaterThan(victimEpoch);
  }, 60_000);

  it('fences a node that stops without a controlled shutdown once its session expires', async () => {
    // controlled.shutdown.enable=false: close() stops as a crash looks to the others (no fencing request, the links just go).
    const { nodes } = await threeRegistered({ controlledShutdown: false });
    await createTopic(nodes[0]!, 'events', 3);
    await until('events in every image', () => nodes.every((n) => leaders(n.quorum.image, 'events').length === 3));
    const victim = nodes.find((n) => n.quorum.role !== 'leader')!;
    const id = victim.cluster.nodeId;
    const rest = nodes.filter((n) => n !== victim);
    const before = leaders(rest[0]!.quorum.image, 'events');
    const stoppedAt = Date.now();
    await victim.close();
    await new Promise((r) => setTimeout(r, SESSION_TIMEOUT_MS / 2));
    for (const n of rest) expect(unfenced(n.quorum.image, id)).toBe(true); // its session is still running
    for (const n of rest) await until(`node ${id} fenced in node ${n.cluster.nodeId}'s image`, () => !unfenced(n.quorum.image, id), SESSION_TIMEOUT_MS + 3_000);
    // Its session runs from its last heartbeat, which may be up to one interval before the stop.
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(SESSION_TIMEOUT_MS - (OPTIONS.brokerHeartbeatIntervalMs ?? 0));
    for (const n of rest) expect(leaders(n.quorum.image, 'events')).toEqual(before.map((l) => (l === id ? NO_LEADER : l)));
  }, 60_000);

  it('the active controller fences itself when it closes; the new one takes over the sessions and fences no live broker', async () => {
    const { nodes } = await threeRegistered();
    await createTopic(nodes[0]!, 'logs', 3);
    await until('logs in every image', () => nodes.every((n) => leaders(n.quorum.image, 'logs').length === 3));
    const old = nodes.find((n) => n.quorum.role === 'leader')!;
    const id = old.cluster.nodeId;
    const rest = nodes.filter((n) => n !== old);
    const before = leaders(rest[0]!.quorum.image, 'logs');
    await old.close();
    for (const n of rest) {
      await until(`node ${id} fenced in node ${n.cluster.nodeId}'s image`, () => !unfenced(n.quorum.image, id), 1_000);
      expect(leaders(n.quorum.image, 'logs')).toEqual(before.map((l) => (l === id ? NO_LEADER : l)));
    }
    await until('a new controller', () => rest.some((n) => n.quorum.role === 'leader'), 10_000);
    const leader = rest.find((n) => n.quorum.role === 'leader')!;
    expect(leader.quorum.epoch).toBeGreaterThan(0);
    // The survivors heartbeat to the new controller: still unfenced well past a session timeout.
    await new Promise((r) => setTimeout(r, SESSION_TIMEOUT_MS * 2));
    for (const n of rest) for (const b of rest) expect(unfenced(n.quorum.image, b.cluster.nodeId)).toBe(true);
    expect(leader.brokerController.sessions.silentForMs(id, Date.now())).toBeGreaterThan(SESSION_TIMEOUT_MS); // tracked, but already fenced
    const m = await scrape(leader.httpUrl!);
    expect(m.value('eddy_metadata_elections_total')).toBeGreaterThanOrEqual(1);
    expect(m.value('eddy_metadata_quorum_state', { role: 'leader' })).toBe(1);
    expect(m.value('eddy_fenced_brokers')).toBe(1);
  }, 60_000);
});
