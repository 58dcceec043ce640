/** Changing existing topics: IncrementalAlterConfigs and CreatePartitions. */
import { EddyError } from '../../protocol/errors.js';
import type { CreatePartitionsRequest, CreatePartitionsResponse } from '../../protocol/apis/create-partitions.js';
import {
  ConfigOperation,
  type IncrementalAlterConfigsRequest,
  type IncrementalAlterConfigsResponse,
} from '../../protocol/apis/incremental-alter-configs.js';
import type { TopicConfigChanges } from '../topics/topic-config.js';
import { Apis } from '../../protocol/apis/index.js';
import { topicByName } from '../controller/metadata/index.js';
import type { RequestOrigin } from '../request-origin.js';
import { errorFields, NO_ERROR, type BrokerContext } from './context.js';
import { viaController } from './controller-requests.js';

type ConfigOps = IncrementalAlterConfigsRequest['topics'][number]['configs'];

/** The wire's list of operations as sets and deletes; a config named twice is a bad request (as in Kafka). */
export function configChangesOf(ops: ConfigOps): TopicConfigChanges {
  const set: Record<string, string> = {};
  const del: string[] = [];
  const seen = new Set<string>();
  for (const op of ops) {
    if (seen.has(op.name)) throw new EddyError('INVALID_REQUEST', `config ${op.name} appears more than once; name each config once per topic`);
    seen.add(op.name);
    switch (op.operation) {
      case ConfigOperation.SET:
        if (op.value === null) throw new EddyError('INVALID_CONFIG', `${op.name}: SET needs a value; use DELETE (1) to revert to the default`);
        set[op.name] = op.value;
        break;
      case ConfigOperation.DELETE:
        del.push(op.name);
        break;
      case ConfigOperation.APPEND:
      case ConfigOperation.SUBTRACT:
        throw new EddyError('INVALID_CONFIG', `${op.name}: APPEND and SUBTRACT apply to list configs, and Eddy has none; use SET (0) or DELETE (1)`);
      default:
        throw new EddyError('INVALID_REQUEST', `${op.name}: unknown config operation ${op.operation}; use SET (0) or DELETE (1)`);
    }
  }
  return { set, delete: del };
}

export function handleIncrementalAlterConfigs(req: IncrementalAlterConfigsRequest, ctx: BrokerContext, origin: RequestOrigin): Promise<IncrementalAlterConfigsResponse> {
  return viaController(ctx, origin, Apis.IncrementalAlterConfigs.key, req, {
    async local() {
      const topics: IncrementalAlterConfigsResponse['topics'] = [];
      for (const t of req.topics) {
        try {
          await ctx.controller.alterConfigs(t.name, configChangesOf(t.configs), { validateOnly: req.validateOnly });
          topics.push({ name: t.name, ...NO_ERROR });
        } catch (err) {
          topics.push({ name: t.name, ...errorFields(err, ctx, `alter configs of topic ${t.name}`) });
        }
      }
      return { topics };
    },
    // Not waited for here: a config change takes effect on each partition's leader as it applies it.
    failed: (err) => ({ topics: req.topics.map((t) => ({ name: t.name, ...errorFields(err, ctx, `alter configs of topic ${t.name}`) })) }),
  });
}

export function handleCreatePartitions(req: CreatePartitionsRequest, ctx: BrokerContext, origin: RequestOrigin): Promise<CreatePartitionsResponse> {
  return viaController(ctx, origin, Apis.CreatePartitions.key, req, {
    async local() {
      const topics: CreatePartitionsResponse['topics'] = [];
      const seen = new Set<string>();
      for (const t of req.topics) {
        try {
          if (seen.has(t.name)) throw new EddyError('INVALID_REQUEST', `topic ${t.name} appears more than once; name each topic once`);
          seen.add(t.name);
          await ctx.controller.createPartitions(t.name, t.count, { validateOnly: req.validateOnly });
          topics.push({ name: t.name, ...NO_ERROR });
        } catch (err) {
          topics.push({ name: t.name, ...errorFields(err, ctx, `create partitions of topic ${t.name}`) });
        }
      }
      return { topics };
    },
    failed: (err) => ({ topics: req.topics.map((t) => ({ name: t.name, ...errorFields(err, ctx, `create partitions of topic ${t.name}`) })) }),
    applied: (res) => (image) =>
      req.validateOnly || res.topics.every((t) => t.errorCode !== 0 || (topicByName(image, t.name)?.partitions.size ?? 0) >= (req.topics.find((r) => r.name === t.name)?.count ?? 0)),
  });
}
