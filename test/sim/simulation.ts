/**
 * A deterministic simulation of the metadata quorum: N voters and one observer in one process,
 * a virtual clock, a faulty network and faulty disks, all driven by one seeded PRNG. A fault
 * phase injects drops, duplicates, delays, partitions (both ways and one way), crashes that
 * lose unsynced writes, slow disks and graceful leader shutdowns; then the faults stop and the
 * quorum must elect a leader and commit a fresh record on every node within a bound.
 */
import type { RaftBugs, RaftConfig } from '../../node/controller/raft/raft-config.js';
import { between, mulberry32 } from './prng.js';
import { InvariantChecker } from './invariants.js';
import { hashStep, SimHost } from './sim-host.js';
import { SimNetwork } from './sim-network.js';

export interface SimOptions {
  readonly seed: number;
  /** Voters in the cluster (3 or 5); defaults to a seed-derived choice. */
  readonly voters?: number;
  readonly bugs?: RaftBugs;
  readonly faultMs?: number;
  /** Bound on the time from the end of faults to the liveness record committing everywhere. */
  readonly livenessMs?: number;
}

export interface SimResult {
  readonly seed: number;
  readonly voters: number;
  readonly violation: string | null;
  readonly steps: number;
  readonly committed: number;
  readonly maxEpoch: number;
}

const STEP_MS = 5;
export const SIM_RAFT_CONFIG: Partial<RaftConfig> = {
  electionTimeoutMs: 150, fetchTimeoutMs: 300, electionBackoffMaxMs: 150, fetchMaxWaitMs: 25,
  requestTimeoutMs: 150, maxFetchRecords: 16, snapshotMinEntries: 12,
};

export function runSimulation(options: SimOptions): SimResult {
  const random = mulberry32(options.seed);
  const voterCount = options.voters ?? (random() < 0.5 ? 3 : 5);
  const voters = Array.from({ length: voterCount }, (_, i) => i + 1);
  const ids = [...voters, voterCount + 1]; // the last one is the observer
  const faultMs = options.faultMs ?? 4000;
  const livenessMs = options.livenessMs ?? 4000;
  const net = new SimNetwork(mulberry32(random() * 2 ** 32));
  const hosts = ids.map((id) => new SimHost(id, voters, SIM_RAFT_CONFIG, options.bugs ?? {}, mulberry32(random() * 2 ** 32)));
  const check = new InvariantChecker();
  const byId = new Map(hosts.map((h) => [h.id, h]));
  const downUntil = new Map<number, number>();
  let proposals = 0;
  let marker: string | null = null;
  let markerOffset = Infinity;
  let markerEpoch = -1;
  let now = 0;
  let steps = 0;
  let maxEpoch = 0;
  // Per-seed fault intensity, so some runs are gentle and some brutal.
  const intensity = {
    drop: random() * 0.15, dup: random() * 0.1, delay: between(random, 2, 40),
    crash: random() * 0.006, partition: random() * 0.02, slowDisk: random() * 0.01,
  };
  net.faults = { dropRate: intensity.drop, duplicateRate: intensity.dup, maxDelayMs: intensity.delay };

  const drain = (h: SimHost) => {
    const node = h.node;
    if (!node) return;
    for (const out of node.takeOutputs()) {
      if (h.enqueue(now, out)) {
        if (out.kind === 'truncate') check.truncated(h, out.offset);
        if (out.kind === 'install-snapshot') {
          const data = out.data as { hash: number; endOffset: number };
          h.hash = data.hash;
          h.appliedEnd = data.endOffset;
          check.stateAt(h.id, data.endOffset, data.hash);
        }
        continue;
      }
      if (out.kind === 'send') net.send(now, h.id, out.to, out.message);
      else if (out.kind === 'commit') {
        for (const e of out.entries) {
          if (!e.control) h.hash = hashStep(h.hash, e.payload);
          if (marker !== null && e.payload === marker) h.markerSeen = true;
          check.applied(h, e);
        }
      } else if (out.kind === 'snapshot-request') {
        const last = node.entry(h.appliedEnd - 1);
        if (last) h.takeSnapshot(last.epoch);
      }
    }
  };
  const pump = () => {
    for (let round = 0; round < 4; round++) {
      for (const h of hosts) drain(h);
      for (const h of hosts) h.completeDue(now);
    }
    for (const h of hosts) drain(h);
  };

  for (const h of hosts) h.start(now);
  const end = faultMs + livenessMs;
  let healed = false;
  while (now <= end && check.violation === null) {
    now += STEP_MS;
    steps++;
    const faulty = now < faultMs;
    if (!faulty && !healed) {
      healed = true;
      net.heal();
      net.faults = { dropRate: 0, duplicateRate: 0, maxDelayMs: 5 };
      for (const h of hosts) {
        h.setDiskLatency(0);
        if (!h.up) h.start(now);
      }
    }
    if (faulty) injectFaults();
    for (const m of net.due(now)) {
      const h = byId.get(m.to)!;
      h.node?.receive(m.from, m.message, now);
      drain(h);
    }
    for (const h of hosts) {
      h.node?.tick(now);
      drain(h);
    }
    pump();
    // A client proposes to whoever claims to lead; after the faults, one marker record.
    const leader = hosts.find((h) => h.node?.role === 'leader');
    if (leader?.node) {
      maxEpoch = Math.max(maxEpoch, leader.node.epoch);
      if (faulty && random() < 0.2) leader.node.propose([`p${proposals++}`, ...(random() < 0.3 ? [`p${proposals++}`] : [])]);
      // The client retries on a new leader: a marker proposed to a stale leader may be truncated.
      if (!faulty && leader.node.epoch !== markerEpoch && leader.node.highWatermark > 0) {
        marker = `marker-${options.seed}-${leader.node.epoch}`;
        const r = leader.node.propose([marker]);
        if (r.ok) {
          markerOffset = r.offsets[0]!;
          markerEpoch = leader.node.epoch;
        }
      }
      drain(leader);
    }
    check.step(hosts);
    if (marker !== null && hosts.every((h) => h.appliedEnd > markerOffset)) {
      return { seed: options.seed, voters: voterCount, violation: null, steps, committed: check.committed.size, maxEpoch };
    }
  }
  if (check.violation !== null) return { seed: options.seed, voters: voterCount, violation: check.violation, steps, committed: check.committed.size, maxEpoch };
  const state = hosts.map((h) => `${h.id}:${h.node?.role}/e${h.node?.epoch}/hw${h.node?.highWatermark}/leo${h.node?.logEndOffset}/applied${h.appliedEnd}${h.markerSeen ? '/marker' : ''}`).join(' ');
  return {
    seed: options.seed, voters: voterCount, steps, committed: check.committed.size, maxEpoch,
    violation: `liveness: no leader committed a new record on every node within ${livenessMs} ms after faults stopped (${marker ?? 'no marker proposed'}; ${state})`,
  };

  function injectFaults(): void {
    for (const h of hosts) {
      if (h.up && random() < intensity.crash) {
        h.crash();
        downUntil.set(h.id, now + between(random, 20, 600));
      } else if (!h.up && now >= (downUntil.get(h.id) ?? 0)) {
        h.start(now);
      }
      if (random() < intensity.slowDisk) h.setDiskLatency(random() < 0.5 ? 0 : between(random, 5, 120));
    }
    if (random() < intensity.partition) {
      const r = random();
      if (r < 0.35) net.heal();
      else if (r < 0.75) {
        const shuffled = [...ids].sort(() => random() - 0.5);
        const cut = between(random, 1, ids.length - 1);
        net.partition(shuffled.slice(0, cut), shuffled.slice(cut));
      } else {
        const a = ids[between(random, 0, ids.length - 1)]!;
        const b = ids[between(random, 0, ids.length - 1)]!;
        if (a !== b) net.block(a, b);
      }
    }
    // Now and then the leader steps down gracefully and comes back.
    if (random() < 0.0015) {
      const leader = hosts.find((h) => h.node?.role === 'leader');
      if (leader?.node) {
        leader.node.shutdown();
        drain(leader);
        leader.crash();
        downUntil.set(leader.id, now + between(random, 20, 300));
      }
    }
  }
}
