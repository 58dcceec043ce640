import { runSimulation } from './simulation.js';
const t0 = Date.now();
let fails = 0;
const n = Number(process.argv[2] ?? 50);
for (let s = 1; s <= n; s++) {
  const r = runSimulation({ seed: s, bugs: process.argv[3] ? { [process.argv[3]]: true } : undefined });
  if (r.violation) { fails++; if (fails < 6) console.log(s, r.voters, r.violation); }
}
console.log('fails', fails, 'ms', Date.now() - t0);
