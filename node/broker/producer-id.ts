/** InitProducerId: ids and epochs for idempotent producers. */
import type { InitProducerIdRequest, InitProducerIdResponse } from '../../protocol/apis/init-producer-id.js';
import { EddyError } from '../../protocol/errors.js';
import type { BrokerContext } from './context.js';

export async function handleInitProducerId(req: InitProducerIdRequest, ctx: BrokerContext): Promise<InitProducerIdResponse> {
  if (req.transactionalId !== null) {
    throw new EddyError('INVALID_REQUEST', `transactions are not supported (transactionalId "${req.transactionalId}"); use an idempotent producer without one`);
  }
  if (req.producerId < 0) return ctx.producerIds.newProducer();
  if (req.producerEpoch < 0) throw new EddyError('INVALID_REQUEST', `producer ${req.producerId} given without its epoch`);
  return ctx.producerIds.bumpEpoch(req.producerId, req.producerEpoch);
}
