/**
 * AlterPartition (KIP-497) over real peer links to the active controller of three in-process
 * nodes: a partition's leader asking with a stale partition epoch is refused
 * (INVALID_UPDATE_VERSION), a node that does not lead it is NOT_LEADER_OR_FOLLOWER, a node
 * speaking for another is refused outright, a non-controller answers NOT_CONTROLLER, and an
 * unchanged ISR is answered with the partition's state and writes nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../app/start-node.js';
import { Admin } from '../../gateway/client/index.js';
import { partitionOf } from '../../node/controller/metadata/index.js';
import { Apis } from '../../protocol/apis/index.js';
import type { AlterPartitionResponse } from '../../protocol/apis/alter-partition.js';
import { ERRORS } from '../../protocol/errors.js';
import { peerNodes, until } from '../helpers/peers.js';

let nodes: RunningNode[] = [];
afterEach(async () => {
  for (const n of nodes) await n.close().catch(() => {});
  nodes = [];
});

describe('AlterPartition at the active controller', () => {
  it('decides ISR changes by the KIP-497 rules over the peer link', async () => {
    ({ nodes } = await peerNodes(3, { options: () => ({ peerHandlers: undefined, brokerHeartbeatIntervalMs: 100 }) }));
    await until('all three registered and unfenced', () => nodes.every((n) => [1, 2, 3].every((id) => n.quorum.image.brokers.get(id)?.fenced === false)), 20_000);
    const admin = new Admin({ server: nodes[0]!.url, requestTimeoutMs: 10_000 });
    await admin.createTopics([{ name: 'isr', partitions: 3 }]);
    await admin.close();
    const controller = nodes.find((n) => n.quorum.role === 'leader')!;
    await until('isr in every image', () => nodes.every((n) => n.topics.get('isr')?.partitions === 3));
    // A partition led by a node that is not the controller, so the request crosses a link.
    const image = controller.quorum.image;
    const topicId = image.topicIdsByName.get('isr')!;
    const p = [0, 1, 2].map((i) => partitionOf(image, 'isr', i)!).find((x) => x.leader !== controller.cluster.nodeId)!;
    const leader = nodes.find((n) => n.cluster.nodeId === p.leader)!;
    const other = nodes.find((n) => n !== leader && n !== controller)!;
    const ask = (from: RunningNode, to: RunningNode, body: { brokerId?: number; partitionEpoch?: number; newIsr?: number[] }) =>
      from.peers.get(to.cluster.nodeId)!.request<AlterPartitionResponse>(Apis.AlterPartition.key, 0, {
        brokerId: body.brokerId ?? from.cluster.nodeId,
        brokerEpoch: controller.quorum.image.brokers.get(body.brokerId ?? from.cluster.nodeId)!.brokerEpoch,
        topics: [{ topicId, partitions: [{ partitionIndex: p.partitionId, leaderEpoch: p.leaderEpoch, newIsr: body.newIsr ?? [...p.isr], partitionEpoch: body.partitionEpoch ?? p.partitionEpoch }] }],
      });
    const one = (r: AlterPartitionResponse) => r.topics[0]!.partitions[0]!;

    const same = await ask(leader, controller, {});
    expect(same.errorCode).toBe(0);
    expect(one(same)).toMatchObject({ errorCode: 0, leaderId: p.leader, isr: [...p.isr], partitionEpoch: p.partitionEpoch });
    expect(one(await ask(leader, controller, { partitionEpoch: p.partitionEpoch + 1 })).errorCode).toBe(ERRORS.INVALID_UPDATE_VERSION.code);
    expect(one(await ask(other, controller, {})).errorCode).toBe(ERRORS.NOT_LEADER_OR_FOLLOWER.code);
    expect(one(await ask(leader, controller, { newIsr: [other.cluster.nodeId] })).errorCode).toBe(ERRORS.INVALID_REQUEST.code); // the leader must stay in the ISR
    expect((await ask(leader, controller, { brokerId: other.cluster.nodeId })).errorCode).toBe(ERRORS.INVALID_REQUEST.code);
    expect((await ask(controller, leader, { brokerId: controller.cluster.nodeId })).errorCode).toBe(ERRORS.NOT_CONTROLLER.code);
    // Nothing changed the partition.
    expect(partitionOf(controller.quorum.image, 'isr', p.partitionId)).toEqual(p);
  }, 60_000);
});
