/** Bad input to the consumer-group APIs: stable codes, per partition where Kafka has them, nothing stored. */
import { describe, expect, it } from 'vitest';
import { Apis } from '../../protocol/apis/index.js';
import { ERRORS } from '../../protocol/errors.js';
import { testNode } from '../helpers/node.js';
import { RawClient } from '../helpers/raw-client.js';

const headerError = async (p: Promise<unknown>): Promise<number> => {
  try {
    await p;
  } catch (err) {
    return (err as { code: number }).code;
  }
  throw new Error('expected a header error');
};

describe('consumer group APIs: bad input', () => {
  it('refuses bad offsets, oversized metadata and unknown partitions one by one, and commits the good ones', async () => {
    const node = await testNode();
    const c = await RawClient.connect(node.url);
    await c.call(Apis.CreateTopics.key, { topics: [{ name: 't', numPartitions: 2, replicationFactor: -1, configs: [] }], timeoutMs: 1000, validateOnly: false });
    const res = await c.call(Apis.OffsetCommit.key, {
      groupId: 'g',
      memberId: '',
      memberEpoch: -1,
      topics: [
        {
          name: 't',
          partitions: [
            { partition: 0, committedOffset: -5, committedMetadata: null },
            { partition: 1, committedOffset: 3, committedMetadata: 'x'.repeat(4097) },
            { partition: 7, committedOffset: 1, committedMetadata: null },
          ],
        },
        { name: 'nope', partitions: [{ partition: 0, committedOffset: 1, committedMetadata: null }] },
        { name: 't', partitions: [{ partition: 1, committedOffset: 9, committedMetadata: 'ok' }] },
      ],
    });
    const codes = res.topics.flatMap((t: { partitions: { errorCode: number }[] }) => t.partitions.map((p) => p.errorCode));
    expect(codes).toEqual([
      ERRORS.INVALID_REQUEST.code,
      ERRORS.OFFSET_METADATA_TOO_LARGE.code,
      ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code,
      ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code,
      0,
    ]);
    const fetched = await c.call(Apis.OffsetFetch.key, { groupId: 'g', topics: null });
    expect(fetched.topics).toEqual([
      { name: 't', partitions: [{ partition: 1, committedOffset: 9, metadata: 'ok', errorCode: 0, errorMessage: null }] },
    ]);
    c.close();
  });

  it('answers a bad group id, an unknown member and a bad subscription with their codes, and keeps serving', async () => {
    const node = await testNode();
    const c = await RawClient.connect(node.url);
    const join = { groupId: 'g', memberId: '', memberEpoch: 0, rebalanceTimeoutMs: -1, sessionTimeoutMs: -1, subscribedTopicNames: ['t'], subscribedTopicRegex: null, serverAssignor: null, ownedPartitions: [], maxWaitMs: 0 };
    expect(await headerError(c.call(Apis.ConsumerGroupHeartbeat.key, { ...join, groupId: '' }))).toBe(ERRORS.INVALID_GROUP_ID.code);
    expect(await headerError(c.call(Apis.ConsumerGroupHeartbeat.key, { ...join, groupId: 'g'.repeat(256) }))).toBe(ERRORS.INVALID_GROUP_ID.code);
    expect(await headerError(c.call(Apis.ConsumerGroupHeartbeat.key, { ...join, memberId: 'ghost', memberEpoch: 4 }))).toBe(ERRORS.UNKNOWN_MEMBER_ID.code);
    expect(await headerError(c.call(Apis.ConsumerGroupHeartbeat.key, { ...join, subscribedTopicRegex: '[' }))).toBe(ERRORS.INVALID_REGULAR_EXPRESSION.code);
    expect(await headerError(c.call(Apis.ConsumerGroupHeartbeat.key, { ...join, sessionTimeoutMs: 1 }))).toBe(ERRORS.INVALID_SESSION_TIMEOUT.code);
    expect(await headerError(c.call(Apis.ConsumerGroupHeartbeat.key, { ...join, serverAssignor: 'best' }))).toBe(ERRORS.UNSUPPORTED_ASSIGNOR.code);
    expect(await headerError(c.call(Apis.OffsetFetch.key, { groupId: '', topics: null }))).toBe(ERRORS.INVALID_GROUP_ID.code);
    const ok = await c.call(Apis.ConsumerGroupHeartbeat.key, join);
    expect(ok.memberEpoch).toBeGreaterThan(0);
    const described = await c.call(Apis.ConsumerGroupDescribe.key, { groupIds: ['g', 'unknown'] });
    expect(described.groups.map((g: { errorCode: number; state: string }) => [g.errorCode, g.state])).toEqual([
      [0, 'stable'],
      [ERRORS.GROUP_ID_NOT_FOUND.code, 'dead'],
    ]);
    c.close();
  });
});
