/**
 * The executable the edge suite measures, and starting and stopping it as a separate process.
 *
 * Which one: `--bin <path>` or EDDY_BENCH_BIN; else the packaged single executable
 * `dist/eddy-linux-<arch>` (Node embedded) when it exists; else the CLI compiled with this bench
 * (dist-bench/cli/main.js, the same tsc output as `npm run build`'s dist/, but built from the
 * sources being measured: a stale dist/ would measure old code) on this machine's Node.
 * EDDY_BENCH_NODE_ARGS adds Node flags when the CLI runs on this machine's Node (as in the other
 * suites), e.g. `--max-semi-space-size=4` to see what a smaller young generation saves.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { awaitBanner } from '../cli/banner.js';
import { nowMs } from './lib.js';

/** The repository root (the bench runs from dist-bench/bench/). */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** dist-bench/: compiled CLI and bench scripts. */
const COMPILED = fileURLToPath(new URL('..', import.meta.url));

export interface Target {
  /** Program and leading arguments: [bin] or [node, main.js]. */
  command: string[];
  runtime: 'sea' | 'node';
  /** Size of the executable file (the SEA or the --bin given); null for node + script. */
  binaryBytes: number | null;
  /** What the operator should read in the progress lines. */
  describe: string;
  /** `<cmd> --version`: Eddy's version. */
  eddyVersion: string;
  /** Whether `eddy start --help` lists --no-http (the metrics port is being added). */
  hasNoHttp: boolean;
  /** Node flags added from EDDY_BENCH_NODE_ARGS (node runtime only). */
  nodeArgs: string[];
}

export function resolveTarget(argv: string[], env: NodeJS.ProcessEnv): Target {
  const flag = argv.indexOf('--bin');
  const given = flag >= 0 ? argv[flag + 1] : env.EDDY_BENCH_BIN;
  if (flag >= 0 && !given) throw new Error('--bin needs a path to an eddy executable');
  const sea = join(REPO, 'dist', `eddy-linux-${process.arch}`);
  const nodeArgs = env.EDDY_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  let command: string[];
  let runtime: Target['runtime'];
  let binaryBytes: number | null;
  let describe: string;
  if (given) {
    const bin = resolve(given);
    if (!existsSync(bin)) throw new Error(`the executable to measure does not exist: ${bin} (from ${flag >= 0 ? '--bin' : 'EDDY_BENCH_BIN'})`);
    // A .js file is a CLI script for this Node; anything else is taken as a single executable.
    if (bin.endsWith('.js')) {
      command = [process.execPath, ...nodeArgs, bin];
      runtime = 'node';
      binaryBytes = null;
    } else {
      command = [bin];
      runtime = 'sea';
      binaryBytes = statSync(bin).size;
    }
    describe = `${relative(process.cwd(), bin) || bin} (${flag >= 0 ? '--bin' : 'EDDY_BENCH_BIN'})`;
  } else if (existsSync(sea)) {
    command = [sea];
    runtime = 'sea';
    binaryBytes = statSync(sea).size;
    describe = `${relative(process.cwd(), sea)} (single executable)`;
  } else {
    const main = join(COMPILED, 'cli', 'main.js');
    command = [process.execPath, ...nodeArgs, main];
    runtime = 'node';
    binaryBytes = null;
    describe = `node ${relative(process.cwd(), main)}: no ${relative(process.cwd(), sea)} yet (npm run package), so the compiled CLI on this machine's Node ${process.version}`;
  }
  const run = (args: string[]) => execFileSync(command[0]!, [...command.slice(1), ...args], { encoding: 'utf8', timeout: 20_000, cwd: REPO });
  const eddyVersion = run(['--version']).trim();
  if (!/^\d+\.\d+\.\d+\S*$/.test(eddyVersion)) throw new Error(`${command.join(' ')} does not look like eddy: --version printed "${eddyVersion.split('\n')[0]}"`);
  const hasNoHttp = /--no-http\b/.test(run(['start', '--help']));
  if (nodeArgs.length > 0) {
    if (runtime === 'sea') throw new Error('EDDY_BENCH_NODE_ARGS applies to the CLI on this machine\'s Node; a single executable takes its Node flags from its build (execArgv)');
    describe += `, with Node flags ${nodeArgs.join(' ')} (EDDY_BENCH_NODE_ARGS)`;
  }
  return { command, runtime, binaryBytes, describe, eddyVersion, hasNoHttp, nodeArgs };
}

export interface RunningTarget {
  child: ChildProcess;
  pid: number;
  url: string;
  /** From spawn until the banner's first line (`Eddy <version> is running`). */
  startMs: number;
  /** The `runtime:` line of the banner (Node version and platform of the measured process), if printed. */
  runtimeLine: string | null;
  output(): string;
  /** SIGTERM, then resolves with the exit code once it has exited (SIGKILL after 15 s). */
  stop(): Promise<number | null>;
}

/** Every node this suite started: killed on exit, whatever happened. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** Registers a helper child process (load generator) to be killed if the bench dies. */
export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/**
 * `eddy start` on 127.0.0.1, ephemeral ports, the embedded MQTT listener on, defaults otherwise.
 * Resolves once the whole banner is out; fails (and kills the child) after 20 s.
 */
export async function startTarget(target: Target, dataDir: string): Promise<RunningTarget> {
  const args = ['start', '--data-dir', dataDir, '--port', '0', '--mqtt-port', '0', '--log-level', 'warn'];
  if (target.hasNoHttp) args.push('--no-http');
  const t0 = nowMs();
  const child = spawn(target.command[0]!, [...target.command.slice(1), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let startMs = NaN;
  const { banner, stdout, stderr, exited } = await awaitBanner(child, 20_000, (out) => {
    if (Number.isNaN(startMs) && /Eddy \S+ is running/.test(out)) startMs = nowMs() - t0;
  });
  return {
    child,
    pid: child.pid!,
    url: banner.websocket,
    startMs,
    runtimeLine: banner.runtime,
    output: () => stdout() + stderr(),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(kill);
      return code;
    },
  };
}
