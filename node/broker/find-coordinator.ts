/**
 * FindCoordinator (Kafka key 10): which node coordinates a consumer group. As in Kafka, the
 * coordinator is the leader of the `__consumer_offsets` partition that holds the group's commits
 * (OffsetStore.partitionFor), so a group's members and its committed offsets meet on one node.
 * Before that topic exists the first FindCoordinator asks the controller to create it and
 * answers COORDINATOR_NOT_AVAILABLE (retriable), as Kafka does.
 */
import { CoordinatorKeyType, type FindCoordinatorRequest, type FindCoordinatorResponse } from '../../protocol/apis/find-coordinator.js';
import { EddyError } from '../../protocol/errors.js';
import { partitionOf } from '../controller/metadata/index.js';
import { validateGroupId } from '../groups/group-limits.js';
import { OFFSETS_TOPIC } from '../groups/offset-store.js';
import { brokerAddress } from './broker-addresses.js';
import { errorFields, NO_ERROR, type BrokerContext } from './context.js';
import { ensureOffsetsTopic } from './node-topics.js';

const NO_NODE = { nodeId: -1, host: '', port: -1 } as const;

export function handleFindCoordinator(req: FindCoordinatorRequest, ctx: BrokerContext): FindCoordinatorResponse {
  try {
    if (req.keyType !== CoordinatorKeyType.GROUP) {
      throw new EddyError('INVALID_REQUEST', `FindCoordinator keyType ${req.keyType} is not supported: Eddy coordinates consumer groups only (keyType 0)`);
    }
    validateGroupId(req.key);
    if (!ctx.topics.get(OFFSETS_TOPIC)) {
      ensureOffsetsTopic(ctx);
      throw new EddyError('COORDINATOR_NOT_AVAILABLE', `${OFFSETS_TOPIC} is being created (first use of consumer groups in this cluster); retry shortly`);
    }
    const p = ctx.groups.offsets.partitionFor(req.key);
    const leader = partitionOf(ctx.quorum.image, OFFSETS_TOPIC, p)?.leader ?? -1;
    const address = leader >= 0 ? brokerAddress(ctx.quorum.image, leader) : null;
    if (!address) throw new EddyError('COORDINATOR_NOT_AVAILABLE', `${OFFSETS_TOPIC}-${p}, which holds group "${req.key}", has no leader now (its node is down or fenced); retry shortly`);
    return { ...NO_ERROR, ...address };
  } catch (err) {
    return { ...errorFields(err, ctx, `find the coordinator of group ${req.key}`), ...NO_NODE };
  }
}
