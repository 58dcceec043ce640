/**
 * The request dispatcher: API key → handler, over decoded bodies. No sockets here; the gateway
 * decodes frames, calls `handle`, and encodes what it returns.
 */
import { API_BY_KEY, Apis, type ApiSpec } from '../../protocol/apis/index.js';
import { EddyError } from '../../protocol/errors.js';
import { handleApiVersions, handleCreateTopics, handleDeleteTopics, handleDescribeConfigs, handleDescribeLogDirs, handleListOffsets, handleMetadata } from './admin.js';
import type { BrokerContext } from './context.js';
import type { RequestOrigin } from '../request-origin.js';
import { handleDescribeQuorum } from './describe-quorum.js';
import { handleFetch } from './fetch.js';
import { handleFindCoordinator } from './find-coordinator.js';
import {
  handleConsumerGroupDescribe,
  handleConsumerGroupHeartbeat,
  handleDeleteGroups,
  handleListGroups,
  handleOffsetCommit,
  handleOffsetFetch,
} from './groups.js';
import { handleProduce } from './produce.js';
import { handleInitProducerId } from './producer-id.js';
import { handleCreatePartitions, handleIncrementalAlterConfigs } from './topic-changes.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (body: any, ctx: BrokerContext, origin: RequestOrigin) => unknown;

const HANDLERS: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [Apis.Produce.key, handleProduce],
  [Apis.Fetch.key, handleFetch],
  [Apis.ListOffsets.key, handleListOffsets],
  [Apis.Metadata.key, handleMetadata],
  [Apis.ApiVersions.key, (): unknown => handleApiVersions((key: number): boolean => HANDLERS.has(key))],
  [Apis.CreateTopics.key, handleCreateTopics],
  [Apis.DeleteTopics.key, handleDeleteTopics],
  [Apis.DescribeConfigs.key, handleDescribeConfigs],
  [Apis.DescribeLogDirs.key, handleDescribeLogDirs],
  [Apis.CreatePartitions.key, handleCreatePartitions],
  [Apis.IncrementalAlterConfigs.key, handleIncrementalAlterConfigs],
  [Apis.DescribeQuorum.key, handleDescribeQuorum],
  [Apis.OffsetCommit.key, handleOffsetCommit],
  [Apis.OffsetFetch.key, handleOffsetFetch],
  [Apis.FindCoordinator.key, handleFindCoordinator],
  [Apis.ListGroups.key, handleListGroups],
  [Apis.DeleteGroups.key, handleDeleteGroups],
  [Apis.ConsumerGroupHeartbeat.key, handleConsumerGroupHeartbeat],
  [Apis.ConsumerGroupDescribe.key, handleConsumerGroupDescribe],
  [Apis.InitProducerId.key, handleInitProducerId],
]);

export class Broker {
  readonly #ready: Promise<void>;
  #markReady!: () => void;

  /**
   * `ctx` may be completed after construction (the metadata quorum opens once the listener is
   * up); requests wait until `ready()` is called (`whenReady()` resolves then).
   */
  constructor(readonly ctx: BrokerContext) {
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
  }

  /** The context is complete: requests are served from now on. */
  ready(): void {
    this.#markReady();
  }

  whenReady(): Promise<void> {
    return this.#ready;
  }

  /** The API spec for a key and version, or UNSUPPORTED_VERSION saying what is supported. */
  spec(apiKey: number, apiVersion: number): ApiSpec {
    const api = API_BY_KEY.get(apiKey);
    // Whatever a client sends: peer APIs are served only over an authenticated peer link.
    if (api?.scope === 'peer') {
      throw new EddyError('CLUSTER_AUTHORIZATION_FAILED', `${api.name} is a peer API, served only over an authenticated peer link at the node's peer path`);
    }
    if (!api || !HANDLERS.has(apiKey)) {
      throw new EddyError('UNSUPPORTED_VERSION', `unknown API key ${apiKey}; ApiVersions (key 18) lists the supported ones`);
    }
    if (!Number.isInteger(apiVersion) || apiVersion < 0 || apiVersion >= api.versions.length) {
      throw new EddyError('UNSUPPORTED_VERSION', `${api.name} v${apiVersion} is not supported; use v0 to v${api.versions.length - 1}`);
    }
    return api;
  }

  /** Runs the handler for a decoded request body; resolves with the response body. */
  async handle(apiKey: number, body: unknown, origin: RequestOrigin): Promise<unknown> {
    await this.#ready;
    return HANDLERS.get(apiKey)!(body, this.ctx, origin);
  }
}
