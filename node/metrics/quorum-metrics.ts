/**
 * The metadata quorum's metrics: this node's Raft role and epoch, the elections it has seen,
 * how long the leader's proposals take to commit, and how many brokers the image has fenced.
 * Gauges are read at scrape time from the quorum replica; the commit latency is measured around
 * each proposal of the active controller (timedProposals), the only proposer.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ControllerQuorum } from '../controller/active-controller.js';
import type { RaftRole } from '../controller/raft/quorum-state.js';
import type { MetadataImage } from '../controller/metadata/index.js';

const ROLES: readonly RaftRole[] = ['unattached', 'prospective', 'candidate', 'leader', 'follower'];

export interface QuorumView {
  readonly role: RaftRole;
  readonly epoch: number;
  readonly image: MetadataImage;
}

export interface QuorumMetrics {
  /** Wraps the quorum so each proposal's time to commit lands in eddy_metadata_commit_latency_seconds. */
  timedProposals(quorum: ControllerQuorum): ControllerQuorum;
}

export function registerQuorumMetrics(registry: Registry, quorum: QuorumView, now: () => number = () => performance.now()): QuorumMetrics {
  new Gauge({
    name: 'eddy_metadata_quorum_state',
    help: "1 for this node's current role in the metadata quorum (leader, follower, candidate, ...), 0 for the others",
    labelNames: ['role'],
    registers: [registry],
    collect() {
      for (const role of ROLES) this.set({ role }, quorum.role === role ? 1 : 0);
    },
  });
  new Gauge({ name: 'eddy_metadata_quorum_epoch', help: 'The metadata quorum epoch (Raft term) this node is in', registers: [registry], collect() { this.set(quorum.epoch); } });
  // Each new epoch is one election; counted from the epoch at start, so a restart starts at 0.
  let seenEpoch = quorum.epoch;
  new Counter({
    name: 'eddy_metadata_elections_total',
    help: 'Metadata leader elections this node has seen since it started (epochs the quorum moved on by)',
    registers: [registry],
    collect() {
      if (quorum.epoch > seenEpoch) this.inc(quorum.epoch - seenEpoch);
      seenEpoch = Math.max(seenEpoch, quorum.epoch);
    },
  });
  new Gauge({
    name: 'eddy_fenced_brokers',
    help: 'Registered brokers the metadata image has fenced (not leading partitions: shut down, restarting, or session expired)',
    registers: [registry],
    collect() {
      let n = 0;
      for (const b of quorum.image.brokers.values()) if (b.fenced) n++;
      this.set(n);
    },
  });
  const latency = new Histogram({
    name: 'eddy_metadata_commit_latency_seconds',
    help: "Time from the active controller's proposal to its commit by the metadata quorum",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return {
    timedProposals(q) {
      return {
        get nodeId() { return q.nodeId; },
        get role() { return q.role; },
        get leaderId() { return q.leaderId; },
        get epoch() { return q.epoch; },
        get image() { return q.image; },
        async propose(records) {
          const start = now();
          const committed = await q.propose(records);
          latency.observe((now() - start) / 1000);
          return committed;
        },
      };
    },
  };
}
