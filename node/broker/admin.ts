/** Metadata, topic administration, offsets by time, configs and log sizes. */
import { EddyError, ERRORS } from '../../protocol/errors.js';
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
import { NO_LEADER, sortedPartitions, sortedTopics, topicByName } from '../controller/metadata/index.js';
import { aliveBrokerAddresses } from './broker-addresses.js';
import type { RequestOrigin } from '../request-origin.js';
import { errorFields, NO_ERROR, type BrokerContext } from './context.js';
import { viaController } from './controller-requests.js';

/** The APIs this node answers (`served`): the table also holds APIs whose handlers come later. */
export function handleApiVersions(served: (apiKey: number) => boolean): ApiVersionsResponse {
  return { apiKeys: Object.values(Apis).filter((a) => served(a.key)).map((a) => ({ apiKey: a.key, minVersion: 0, maxVersion: a.versions.length - 1 })) };
}

/**
 * Metadata from this node's image of the cluster metadata: the live brokers, the active
 * controller (-1 while there is none) and every partition's leader, replicas and ISR. A
 * partition with no leader answers LEADER_NOT_AVAILABLE (retriable). Until this node has
 * registered, it lists itself so a client can always reach the node it asked.
 */
export function handleMetadata(req: MetadataRequest, ctx: BrokerContext): MetadataResponse {
  const image = ctx.quorum.image;
  const names = req.topics ?? sortedTopics(image).map((t) => t.name);
  const brokers = aliveBrokerAddresses(image);
  if (!brokers.some((b) => b.nodeId === ctx.nodeId)) brokers.push({ nodeId: ctx.nodeId, host: ctx.advertisedHost, port: ctx.advertisedPort });
  return {
    brokers: brokers.sort((a, b) => a.nodeId - b.nodeId),
    controllerId: ctx.quorum.leaderId ?? -1,
    topics: names.map((name) => {
      const info = topicByName(image, name);
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
        isInternal: isInternalTopic(name),
        partitions: sortedPartitions(info).map((p) => ({
          errorCode: p.leader === NO_LEADER ? ERRORS.LEADER_NOT_AVAILABLE.code : 0,
          partition: p.partitionId,
          leader: p.leader,
          leaderEpoch: p.leaderEpoch,
          replicas: [...p.replicas],
          isr: [...p.isr],
        })),
      };
    }),
  };
}

export function handleCreateTopics(req: CreateTopicsRequest, ctx: BrokerContext, origin: RequestOrigin): Promise<CreateTopicsResponse> {
  return viaController(ctx, origin, Apis.CreateTopics.key, req, {
    async local() {
      const topics: CreateTopicsResponse['topics'] = [];
      for (const t of req.topics) {
        try {
          const configs: Record<string, string> = {};
          for (const c of t.configs) configs[c.name] = c.value;
          await ctx.controller.createTopic(
            { name: t.name, partitions: t.numPartitions, replicationFactor: t.replicationFactor, configs },
            // Internal topics (__consumer_offsets) are created by nodes only: the request came over a peer link.
            { validateOnly: req.validateOnly, internal: origin.peerNodeId !== undefined && isInternalTopic(t.name) },
          );
          topics.push({ name: t.name, ...NO_ERROR });
        } catch (err) {
          topics.push({ name: t.name, ...errorFields(err, ctx, `create topic ${t.name}`) });
        }
      }
      return { topics };
    },
    failed: (err) => ({ topics: req.topics.map((t) => ({ name: t.name, ...errorFields(err, ctx, `create topic ${t.name}`) })) }),
    applied: (res) => (image) => req.validateOnly || res.topics.every((t) => t.errorCode !== 0 || topicByName(image, t.name) !== undefined),
  });
}

export function handleDeleteTopics(req: DeleteTopicsRequest, ctx: BrokerContext, origin: RequestOrigin): Promise<DeleteTopicsResponse> {
  return viaController(ctx, origin, Apis.DeleteTopics.key, req, {
    async local() {
      const topics: DeleteTopicsResponse['topics'] = [];
      for (const name of req.names) {
        try {
          await ctx.controller.deleteTopic(name); // refuses internal topics (INVALID_TOPIC_EXCEPTION)
          topics.push({ name, ...NO_ERROR });
        } catch (err) {
          topics.push({ name, ...errorFields(err, ctx, `delete topic ${name}`) });
        }
      }
      return { topics };
    },
    failed: (err) => ({ topics: req.names.map((name) => ({ name, ...errorFields(err, ctx, `delete topic ${name}`) })) }),
    applied: (res) => (image) => res.topics.every((t) => t.errorCode !== 0 || topicByName(image, t.name) === undefined),
  });
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
        // This node's log dir: the partitions it holds (Kafka's DescribeLogDirs is per broker too).
        partitions: ctx.topics.localLogs(name).map(({ partition, log }) => {
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
