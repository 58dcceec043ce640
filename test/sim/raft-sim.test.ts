/**
 * The Raft simulation as a test: many seeds of 3- and 5-voter clusters with an observer under
 * network, disk and crash faults must keep every safety invariant and recover liveness; and
 * each deliberate bug must be caught, so the checker is known to have teeth.
 */
import { describe, expect, it } from 'vitest';
import type { RaftBugs } from '../../node/controller/raft/raft-config.js';
import { runSimulation } from './simulation.js';

const SEEDS = 3000;

describe('raft simulation', () => {
  it(`keeps safety and liveness over ${SEEDS} seeds (3 and 5 voters)`, () => {
    const failures: string[] = [];
    const started = Date.now();
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = runSimulation({ seed, voters: seed % 2 === 0 ? 3 : 5 });
      if (r.violation) failures.push(`seed ${seed}: ${r.violation} (replay: npm run sim -- --seed ${seed} --voters ${r.voters})`);
    }
    expect(failures).toEqual([]);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 120_000);

  it('replays a seed exactly', () => {
    expect(runSimulation({ seed: 42 })).toEqual(runSimulation({ seed: 42 }));
  });

  const bugs: [string, RaftBugs, RegExp][] = [
    ['two votes in one epoch', { doubleVote: true }, /two leaders in epoch/],
    ['committing on a minority', { minorityCommit: true }, /committed entry changed|state diverged|truncated/],
    ['skipping truncation on divergence', { skipTruncation: true }, /committed entry changed|state diverged|truncated/],
  ];
  for (const [name, bug, expected] of bugs) {
    it(`finds the deliberate bug: ${name}`, () => {
      let found: string | null = null;
      for (let seed = 1; seed <= 500 && found === null; seed++) found = runSimulation({ seed, bugs: bug }).violation;
      expect(found).toMatch(expected);
    });
  }
});
