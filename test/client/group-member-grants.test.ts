/**
 * A group member's side of grants that cross its own reports. The coordinator frees a partition
 * for another member once a member's report leaves it out, so a member must never start a grant
 * that a report it sent earlier (before it knew of the grant) may already have given away.
 *
 * The coordinator here is scripted, over a real WebSocket on 127.0.0.1, because the interleaving
 * that matters (an answer granting a partition crossing the member's next heartbeat) is one a
 * real node produces only by chance. The member is the SDK's own GroupMember and Connection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Connection } from '../../gateway/client/connection.js';
import { GroupMember, type PartitionHost } from '../../gateway/client/group-member.js';
import type { TopicPartition } from '../../gateway/client/topic-partition.js';
import type { ConsumerGroupHeartbeatRequest } from '../../protocol/apis/consumer-group-heartbeat.js';
import type { OffsetFetchRequest } from '../../protocol/apis/offset-fetch.js';
import { waitFor } from '../helpers/client.js';
import { scriptedNode, type ScriptedNode } from '../helpers/scripted-node.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const key = (tp: TopicPartition) => `${tp.topic}-${tp.partition}`;

interface Heartbeat {
  req: ConsumerGroupHeartbeatRequest;
  /** The partitions of topic t the member reported owning. */
  reported: string[];
  answer(partitions: number[]): void;
}

/** Answers OffsetFetch (nothing committed) and leaves at once; hands other heartbeats to the test. */
class ScriptedCoordinator {
  readonly #arrived: Heartbeat[] = [];

  private constructor(readonly node: ScriptedNode) {}

  static async start(): Promise<ScriptedCoordinator> {
    let coord: ScriptedCoordinator;
    const node = await scriptedNode({
      ConsumerGroupHeartbeat: (req: ConsumerGroupHeartbeatRequest) => {
        if (req.memberEpoch === -1) return { memberId: req.memberId, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: [] }; // leave
        return new Promise((resolve) => {
          const reported = (req.ownedPartitions ?? []).flatMap((t) => t.partitions.map((p) => `${t.topic}-${p}`)).sort();
          const answer = (partitions: number[]) =>
            resolve({ memberId: 'm1', memberEpoch: 1, heartbeatIntervalMs: 3000, assignment: partitions.length > 0 ? [{ topic: 't', partitions }] : [] });
          coord.#arrived.push({ req, reported, answer });
        });
      },
      OffsetFetch: (req: OffsetFetchRequest) => ({
        topics: (req.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitions.map((partition) => ({ partition, committedOffset: -1, metadata: null, errorCode: 0, errorMessage: null })),
        })),
      }),
    });
    coord = new ScriptedCoordinator(node);
    return coord;
  }

  get url(): string {
    return this.node.url;
  }

  get offsetFetches(): number {
    return this.node.count('OffsetFetch');
  }

  /** The next heartbeat the member sends, in arrival order. */
  async next(): Promise<Heartbeat> {
    await waitFor(() => this.#arrived.length > 0, 'a heartbeat from the member', 3000);
    return this.#arrived.shift()!;
  }

  /** No heartbeat is waiting to be taken. */
  get quiet(): boolean {
    return this.#arrived.length === 0;
  }
}

/** The consumer side as the member drives it: records what was started, and when. */
class Host implements PartitionHost {
  readonly parts = new Map<string, TopicPartition>();
  readonly started: string[] = [];
  assigned(): TopicPartition[] {
    return [...this.parts.values()];
  }
  add(list: { tp: TopicPartition }[]): void {
    for (const { tp } of list) {
      this.parts.set(key(tp), tp);
      this.started.push(key(tp));
    }
  }
  pause(): void {}
  remove(tps: TopicPartition[]): void {
    for (const tp of tps) this.parts.delete(key(tp));
  }
  positions(): Map<string, { tp: TopicPartition; offset: number }> {
    return new Map();
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * Brings a member to the moment that matters: it owned t-0, was told to give it up, and released
 * it. Its regular heartbeat (sent as the revoking answer arrived, reporting t-0) is held by the
 * coordinator; the heartbeat it sent after releasing t-0 (reporting nothing) supersedes it.
 */
async function memberAfterRelease(): Promise<{ coord: ScriptedCoordinator; host: Host; held: Heartbeat; superseding: Heartbeat }> {
  const coord = await ScriptedCoordinator.start(); // closed by scriptedNode after the test
  const conn = new Connection({ url: coord.url, clientId: 'grants-test' });
  cleanups.push(() => conn.close());
  const host = new Host();
  const member = new GroupMember(conn, host, {
    groupId: 'g',
    subscription: { topics: ['t'] },
    sessionTimeoutMs: 9000,
    rebalanceTimeoutMs: 10_000,
    assignor: null,
    autoCommit: false,
    autoCommitIntervalMs: 5000,
    requestTimeoutMs: 5000,
    listener: {},
  });
  cleanups.push(() => member.close());
  member.start();

  const join = await coord.next();
  expect(join.req.memberEpoch).toBe(0);
  join.answer([0]);
  const regular = await coord.next();
  await waitFor(() => host.parts.has('t-0'), 'the member starting t-0');
  regular.answer([]); // t-0 goes to another member
  const held = await coord.next();
  const superseding = await coord.next();
  await waitFor(() => !host.parts.has('t-0'), 'the member releasing t-0');
  // The scenario really is the one described: the first still reports t-0, the second does not.
  expect(held.reported).toEqual(['t-0']);
  expect(superseding.reported).toEqual([]);
  return { coord, host, held, superseding };
}

describe('group member: grants that cross its own reports', () => {
  it('does not start a partition granted in the answer to a superseded heartbeat when the latest answer takes it back', async () => {
    const { coord, host, held, superseding } = await memberAfterRelease();
    // The coordinator answers the held heartbeat first, granting t-1 …
    held.answer([1]);
    // A sleep: the fact is that nothing starts. Starting t-1 would show within about a
    // millisecond (one committed-offset round trip), so 300 ms is a wide margin.
    await sleep(300);
    // … but the superseding heartbeat's report (made before the member knew of t-1) may let it
    // hand t-1 to another member, so the member waits for that heartbeat's answer …
    expect(host.started).toEqual(['t-0']);
    expect(coord.offsetFetches).toBe(1);
    superseding.answer([]); // … which no longer has t-1.
    const after = await coord.next();
    expect(after.reported).toEqual([]);
    await sleep(200); // a sleep, as above: nothing must start later either
    expect(host.started).toEqual(['t-0']); // t-1 was never consumed here
  });

  it('starts that partition once the answer to the latest heartbeat still has it, and reports it from the grant on', async () => {
    const { coord, host, held, superseding } = await memberAfterRelease();
    held.answer([1]);
    await sleep(300); // a sleep: the fact is that t-1 does not start before the latest answer
    expect(host.started).toEqual(['t-0']);
    superseding.answer([1]);
    await waitFor(() => host.parts.has('t-1'), 'the member starting t-1 once confirmed');
    expect(host.started).toEqual(['t-0', 't-1']);
    const after = await coord.next();
    expect(after.reported).toEqual(['t-1']);
    expect(coord.quiet).toBe(true);
  });
});
