/**
 * `npm run sim -- --seeds 100000` runs that many seeds of the Raft simulation;
 * `npm run sim -- --seed S` replays one. Options: --from F (first seed), --voters 3|5,
 * --bug doubleVote|minorityCommit|skipTruncation (expect failures). Each failure prints its
 * seed, the violation and a replay command; the last stdout line is a JSON summary.
 */
import type { RaftBugs } from '../../node/controller/raft/raft-config.js';
import { runSimulation } from './simulation.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const single = arg('seed');
const from = Number(single ?? arg('from') ?? 1);
const count = single !== undefined ? 1 : Number(arg('seeds') ?? 1000);
const voters = arg('voters') !== undefined ? Number(arg('voters')) : undefined;
const bug = arg('bug');
const bugs: RaftBugs | undefined = bug ? { [bug]: true } : undefined;
if (!Number.isInteger(from) || !Number.isInteger(count) || count < 1) {
  console.error('usage: npm run sim -- [--seeds N] [--from F] [--seed S] [--voters 3|5] [--bug NAME]');
  process.exit(2);
}

const started = process.hrtime.bigint();
let failures = 0;
for (let seed = from; seed < from + count; seed++) {
  const r = runSimulation({ seed, ...(voters ? { voters } : {}), ...(bugs ? { bugs } : {}) });
  if (r.violation !== null) {
    failures++;
    const extra = `${voters ? ` --voters ${voters}` : ''}${bug ? ` --bug ${bug}` : ''}`;
    console.log(`FAIL seed ${seed} (${r.voters} voters, ${r.steps} steps): ${r.violation}`);
    console.log(`  replay: npm run sim -- --seed ${seed}${extra}`);
  } else if (single !== undefined) {
    console.log(`ok seed ${seed}: ${r.voters} voters, ${r.steps} steps, ${r.committed} committed, max epoch ${r.maxEpoch}`);
  }
}
const ms = Number(process.hrtime.bigint() - started) / 1e6;
console.log(JSON.stringify({ suite: 'sim', seeds: count, failures, ms: Math.round(ms), seedsPerSecond: Math.round((count / ms) * 1000) }));
process.exitCode = failures > 0 && !bug ? 1 : 0;
