/**
 * The peer APIs a node serves: the metadata quorum's (Vote, Fetch, ...) and the admin writes
 * other nodes forward to it as the active controller, which go to the broker as the peer's own
 * requests (origin.peerNodeId set: decided here, never forwarded on).
 */
import type { PeerRequestHandler } from '../gateway/peer-server.js';
import type { Broker } from '../node/broker/broker.js';
import { Apis } from '../protocol/apis/index.js';
import type { BrokerHeartbeatRequest } from '../protocol/apis/broker-heartbeat.js';
import type { BrokerRegistrationRequest } from '../protocol/apis/broker-registration.js';
import { ERRORS } from '../protocol/errors.js';
import type { BrokerController } from './broker-controller.js';

const FORWARDED = [Apis.CreateTopics.key, Apis.DeleteTopics.key, Apis.CreatePartitions.key, Apis.IncrementalAlterConfigs.key];

/**
 * `brokers` is the node's BrokerController once the metadata quorum is open (the peer server
 * starts before it): until then BrokerRegistration and BrokerHeartbeat are answered
 * NOT_CONTROLLER and the peer retries.
 */
export function nodePeerHandlers(quorum: Map<number, PeerRequestHandler>, broker: Broker, brokers: () => BrokerController | undefined = () => undefined): Map<number, PeerRequestHandler> {
  const handlers = new Map(quorum);
  const starting = { errorCode: ERRORS.NOT_CONTROLLER.code, errorMessage: 'this node is still starting' };
  handlers.set(Apis.BrokerRegistration.key, async (request, ctx) => brokers()?.register(request as BrokerRegistrationRequest, ctx.peerNodeId) ?? { ...starting, brokerEpoch: -1 });
  handlers.set(Apis.BrokerHeartbeat.key, async (request, ctx) =>
    brokers()?.heartbeat(request as BrokerHeartbeatRequest, ctx.peerNodeId) ?? { ...starting, isCaughtUp: false, isFenced: true, shouldShutDown: false });
  for (const key of FORWARDED) {
    handlers.set(key, (request, ctx) => broker.handle(key, request, { clientId: `node-${ctx.peerNodeId}`, clientHost: 'peer-link', peerNodeId: ctx.peerNodeId, signal: ctx.signal }));
  }
  return handlers;
}
