/** Runs the `eddy` CLI as a real child process (through tsx, from the sources). */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { onTestFinished } from 'vitest';
import { awaitBanner } from '../../cli/banner.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'cli/main.ts');

/**
 * Runs a command to completion. Asynchronous on purpose: tests often run the node in their own
 * process, and a synchronous spawn would block the event loop that node needs to answer.
 */
export function eddy(args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...process.env, ...opts.env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.end(opts.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    }),
  );
}

export interface EddyServer {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** mqtt://host:port, or null when the listener is off. */
  mqttUrl: string | null;
  /** http://host:port of /health and /metrics, or null when off. */
  httpUrl: string | null;
  output(): string;
  /** What it wrote to stderr (its log) so far. */
  errors(): string;
  /** Sends a signal and resolves with the exit code once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `eddy start …` and resolves once its whole start-up banner is out. */
export function eddyStart(args: string[], env: Record<string, string> = {}): Promise<EddyServer> {
  // Tests run nodes side by side: unless a test picks an MQTT or HTTP port, take any free one,
  // not 1883 or 9401.
  const mqtt = args.includes('--mqtt-port') || args.includes('--no-mqtt') ? [] : ['--mqtt-port', '0'];
  const http = args.includes('--http-port') || args.includes('--no-http') ? [] : ['--http-port', '0'];
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', ...args, ...mqtt, ...http], { cwd: ROOT, env: { ...process.env, ...env } });
  // Whatever the test did (or failed to do), the node does not outlive it.
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return awaitBanner(child, 20_000).then(({ banner, stdout, stderr, exited }) => ({
    child,
    url: banner.websocket,
    mqttUrl: banner.mqtt,
    httpUrl: banner.http,
    output: stdout,
    errors: stderr,
    stop: (signal = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    },
  }));
}
