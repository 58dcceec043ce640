/**
 * The peer APIs a node serves: the metadata quorum's (Vote, Fetch, ...), the admin writes other
 * nodes forward to it as the active controller, and Produce of the MQTT records they received for
 * partitions this node leads. These go to the broker as the peer's own requests
 * (origin.peerNodeId set: decided here, never forwarded on).
 */
import type { PeerRequestHandler } from '../gateway/peer-server.js';
import type { Broker } from '../node/broker/broker.js';
import { Apis } from '../protocol/apis/index.js';
import type { AllocateProducerIdsRequest, AllocateProducerIdsResponse } from '../protocol/apis/allocate-producer-ids.js';
import type { AlterPartitionRequest, AlterPartitionResponse } from '../protocol/apis/alter-partition.js';
import { EddyError, ERRORS, isEddyError } from '../protocol/errors.js';
import type { BrokerHeartbeatRequest } from '../protocol/apis/broker-heartbeat.js';
import type { BrokerRegistrationRequest } from '../protocol/apis/broker-registration.js';
import type { BrokerController } from './broker-controller.js';

const FORWARDED = [Apis.Produce.key, Apis.CreateTopics.key, Apis.DeleteTopics.key, Apis.CreatePartitions.key, Apis.IncrementalAlterConfigs.key];

/**
 * `brokers` is the node's BrokerController once the metadata quorum is open (the peer server
 * starts before it): until then BrokerRegistration and BrokerHeartbeat are answered
 * NOT_CONTROLLER and the peer retries.
 */
export function nodePeerHandlers(quorum: Map<number, PeerRequestHandler>, broker: Broker, brokers: () => BrokerController | undefined = () => undefined): Map<number, PeerRequestHandler> {
  const handlers = new Map(quorum);
  /**
   * A request the active controller decides for the asking node itself (a node speaks only for
   * its own id); its coded refusals, NOT_CONTROLLER included, go in the answer's errorCode.
   */
  const forOwnNode = <Req extends { brokerId: number }, Res>(key: number, what: string, decide: (r: Req) => Promise<Res>, refused: (err: EddyError) => Res): void => {
    handlers.set(key, async (request, ctx): Promise<Res> => {
      const r = request as Req;
      await broker.whenReady();
      try {
        if (r.brokerId !== ctx.peerNodeId) throw new EddyError('INVALID_REQUEST', `node ${ctx.peerNodeId} cannot ${what} as node ${r.brokerId}; a node speaks for itself`);
        return await decide(r);
      } catch (err) {
        if (!isEddyError(err)) throw err;
        return refused(err);
      }
    });
  };
  // A block of producer ids (KIP-730).
  forOwnNode<AllocateProducerIdsRequest, AllocateProducerIdsResponse>(
    Apis.AllocateProducerIds.key,
    'ask for producer ids',
    async (r) => {
      const block = await broker.ctx.controller.allocateProducerIds(r.brokerId, Number(r.brokerEpoch));
      return { errorCode: 0, errorMessage: null, producerIdStart: block.firstProducerId, producerIdLen: block.size };
    },
    (err) => ({ errorCode: err.code, errorMessage: err.detail, producerIdStart: -1, producerIdLen: 0 }),
  );
  // A partition leader's ISR change (KIP-497).
  forOwnNode<AlterPartitionRequest, AlterPartitionResponse>(
    Apis.AlterPartition.key,
    'change the ISR',
    (r) => broker.ctx.controller.alterPartition(r),
    (err) => ({ errorCode: err.code, errorMessage: err.detail, topics: [] }),
  );
  const starting = { errorCode: ERRORS.NOT_CONTROLLER.code, errorMessage: 'this node is still starting' };
  handlers.set(Apis.BrokerRegistration.key, async (request, ctx) => brokers()?.register(request as BrokerRegistrationRequest, ctx.peerNodeId) ?? { ...starting, brokerEpoch: -1 });
  handlers.set(Apis.BrokerHeartbeat.key, async (request, ctx) =>
    brokers()?.heartbeat(request as BrokerHeartbeatRequest, ctx.peerNodeId) ?? { ...starting, isCaughtUp: false, isFenced: true, shouldShutDown: false });
  for (const key of FORWARDED) {
    handlers.set(key, (request, ctx) => broker.handle(key, request, { clientId: `node-${ctx.peerNodeId}`, clientHost: 'peer-link', peerNodeId: ctx.peerNodeId, signal: ctx.signal }));
  }
  return handlers;
}
