/**
 * `npm run bench -- <suite>`: runs one benchmark suite (or all with no argument). Each suite
 * prints human-readable lines, then one JSON object as its last line.
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
};

const wanted = process.argv.slice(2);
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
    const r = spawnSync(process.execPath, [...process.execArgv, self, name], { stdio: 'inherit' });
    if (r.status !== 0) process.exitCode = r.status ?? 1;
  }
}
