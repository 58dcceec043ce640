/**
 * Where a node's blocks of producer ids come from: the active controller, which commits each
 * block to the metadata log before handing it out (AllocateProducerIds, KIP-730), asked locally
 * when this node is the controller and over the peer link otherwise.
 */
import type { BrokerContext } from '../node/broker/context.js';
import { Apis } from '../protocol/apis/index.js';
import type { AllocateProducerIdsResponse } from '../protocol/apis/allocate-producer-ids.js';
import { EddyError, errorNameForCode } from '../protocol/errors.js';

export async function allocateProducerIds(ctx: BrokerContext, nodeId: number): Promise<{ firstProducerId: number; size: number }> {
  if (ctx.controller.active) return ctx.controller.allocateProducerIds(nodeId, -1);
  const brokerEpoch = ctx.quorum.image.brokers.get(nodeId)?.brokerEpoch ?? -1;
  const r = (await ctx.forward(Apis.AllocateProducerIds.key, { brokerId: nodeId, brokerEpoch })) as AllocateProducerIdsResponse;
  if (r.errorCode !== 0) throw new EddyError(errorNameForCode(r.errorCode), `the controller gave node ${nodeId} no producer ids: ${r.errorMessage ?? 'no reason given'}`);
  return { firstProducerId: Number(r.producerIdStart), size: r.producerIdLen };
}
