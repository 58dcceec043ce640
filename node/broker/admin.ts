/** Metadata, topic administration, offsets by time, configs and log sizes. */
import { EddyError } from '../../protocol/errors.js';
import { Apis } from '../../protocol/apis/index.js';
import type { ApiVersionsResponse } from '../../protocol/apis/api-versions.js';
import type { CreateTopicsRequest, CreateTopicsResponse } from '../../protocol/apis/create-topics.js';
import type { DeleteTopicsRequest, DeleteTopicsResponse } from '../../protocol/apis/delete-topics.js';
import type { DescribeConfigsRequest, DescribeConfigsResponse } from '../../protocol/apis/describe-configs.js';
import type { DescribeLogDirsRequest, DescribeLogDirsResponse } from '../../protocol/apis/describe-log-dirs.js';
import { EARLIEST_TIMESTAMP, LATEST_TIMESTAMP, type ListOffsetsRequest, type ListOffsetsResponse } from '../../protocol/apis/list-offsets.js';
import type { MetadataRequest, MetadataResponse } from '../../protocol/apis/metadata.js';
import { describeTopicConfig } from '../topics/topic-config.js';
import { isInternalTopic } from '../topics/topic-name.js';
import { errorFields, NO_ERROR, type BrokerContext } from './context.js';

/** The APIs this node answers (`served`): the table also holds APIs whose handlers come later. */
export function handleApiVersions(served: (apiKey: number) => boolean): ApiVersionsResponse {
  return { apiKeys: Object.values(Apis).filter((a) => served(a.key)).map((a) => ({ apiKey: a.key, minVersion: 0, maxVersion: a.versions.length - 1 })) };
}

export function handleMetadata(req: MetadataRequest, ctx: BrokerContext): MetadataResponse {
  const names = req.topics ?? ctx.topics.list().map((t) => t.name);
  return {
    brokers: [{ nodeId: ctx.nodeId, host: ctx.advertisedHost, port: ctx.advertisedPort }],
    controllerId: ctx.nodeId,
    topics: names.map((name) => {
      const info = ctx.topics.get(name);
      if (!info) {
        return {
          ...errorFields(new EddyError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist`), ctx, ''),
          name,
          isInternal: false,
          partitions: [],
        };
      }
      return {
        ...NO_ERROR,
        name,
        isInternal: info.internal,
        partitions: Array.from({ length: info.partitions }, (_, partition) => ({
          errorCode: 0,
          partition,
          leader: ctx.nodeId,
          leaderEpoch: 0,
          replicas: [ctx.nodeId],
          isr: [ctx.nodeId],
        })),
      };
    }),
  };
}

export async function handleCreateTopics(req: CreateTopicsRequest, ctx: BrokerContext): Promise<CreateTopicsResponse> {
  const topics: CreateTopicsResponse['topics'] = [];
  for (const t of req.topics) {
    try {
      const configs: Record<string, string> = {};
      for (const c of t.configs) configs[c.name] = c.value;
      await ctx.topics.create(
        { name: t.name, partitions: t.numPartitions, replicationFactor: t.replicationFactor, configs },
        { validateOnly: req.validateOnly },
      );
      topics.push({ name: t.name, ...NO_ERROR });
    } catch (err) {
      topics.push({ name: t.name, ...errorFields(err, ctx, `create topic ${t.name}`) });
    }
  }
  return { topics };
}

export async function handleDeleteTopics(req: DeleteTopicsRequest, ctx: BrokerContext): Promise<DeleteTopicsResponse> {
  const topics: DeleteTopicsResponse['topics'] = [];
  for (const name of req.names) {
    try {
      if (isInternalTopic(name) && ctx.topics.get(name)) {
        throw new EddyError('INVALID_TOPIC_EXCEPTION', `"${name}" is an internal topic and cannot be deleted (it holds consumer group offsets)`);
      }
      await ctx.topics.delete(name);
      topics.push({ name, ...NO_ERROR });
    } catch (err) {
      topics.push({ name, ...errorFields(err, ctx, `delete topic ${name}`) });
    }
  }
  return { topics };
}

export function handleListOffsets(req: ListOffsetsRequest, ctx: BrokerContext): ListOffsetsResponse {
  return {
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        try {
          const log = ctx.topics.partition(t.name, p.partition);
          if (p.timestamp === LATEST_TIMESTAMP) return { partition: p.partition, ...NO_ERROR, timestamp: -1, offset: log.highWatermark };
          if (p.timestamp === EARLIEST_TIMESTAMP) return { partition: p.partition, ...NO_ERROR, timestamp: -1, offset: log.logStartOffset };
          if (p.timestamp < 0) throw new EddyError('INVALID_REQUEST', `timestamp ${p.timestamp}: use -1 (latest), -2 (earliest) or a time in ms`);
          const found = log.offsetForTimestamp(p.timestamp);
          return { partition: p.partition, ...NO_ERROR, timestamp: found?.timestamp ?? -1, offset: found?.offset ?? -1 };
        } catch (err) {
          return { partition: p.partition, ...errorFields(err, ctx, `list offsets of ${t.name}-${p.partition}`), timestamp: -1, offset: -1 };
        }
      }),
    })),
  };
}

export function handleDescribeConfigs(req: DescribeConfigsRequest, ctx: BrokerContext): DescribeConfigsResponse {
  return {
    topics: req.topics.map((t) => {
      const info = ctx.topics.get(t.name);
      if (!info) {
        return { name: t.name, ...errorFields(new EddyError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${t.name}" does not exist`), ctx, ''), configs: [] };
      }
      const all = describeTopicConfig(info.configs);
      return { name: t.name, ...NO_ERROR, configs: t.configNames ? all.filter((c) => t.configNames!.includes(c.name)) : all };
    }),
  };
}

export function handleDescribeLogDirs(req: DescribeLogDirsRequest, ctx: BrokerContext): DescribeLogDirsResponse {
  const names = req.topics ?? ctx.topics.list().map((t) => t.name);
  return {
    logDir: ctx.logDir,
    topics: names.map((name) => {
      const info = ctx.topics.get(name);
      if (!info) {
        return { name, ...errorFields(new EddyError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist`), ctx, ''), partitions: [] };
      }
      return {
        name,
        ...NO_ERROR,
        partitions: Array.from({ length: info.partitions }, (_, partition) => {
          const log = ctx.topics.partition(name, partition);
          return {
            partition,
            sizeBytes: log.sizeBytes,
            logStartOffset: log.logStartOffset,
            logEndOffset: log.logEndOffset,
            highWatermark: log.highWatermark,
          };
        }),
      };
    }),
  };
}
