/** Starts the node under test as a child process (`eddy start`), as production runs it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { awaitBanner } from '../cli/banner.js';
import { benchDir } from './lib.js';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface NodeProcess {
  /** ws://… of the client protocol. */
  url: string;
  /** mqtt://… of the embedded listener, or null when started with it off. */
  mqttUrl: string | null;
  child: ChildProcess;
}

/**
 * Resolves once the start-up banner is out; kills the child if it does not come up in 20 s.
 * EDDY_BENCH_NODE_ARGS passes extra Node flags to the node (e.g. --cpu-prof).
 */
export async function startNodeProcess(dataDir: string, opts: { mqtt: boolean }): Promise<NodeProcess> {
  const extra = process.env.EDDY_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  // Run the node the way the bench runs: compiled JS when compiled, else the sources via tsx.
  const entry = import.meta.url.endsWith('.ts') ? ['--import', 'tsx', join(ROOT, 'cli/main.ts')] : [join(ROOT, 'cli/main.js')];
  const mqtt = opts.mqtt ? ['--mqtt-port', '0'] : ['--no-mqtt'];
  const child = spawn(process.execPath, [...extra, ...entry, 'start', '--data-dir', dataDir, '--port', '0', ...mqtt, '--no-http', '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { banner } = await awaitBanner(child, 20_000);
  return { url: banner.websocket, mqttUrl: banner.mqtt, child };
}

/** Runs `fn` against a fresh node process (data on the bench disk), then stops it and cleans up. */
export async function withNodeProcess<T>(name: string, opts: { mqtt: boolean }, fn: (node: NodeProcess, dir: string) => Promise<T>): Promise<T> {
  const { dir, cleanup } = benchDir(name);
  const node = await startNodeProcess(join(dir, 'data'), opts);
  try {
    return await fn(node, dir);
  } finally {
    node.child.kill('SIGTERM');
    await new Promise((r) => node.child.once('exit', r));
    cleanup();
  }
}
