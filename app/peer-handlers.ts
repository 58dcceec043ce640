/**
 * The peer APIs a node serves: the metadata quorum's (Vote, Fetch, ...), the admin writes other
 * nodes forward to it as the active controller, and Produce of the MQTT records they received for
 * partitions this node leads. These go to the broker as the peer's own requests
 * (origin.peerNodeId set: decided here, never forwarded on).
 */
import type { PeerRequestHandler } from '../gateway/peer-server.js';
import type { Broker } from '../node/broker/broker.js';
import { Apis } from '../protocol/apis/index.js';

const FORWARDED = [Apis.Produce.key, Apis.CreateTopics.key, Apis.DeleteTopics.key, Apis.CreatePartitions.key, Apis.IncrementalAlterConfigs.key];

export function nodePeerHandlers(quorum: Map<number, PeerRequestHandler>, broker: Broker): Map<number, PeerRequestHandler> {
  const handlers = new Map(quorum);
  for (const key of FORWARDED) {
    handlers.set(key, (request, ctx) => broker.handle(key, request, { clientId: `node-${ctx.peerNodeId}`, clientHost: 'peer-link', peerNodeId: ctx.peerNodeId, signal: ctx.signal }));
  }
  return handlers;
}
