/**
 * One node's metrics: its own prom-client registry (never the library's global one, so several
 * nodes in one process keep separate counts), the request-path counters, and gauges read at
 * scrape time from the topics, groups and disk guard. `GET /metrics` serves `registry.metrics()`.
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { GroupCoordinator } from '../groups/coordinator.js';
import type { DiskGuard } from '../storage/disk-guard.js';
import type { TopicManager } from '../topics/topic-manager.js';
import { VERSION } from '../version.js';
import { peerAuthFailureCounter } from '../cluster/refusal-log.js';
import { createBrokerMetrics, type BrokerMetrics } from './broker-metrics.js';
import { registerDiskGauges } from './disk-gauges.js';
import { registerGroupGauges } from './group-gauges.js';
import { createMqttMetrics, type MqttMetrics } from './mqtt-metrics.js';
import { registerPartitionGauges } from './partition-gauges.js';
import { registerQuorumMetrics, type QuorumMetrics, type QuorumView } from './quorum-metrics.js';

export interface NodeMetricsOptions {
  topics: TopicManager;
  groups: GroupCoordinator;
  diskGuard: DiskGuard;
  nodeId: number;
  /**
   * Add prom-client's process metrics (CPU, memory, event-loop lag, GC, file descriptors). They
   * describe the whole process, and each registry that collects them adds its own event-loop
   * monitor and GC observer, so only a node that serves them asks for them.
   */
  processMetrics: boolean;
}

export class NodeMetrics {
  readonly registry = new Registry();
  readonly broker: BrokerMetrics;
  #mqtt: MqttMetrics | null = null;
  #peerAuthFailures: ((reason: string) => void) | null = null;

  constructor(opts: NodeMetricsOptions) {
    this.broker = createBrokerMetrics(this.registry);
    new Gauge({ name: 'eddy_build_info', help: 'Always 1; labels say which Eddy this is', labelNames: ['version', 'node_id'], registers: [this.registry] })
      .set({ version: VERSION, node_id: String(opts.nodeId) }, 1);
    registerPartitionGauges(this.registry, opts.topics);
    registerGroupGauges(this.registry, opts.groups, opts.topics);
    registerDiskGauges(this.registry, opts.diskGuard);
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** MQTT ingest's counters, registered when MQTT ingest first asks (a node without MQTT shows none). */
  get mqtt(): MqttMetrics {
    return (this.#mqtt ??= createMqttMetrics(this.registry));
  }

  /** Counts a refused peer link (`eddy_peer_auth_failures_total{reason}`); registered on first use, as mqtt. */
  get peerAuthFailures(): (reason: string) => void {
    return (this.#peerAuthFailures ??= peerAuthFailureCounter(this.registry));
  }

  /** Registers the metadata quorum's metrics (the quorum opens after the registry is made); once. */
  quorum(view: QuorumView): QuorumMetrics {
    return registerQuorumMetrics(this.registry, view);
  }

  /** Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
