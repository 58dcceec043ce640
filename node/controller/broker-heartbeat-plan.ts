/**
 * What a broker sends the active controller next (Kafka's BrokerLifecycleManager, as a pure
 * function): nothing while no controller is known, a registration while it has no broker epoch
 * (or its registration is gone from the image: another incarnation, another epoch, or none),
 * else a heartbeat. On the controller itself nothing goes over the wire: it decides for itself.
 */
import type { MetadataImage } from './metadata/index.js';

export type NextBrokerRequest =
  | { kind: 'wait'; reason: string }
  | { kind: 'self' }
  | { kind: 'register'; to: number }
  | { kind: 'heartbeat'; to: number; brokerEpoch: number; currentMetadataOffset: number; wantFence: boolean };

export interface BrokerPlanInput {
  nodeId: number;
  incarnationId: string;
  /** The quorum leader as this node knows it: the active controller. */
  leaderId: number | null;
  /** The epoch the controller gave this process's registration, or null before (or after it was lost). */
  brokerEpoch: number | null;
  /** This node's applied metadata image. */
  image: MetadataImage;
  /** Controlled shutdown: ask to be fenced. */
  wantFence: boolean;
}

export function nextBrokerRequest(s: BrokerPlanInput): NextBrokerRequest {
  if (s.leaderId === null) return { kind: 'wait', reason: 'no active controller is known' };
  if (s.leaderId === s.nodeId) return { kind: 'self' };
  if (s.brokerEpoch === null || registrationGone(s.image, s.nodeId, s.incarnationId, s.brokerEpoch)) return { kind: 'register', to: s.leaderId };
  return { kind: 'heartbeat', to: s.leaderId, brokerEpoch: s.brokerEpoch, currentMetadataOffset: s.image.lastOffset, wantFence: s.wantFence };
}

/**
 * Whether the image, once it holds the registration's record (offset = brokerEpoch), no longer
 * shows it: the registration was lost with a controller change, or replaced. Before the image
 * gets there it cannot tell.
 */
export function registrationGone(image: MetadataImage, nodeId: number, incarnationId: string, brokerEpoch: number): boolean {
  if (image.lastOffset < brokerEpoch) return false;
  const b = image.brokers.get(nodeId);
  return !b || b.incarnationId !== incarnationId || b.brokerEpoch !== brokerEpoch;
}

/** Errors of a heartbeat after which the broker must register again. */
export const REGISTER_AGAIN: ReadonlySet<string> = new Set(['STALE_BROKER_EPOCH', 'BROKER_ID_NOT_REGISTERED']);
