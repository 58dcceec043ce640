/**
 * Topics the node creates by itself, through the active controller like any client's.
 *
 * `__consumer_offsets` is created on the first use of consumer groups (a FindCoordinator), as in
 * Kafka, so its partitions are spread over the brokers alive by then. A one-node cluster creates
 * it at start (startNode). One creation is in flight at a time.
 */
import { Apis } from '../../protocol/apis/index.js';
import { EddyError, errorNameForCode, isEddyError } from '../../protocol/errors.js';
import { OFFSETS_TOPIC_SPEC } from '../groups/offset-store.js';
import type { BrokerContext } from './context.js';
import { handleCreateTopics } from './admin.js';

const inFlight = new WeakMap<BrokerContext, Promise<void>>();

/** Asks the active controller (here, or over the peer link) to create the offsets topic; never rejects. */
export function ensureOffsetsTopic(ctx: BrokerContext): Promise<void> {
  const running = inFlight.get(ctx);
  if (running) return running;
  const spec = OFFSETS_TOPIC_SPEC;
  const run = createTopicThroughController(ctx, { ...spec, configs: { ...spec.configs } }, { internal: true })
    .catch((err: Error) => {
      if (isEddyError(err, 'TOPIC_ALREADY_EXISTS')) return;
      ctx.logger.warn({ err }, `could not create ${spec.name} yet: ${err.message}; consumer groups wait for it (retried on the next FindCoordinator)`);
    })
    .finally(() => inFlight.delete(ctx));
  inFlight.set(ctx, run);
  return run;
}

/**
 * Creates a topic as a client's CreateTopics would (decided by the active controller, here or
 * forwarded), for the node's own callers (MQTT auto-create, the offsets topic). Throws the
 * topic's coded error. `internal`: an internal ("__") topic, which only nodes may create: sent
 * as this node's own peer request, so that the controller allows it.
 */
export async function createTopicThroughController(
  ctx: BrokerContext,
  spec: { name: string; partitions: number; replicationFactor: number; configs?: Record<string, string> },
  opts: { internal?: boolean } = {},
): Promise<void> {
  const request = {
    topics: [{ name: spec.name, numPartitions: spec.partitions, replicationFactor: spec.replicationFactor, configs: Object.entries(spec.configs ?? {}).map(([name, value]) => ({ name, value })) }],
    timeoutMs: 5000,
    validateOnly: false,
  };
  type Res = Awaited<ReturnType<typeof handleCreateTopics>>;
  // A peer's request is decided where it arrives, never forwarded again: so an internal one is
  // decided here when this node is the controller, and sent to the controller otherwise.
  const res: Res = !opts.internal
    ? await handleCreateTopics(request, ctx, { clientId: 'eddy-node', clientHost: 'local' })
    : ctx.controller.active
      ? await handleCreateTopics(request, ctx, { clientId: 'eddy-node', clientHost: 'local', peerNodeId: ctx.nodeId })
      : ((await ctx.forward(Apis.CreateTopics.key, request)) as Res);
  const t = res.topics[0]!;
  if (t.errorCode !== 0) throw new EddyError(errorNameForCode(t.errorCode), t.errorMessage ?? `could not create topic ${spec.name}`);
}
