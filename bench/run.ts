/**
 * `npm run bench -- <suite>`: runs one benchmark suite (or all with no argument). Each suite
 * prints human-readable lines, then one JSON object as its last stdout line.
 */
import { say } from './lib.js';

const SUITES: Record<string, () => Promise<void>> = {
  storage: async () => (await import('./storage.js')).run(),
  layout: async () => (await import('./layout.js')).run(),
  produce: async () => (await import('./broker.js')).runProduce(),
  consume: async () => (await import('./broker.js')).runConsume(),
  mqtt: async () => (await import('./mqtt.js')).run(),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in SUITES));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench suite: ${unknown.join(', ')}. Available: ${Object.keys(SUITES).join(', ')}\n`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(SUITES)) {
  say(`== bench ${name}`);
  await SUITES[name]!();
}
