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
  // A block of producer ids for the asking node, from the active controller (KIP-730).
  handlers.set(Apis.AllocateProducerIds.key, async (request, ctx): Promise<AllocateProducerIdsResponse> => {
    const r = request as AllocateProducerIdsRequest;
    await broker.whenReady();
    try {
      if (r.brokerId !== ctx.peerNodeId) throw new EddyError('INVALID_REQUEST', `node ${ctx.peerNodeId} asked for producer ids for node ${r.brokerId}; a node asks for its own`);
      const block = await broker.ctx.controller.allocateProducerIds(r.brokerId, Number(r.brokerEpoch));
      return { errorCode: 0, errorMessage: null, producerIdStart: block.firstProducerId, producerIdLen: block.size };
    } catch (err) {
      if (!isEddyError(err)) throw err;
      return { errorCode: err.code, errorMessage: err.detail, producerIdStart: -1, producerIdLen: 0 };
    }
  });
  // A partition leader's ISR change (KIP-497), for the active controller to decide.
  handlers.set(Apis.AlterPartition.key, async (request, ctx): Promise<AlterPartitionResponse> => {
    const r = request as AlterPartitionRequest;
    await broker.whenReady();
    try {
      if (r.brokerId !== ctx.peerNodeId) throw new EddyError('INVALID_REQUEST', `node ${ctx.peerNodeId} cannot change the ISR as node ${r.brokerId}`);
      return await broker.ctx.controller.alterPartition(r);
    } catch (err) {
      if (!isEddyError(err)) throw err;
      return { errorCode: err.code, errorMessage: err.detail, topics: [] };
    }
  });
  const starting = { errorCode: ERRORS.NOT_CONTROLLER.code, errorMessage: 'this node is still starting' };
  handlers.set(Apis.BrokerRegistration.key, async (request, ctx) => brokers()?.register(request as BrokerRegistrationRequest, ctx.peerNodeId) ?? { ...starting, brokerEpoch: -1 });
  handlers.set(Apis.BrokerHeartbeat.key, async (request, ctx) =>
    brokers()?.heartbeat(request as BrokerHeartbeatRequest, ctx.peerNodeId) ?? { ...starting, isCaughtUp: false, isFenced: true, shouldShutDown: false });
  for (const key of FORWARDED) {
    handlers.set(key, (request, ctx) => broker.handle(key, request, { clientId: `node-${ctx.peerNodeId}`, clientHost: 'peer-link', peerNodeId: ctx.peerNodeId, signal: ctx.signal }));
  }
  return handlers;
}
