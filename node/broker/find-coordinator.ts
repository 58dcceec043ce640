/**
 * FindCoordinator (Kafka key 10): which node coordinates a consumer group. As in Kafka, the
 * coordinator is the leader of the `__consumer_offsets` partition that holds the group's commits
 * (OffsetStore.partitionFor), so a group's members and its committed offsets meet on one node.
 */
import { CoordinatorKeyType, type FindCoordinatorRequest, type FindCoordinatorResponse } from '../../protocol/apis/find-coordinator.js';
import { EddyError } from '../../protocol/errors.js';
import { validateGroupId } from '../groups/group-limits.js';
import { errorFields, NO_ERROR, type BrokerContext } from './context.js';

const NO_NODE = { nodeId: -1, host: '', port: -1 } as const;

export function handleFindCoordinator(req: FindCoordinatorRequest, ctx: BrokerContext): FindCoordinatorResponse {
  try {
    if (req.keyType !== CoordinatorKeyType.GROUP) {
      throw new EddyError('INVALID_REQUEST', `FindCoordinator keyType ${req.keyType} is not supported: Eddy coordinates consumer groups only (keyType 0)`);
    }
    validateGroupId(req.key);
    // Every partition, __consumer_offsets included, is led by this node until partitions are
    // spread over a cluster's nodes; then this answers the leader of groups.offsets.partitionFor.
    ctx.groups.offsets.partitionFor(req.key);
    return { ...NO_ERROR, nodeId: ctx.nodeId, host: ctx.advertisedHost, port: ctx.advertisedPort };
  } catch (err) {
    return { ...errorFields(err, ctx, `find the coordinator of group ${req.key}`), ...NO_NODE };
  }
}
