/**
 * The node holds a member's heartbeat open while it has nothing new to tell it, and answers at
 * once when the member's report shows it has not caught up with its assignment (the report
 * crossed the answer that granted a partition; the member waits for this answer to start it).
 */
import { describe, expect, it } from 'vitest';
import { Connection } from '../../gateway/client/connection.js';
import { Apis } from '../../protocol/apis/index.js';
import { testNode } from '../helpers/node.js';

const pending = Symbol('still held');
/**
 * The promise's value, or `pending` if it has not settled within `ms`. A sleep on purpose where
 * the fact under test is that the node holds a heartbeat (no answer comes); elsewhere a bound.
 */
async function settledWithin<T>(p: Promise<T>, ms: number): Promise<T | typeof pending> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const later = new Promise<typeof pending>((r) => (timer = setTimeout(() => r(pending), ms)));
  try {
    return await Promise.race([p, later]);
  } finally {
    clearTimeout(timer);
  }
}

describe('held heartbeats', () => {
  it('holds a heartbeat whose report covers the assignment, and answers at once one whose report leaves part of it out', async () => {
    const node = await testNode();
    const conn = new Connection({ url: node.url, clientId: 'hold-test' });
    try {
      await conn.request(Apis.CreateTopics, { topics: [{ name: 't', numPartitions: 2, replicationFactor: -1, configs: [] }], timeoutMs: 1000, validateOnly: false });
      const base = { groupId: 'g', rebalanceTimeoutMs: -1, sessionTimeoutMs: 30_000, subscribedTopicRegex: null, serverAssignor: null };
      const joined = await conn.request(Apis.ConsumerGroupHeartbeat, { ...base, memberId: '', memberEpoch: 0, subscribedTopicNames: ['t'], ownedPartitions: [], maxWaitMs: 0 });
      expect(joined.assignment).toEqual([{ topic: 't', partitions: [0, 1] }]);
      const hb = (owned: number[]) =>
        conn.request(
          Apis.ConsumerGroupHeartbeat,
          { ...base, memberId: joined.memberId, memberEpoch: joined.memberEpoch, subscribedTopicNames: null, ownedPartitions: [{ topic: 't', partitions: owned }], maxWaitMs: 10_000 },
          { timeoutMs: 20_000 },
        );

      // Caught up: nothing to tell, so the node holds it (the interval is 10 s for a 30 s session).
      const caughtUp = hb([0, 1]);
      expect(await settledWithin(caughtUp, 1000)).toBe(pending);

      // Reporting only t-0 (made before it heard of t-1): answered at once, t-1 still its own.
      // It supersedes the held one, which the node answers first.
      const behind = await settledWithin(hb([0]), 3000);
      expect(behind).not.toBe(pending);
      expect(behind === pending ? null : behind.assignment).toEqual([{ topic: 't', partitions: [0, 1] }]);
      expect((await caughtUp).assignment).toEqual([{ topic: 't', partitions: [0, 1] }]);

      // Caught up again: held again.
      expect(await settledWithin(hb([0, 1]), 1000)).toBe(pending);
    } finally {
      await conn.close();
    }
  });
});
