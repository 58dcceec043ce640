/**
 * Consumer group APIs: heartbeat, offset commit/fetch, list, describe (with lag) and delete.
 * The coordinator holds the group logic; these handlers validate, map errors per partition and
 * shape the responses.
 */
import type { ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse } from '../../protocol/apis/consumer-group-describe.js';
import type { ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse } from '../../protocol/apis/consumer-group-heartbeat.js';
import type { DeleteGroupsRequest, DeleteGroupsResponse } from '../../protocol/apis/delete-groups.js';
import type { ListGroupsRequest, ListGroupsResponse } from '../../protocol/apis/list-groups.js';
import type { OffsetCommitRequest, OffsetCommitResponse } from '../../protocol/apis/offset-commit.js';
import type { OffsetFetchRequest, OffsetFetchResponse } from '../../protocol/apis/offset-fetch.js';
import { EddyError } from '../../protocol/errors.js';
import { tpKey } from '../../protocol/topic-partition.js';
import { byTopic } from '../groups/coordinator.js';
import { validateGroupId, type GroupState } from '../groups/consumer-group.js';
import { groupLag } from '../groups/group-lag.js';
import { MAX_OFFSET_METADATA_CHARS, type OffsetCommitEntry } from '../groups/offset-store.js';
import { errorFields, NO_ERROR, type BrokerContext } from './context.js';
import type { RequestOrigin } from '../request-origin.js';

export function handleConsumerGroupHeartbeat(req: ConsumerGroupHeartbeatRequest, ctx: BrokerContext, origin: RequestOrigin): Promise<ConsumerGroupHeartbeatResponse> {
  return ctx.groups.heartbeat(req, origin);
}

export async function handleOffsetCommit(req: OffsetCommitRequest, ctx: BrokerContext): Promise<OffsetCommitResponse> {
  validateGroupId(req.groupId);
  ctx.groups.offsets.checkCoordinator(req.groupId);
  type Result = { partition: number; errorCode: number; errorMessage: string | null };
  // One result per request entry (a partition named twice gets an answer for each entry).
  const accepted: { entry: OffsetCommitEntry; result: Result }[] = [];
  const topics = req.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p): Result => {
      try {
        ctx.topics.checkExists(t.name, p.partition); // UNKNOWN_TOPIC_OR_PARTITION (it may be led by another node)
        if (!Number.isSafeInteger(p.committedOffset) || p.committedOffset < 0) {
          throw new EddyError('INVALID_REQUEST', `offset ${p.committedOffset} for ${t.name}-${p.partition} is not a valid offset (must be ≥ 0)`);
        }
        if (p.committedMetadata !== null && p.committedMetadata.length > MAX_OFFSET_METADATA_CHARS) {
          throw new EddyError('OFFSET_METADATA_TOO_LARGE', `metadata for ${t.name}-${p.partition} is ${p.committedMetadata.length} characters; the limit is ${MAX_OFFSET_METADATA_CHARS}`);
        }
        ctx.groups.checkCommit(req.groupId, req.memberId, req.memberEpoch, { topic: t.name, partition: p.partition });
        const result = { partition: p.partition, ...NO_ERROR };
        accepted.push({ entry: { topic: t.name, partition: p.partition, offset: p.committedOffset, metadata: p.committedMetadata }, result });
        return result;
      } catch (err) {
        return { partition: p.partition, ...errorFields(err, ctx, `offset commit of ${t.name}-${p.partition} for group ${req.groupId}`) };
      }
    }),
  }));
  try {
    await ctx.groups.offsets.commit(req.groupId, accepted.map((a) => a.entry));
  } catch (err) {
    const fields = errorFields(err, ctx, `offset commit for group ${req.groupId}`);
    for (const a of accepted) Object.assign(a.result, fields);
  }
  return { topics };
}

export function handleOffsetFetch(req: OffsetFetchRequest, ctx: BrokerContext): OffsetFetchResponse {
  validateGroupId(req.groupId);
  ctx.groups.offsets.checkCoordinator(req.groupId);
  const offsets = ctx.groups.offsets;
  if (req.topics === null) {
    return {
      topics: byTopic(offsets.list(req.groupId)).map(({ topic, partitions }) => ({
        name: topic,
        partitions: partitions.map((partition) => {
          const c = offsets.get(req.groupId, topic, partition)!;
          return { partition, committedOffset: c.offset, metadata: c.metadata, ...NO_ERROR };
        }),
      })),
    };
  }
  return {
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((partition) => {
        const c = offsets.get(req.groupId, t.name, partition);
        if (c) return { partition, committedOffset: c.offset, metadata: c.metadata, ...NO_ERROR };
        try {
          ctx.topics.checkExists(t.name, partition);
          return { partition, committedOffset: -1, metadata: null, ...NO_ERROR };
        } catch (err) {
          return { partition, committedOffset: -1, metadata: null, ...errorFields(err, ctx, `offset fetch of ${t.name}-${partition}`) };
        }
      }),
    })),
  };
}

function stateOf(ctx: BrokerContext, groupId: string): GroupState {
  return ctx.groups.group(groupId)?.state ?? 'empty';
}

export function handleListGroups(req: ListGroupsRequest, ctx: BrokerContext): ListGroupsResponse {
  const wanted = new Set(req.statesFilter.map((s) => s.toLowerCase()));
  return {
    groups: ctx.groups
      .groupIds()
      .map((groupId) => {
        const g = ctx.groups.group(groupId);
        return { groupId, state: stateOf(ctx, groupId), protocolType: 'consumer', members: g?.size ?? 0, assignor: g?.assignorName ?? '' };
      })
      .filter((g) => wanted.size === 0 || wanted.has(g.state)),
  };
}

export function handleConsumerGroupDescribe(req: ConsumerGroupDescribeRequest, ctx: BrokerContext): ConsumerGroupDescribeResponse {
  return {
    groups: req.groupIds.map((groupId) => {
      const empty = { groupId, state: 'dead', groupEpoch: 0, assignmentEpoch: 0, assignor: '', members: [], offsets: [] };
      try {
        validateGroupId(groupId);
        ctx.groups.offsets.checkCoordinator(groupId);
        const group = ctx.groups.group(groupId);
        if (!group && !ctx.groups.offsets.has(groupId)) throw new EddyError('GROUP_ID_NOT_FOUND', `group "${groupId}" does not exist`);
        const members = group?.describe() ?? [];
        const owner = new Map<string, string>();
        for (const m of members) for (const tp of m.owned) owner.set(tpKey(tp.topic, tp.partition), m.memberId);
        // Every partition of a subscribed topic, plus every partition with a commit.
        const partitions = new Map<string, { topic: string; partition: number }>();
        for (const [topic, count] of group?.subscribedTopics() ?? []) {
          for (let p = 0; p < count; p++) partitions.set(tpKey(topic, p), { topic, partition: p });
        }
        for (const c of ctx.groups.offsets.list(groupId)) partitions.set(tpKey(c.topic, c.partition), c);
        const offsets = [...partitions.entries()]
          .sort((a, b) => (a[1].topic < b[1].topic ? -1 : a[1].topic > b[1].topic ? 1 : a[1].partition - b[1].partition))
          .map(([key, { topic, partition }]) => {
            const c = ctx.groups.offsets.get(groupId, topic, partition);
            let logEndOffset = -1;
            let highWatermark = -1;
            try {
              const log = ctx.topics.partition(topic, partition);
              logEndOffset = log.logEndOffset;
              highWatermark = log.highWatermark;
            } catch {
              // topic deleted since, or led by another node: offsets shown without log positions
            }
            const committedOffset = c?.offset ?? -1;
            const lag = groupLag(committedOffset, highWatermark);
            return { topic, partition, committedOffset, metadata: c?.metadata ?? null, logEndOffset, highWatermark, lag, owner: owner.get(key) ?? null };
          });
        return {
          ...NO_ERROR,
          groupId,
          state: group?.state ?? 'empty',
          groupEpoch: group?.groupEpoch ?? 0,
          assignmentEpoch: group?.assignmentEpoch ?? 0,
          assignor: group?.assignorName ?? '',
          members: members.map(({ owned: _owned, ...m }) => ({
            ...m,
            assignment: byTopic(m.assignment),
            targetAssignment: byTopic(m.targetAssignment),
          })),
          offsets,
        };
      } catch (err) {
        return { ...empty, ...errorFields(err, ctx, `describe of group ${groupId}`) };
      }
    }),
  };
}

export async function handleDeleteGroups(req: DeleteGroupsRequest, ctx: BrokerContext): Promise<DeleteGroupsResponse> {
  const results = [];
  for (const groupId of req.groupIds) {
    try {
      await ctx.groups.deleteGroup(groupId);
      results.push({ groupId, ...NO_ERROR });
    } catch (err) {
      results.push({ groupId, ...errorFields(err, ctx, `delete of group ${groupId}`) });
    }
  }
  return { results };
}
