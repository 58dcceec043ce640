/**
 * The start-up banner of `eddy start` (printed by cli/start.ts), read by the programs that start
 * a node as a child process: tests, benchmarks and the packaged executable's smoke test. The
 * banner's last line is printed once every listener is up, so a complete banner means the node
 * serves.
 */
import type { ChildProcess } from 'node:child_process';

export const BANNER_LAST_LINE = 'Stop with Ctrl-C or SIGTERM.';

export interface Banner {
  /** ws://host:port of the client protocol. */
  websocket: string;
  /** mqtt://host:port of the embedded listener, or null when it is off. */
  mqtt: string | null;
  /** http://host:port of /health and /metrics, or null when off. */
  http: string | null;
  /** The cluster line: cluster id, node id and role, or null when absent (an older Eddy). */
  cluster: { clusterId: string; nodeId: number; role: 'voter' | 'observer' } | null;
  /** The runtime line: Node version, platform and pid. */
  runtime: string | null;
}

/** The banner in `stdout`, or null until its last line has arrived. */
export function parseBanner(stdout: string): Banner | null {
  if (!stdout.includes(BANNER_LAST_LINE)) return null;
  const websocket = /websocket:\s+(ws:\/\/\S+)/.exec(stdout)?.[1];
  if (!websocket) return null;
  return {
    websocket,
    mqtt: /mqtt:\s+(mqtt:\/\/\S+)/.exec(stdout)?.[1] ?? null,
    http: /http:\s+(http:\/\/[^/\s]+)/.exec(stdout)?.[1] ?? null,
    cluster: parseClusterLine(stdout),
    runtime: /runtime:\s+(.+)/.exec(stdout)?.[1]?.trim() ?? null,
  };
}

function parseClusterLine(stdout: string): Banner['cluster'] {
  const m = /cluster:\s+([A-Za-z0-9_-]{22}), node (\d+), (voter|observer)/.exec(stdout);
  return m ? { clusterId: m[1]!, nodeId: Number(m[2]), role: m[3] as 'voter' | 'observer' } : null;
}

export interface StartingNode {
  banner: Banner;
  /** Everything the child wrote to stdout so far (and goes on collecting). */
  stdout(): string;
  /** Everything the child wrote to stderr so far, if it is piped. */
  stderr(): string;
  /** The child's exit code, once it exits. */
  exited: Promise<number | null>;
}

/**
 * Collects a just-spawned `eddy start` child's output and resolves with its banner. Rejects, and
 * kills the child, if it exits first or has not finished the banner within `timeoutMs`.
 * `onStdout` sees the output as it grows (to time the first line, say).
 */
export function awaitBanner(child: ChildProcess, timeoutMs: number, onStdout?: (stdout: string) => void): Promise<StartingNode> {
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`eddy start ${why}:\n${out}\n${err}`));
    };
    const timer = setTimeout(() => fail(`did not come up in ${timeoutMs / 1000} s`), timeoutMs);
    child.stdout?.on('data', () => {
      onStdout?.(out);
      const banner = parseBanner(out);
      if (!banner) return;
      clearTimeout(timer);
      resolve({ banner, stdout: () => out, stderr: () => err, exited });
    });
    void exited.then((code) => fail(`exited (${code}) before listening`));
  });
}
