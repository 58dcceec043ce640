import { ERRORS, isEddyError } from '../../protocol/errors.js';
import type { ActiveController } from '../controller/active-controller.js';
import type { MetadataPublisher } from '../controller/metadata-publisher.js';
import type { QuorumDescription } from '../controller/quorum-driver.js';
import type { MetadataImage } from '../controller/metadata/image.js';
import type { Logger } from '../logger.js';
import type { GroupCoordinator } from '../groups/coordinator.js';
import type { BrokerMetrics } from '../metrics/broker-metrics.js';
import type { ReplicaManager } from '../replication/replica-manager.js';
import type { ProducerIdManager } from '../storage/producer-ids.js';
import type { TopicManager } from '../topics/topic-manager.js';

/** What every request handler needs: the topics, the group coordinator, who this node is, and a logger. */
export interface BrokerContext {
  topics: TopicManager;
  /** Every leader append goes through it (Produce here); it owns the topic policy. */
  replicas: ReplicaManager;
  groups: GroupCoordinator;
  producerIds: ProducerIdManager;
  logger: Logger;
  nodeId: number;
  /** Where clients reach this node (for Metadata). */
  advertisedHost: string;
  advertisedPort: number;
  logDir: string;
  /** Request-path counters (records and bytes per topic, partition errors). */
  metrics: BrokerMetrics;
  /** This node's metadata quorum replica: the image Metadata is served from, DescribeQuorum. */
  quorum: QuorumView;
  /** Decides and commits admin requests when this node is the active controller (else NOT_CONTROLLER). */
  controller: ActiveController;
  /** Sends an admin request to the active controller over its peer link; throws NOT_CONTROLLER when there is none to reach. */
  forward: ControllerForwarder;
  /** Applies committed images to the topics: forwarded writes wait for it. */
  publisher: MetadataPublisher;
}

/** Sends a request (in the API's newest version) to the active controller and resolves with its answer. */
export type ControllerForwarder = (apiKey: number, request: unknown) => Promise<unknown>;

/** What the request path reads of the node's QuorumDriver. */
export interface QuorumView {
  describe(): QuorumDescription;
  readonly image: MetadataImage;
  /** The quorum leader (the active controller) as this node knows it; null: none. */
  readonly leaderId: number | null;
}

/**
 * Per-partition error fields from a thrown error. The wire carries the code and the detail (what
 * happened here); the name and the hint (what to do) come from the shared error table on the
 * client's side, so they are not repeated. EddyErrors keep their code; anything else is a bug:
 * logged with its stack and reported as UNKNOWN_SERVER_ERROR.
 */
export function errorFields(err: unknown, ctx: BrokerContext, what: string): { errorCode: number; errorMessage: string } {
  if (isEddyError(err)) return { errorCode: err.code, errorMessage: err.detail };
  ctx.logger.error({ err, what }, `unexpected error while handling ${what}`);
  return { errorCode: ERRORS.UNKNOWN_SERVER_ERROR.code, errorMessage: `${what} failed unexpectedly: ${(err as Error)?.message ?? String(err)}` };
}

export const NO_ERROR = { errorCode: 0, errorMessage: null } as const;
