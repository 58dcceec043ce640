/**
 * Attaches MQTT ingest to a running node: the embedded listener, with the mapping rules and
 * ingest options. `eddy start` and the bridge tests use it.
 */
import type { RunningNode } from './start-node.js';
import { createTopicThroughController } from '../node/broker/node-topics.js';
import { leaderAppend } from './leader-append.js';
import type { Logger } from '../node/logger.js';
import { MqttListener, type MqttAuthenticator } from '../firmware-bridge/embedded-listener.js';
import { MqttIngest, type IngestOptions } from '../firmware-bridge/ingest.js';
import { DEFAULT_RULES, TopicMapper, type MappingRule } from '../firmware-bridge/mapping.js';

export interface StartMqttOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  rules?: readonly MappingRule[];
  ingest?: Partial<IngestOptions>;
  authenticate?: MqttAuthenticator;
  logger: Logger;
}

export interface RunningMqtt {
  port: number;
  ingest: MqttIngest;
  listener: MqttListener;
  close(): Promise<void>;
}

export async function startMqtt(node: RunningNode, opts: StartMqttOptions): Promise<RunningMqtt> {
  const ingest = new MqttIngest(
    node.topics,
    node.replicas,
    new TopicMapper(opts.rules ?? DEFAULT_RULES),
    opts.logger,
    {
      createTopic: (spec) => createTopicThroughController(node.broker.ctx, spec),
      remoteAppend: leaderAppend({ nodeId: node.cluster.nodeId, image: () => node.quorum.image, links: node.peers }),
      ...opts.ingest,
    },
    node.metrics.mqtt,
  );
  const listener = await MqttListener.start({
    host: opts.host ?? node.host,
    port: opts.port,
    ingest,
    logger: opts.logger,
    ...(opts.authenticate ? { authenticate: opts.authenticate } : {}),
  });
  return { port: listener.port, ingest, listener, close: () => listener.close() };
}
