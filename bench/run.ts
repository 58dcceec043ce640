/**
 * `npm run bench -- <suite>`: runs one benchmark suite (or all with no argument). Each suite
 * prints human-readable lines, then one JSON object as its last line. Options after the suite
 * names go to the suites (`npm run bench -- edge --bin dist/eddy-linux-x64`).
 *
 * Several suites run one after another, each in a fresh child process: a suite must not inherit
 * the heap (and GC pauses) of the ones before it, which distorted latency figures.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { say } from './lib.js';

const SUITES: Record<string, () => Promise<void>> = {
  storage: async () => (await import('./storage.js')).run(),
  layout: async () => (await import('./layout.js')).run(),
  produce: async () => (await import('./broker.js')).runProduce(),
  consume: async () => (await import('./broker.js')).runConsume(),
  mqtt: async () => (await import('./mqtt.js')).run(),
  groups: async () => (await import('./groups.js')).run(),
  compression: async () => (await import('./compression.js')).run(),
  edge: async () => (await import('./edge.js')).run(),
  cluster: async () => (await import('./cluster.js')).run(),
};

// Suite names, then options for the suites (`edge --bin PATH`): each `--flag` takes the next word.
const args = process.argv.slice(2);
const wanted: string[] = [];
const options: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i]!.startsWith('--')) options.push(args[i]!, ...(args[i + 1] !== undefined ? [args[++i]!] : []));
  else wanted.push(args[i]!);
}
const unknown = wanted.filter((w) => !(w in SUITES));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench suite: ${unknown.join(', ')}. Available: ${Object.keys(SUITES).join(', ')}\n`);
  process.exit(2);
}
const suites = wanted.length > 0 ? wanted : Object.keys(SUITES);
if (suites.length === 1) {
  say(`== bench ${suites[0]}`);
  await SUITES[suites[0]!]!();
} else {
  const self = fileURLToPath(import.meta.url);
  for (const name of suites) {
    const r = spawnSync(process.execPath, [...process.execArgv, self, name, ...options], { stdio: 'inherit' });
    if (r.status !== 0) process.exitCode = r.status ?? 1;
  }
}
