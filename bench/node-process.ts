/** Starts the node under test as a child process (`eddy start`), as production runs it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
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
  let out = '';
  try {
    const [url, mqttUrl] = await new Promise<[string, string | null]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node did not start in 20 s: ${out}`)), 20_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const ws = /websocket:\s+(ws:\/\/\S+)[\s\S]*Stop with/.exec(out);
        if (!ws) return;
        const mq = /mqtt:\s+(mqtt:\/\/\S+)/.exec(out);
        if (opts.mqtt && !mq) return;
        clearTimeout(timer);
        resolve([ws[1]!, mq?.[1] ?? null]);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`node exited (${code}) before listening: ${out}`));
      });
    });
    return { url, mqttUrl, child };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
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
