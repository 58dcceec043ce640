/**
 * Admin writes (CreateTopics, DeleteTopics, CreatePartitions, IncrementalAlterConfigs) are the
 * active controller's to decide. A client's request that reaches any other node is forwarded to
 * the controller over the peer link (Kafka's forwarding, KIP-590) and answered with the
 * controller's answer, once this node has applied the change (bounded wait), so a client that
 * creates a topic and then asks this node's Metadata finds it. A request that came from a peer is
 * decided here or refused with NOT_CONTROLLER, never forwarded again (no loops).
 */
import type { MetadataImage } from '../controller/metadata/index.js';
import type { RequestOrigin } from '../request-origin.js';
import type { BrokerContext } from './context.js';

/** How long a forwarded write waits for this node to apply what the controller committed. */
const APPLY_WAIT_MS = 5_000;

export interface ControllerRequest<Res> {
  /** Decides on this node: it is the active controller (or the request came from a peer). */
  local(): Promise<Res>;
  /** The answer when forwarding failed: every item with the error (NOT_CONTROLLER, a timeout...). */
  failed(err: unknown): Res;
  /** Given the controller's answer, when this node's image shows it. */
  applied?(res: Res): (image: MetadataImage) => boolean;
}

export async function viaController<Res>(ctx: BrokerContext, origin: RequestOrigin, apiKey: number, request: unknown, r: ControllerRequest<Res>): Promise<Res> {
  if (origin.peerNodeId !== undefined || ctx.controller.active) return r.local();
  let res: Res;
  try {
    res = (await ctx.forward(apiKey, request)) as Res;
  } catch (err) {
    return r.failed(err);
  }
  if (r.applied) {
    await ctx.publisher.waitUntil(r.applied(res), APPLY_WAIT_MS, 'the forwarded admin change').catch((err: Error) => {
      ctx.logger.warn({ err, apiKey }, `${err.message}: answering anyway (the change is committed; this node applies it late)`);
    });
  }
  return res;
}
