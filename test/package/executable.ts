/**
 * Runs a packaged executable (dist/eddy-linux-<arch>) as real child processes, copied into an
 * empty directory so that nothing from this checkout (node_modules, sources) can help it. arm64
 * runs under qemu-user (Debian's qemu-user-static) when this machine is not arm64.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { awaitBanner } from '../../cli/banner.js';
import { target, type Arch } from '../../packaging/targets.js';
import { hasProgram } from '../../packaging/tools.js';

export type { Arch };

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function binaryPath(arch: Arch): string {
  return join(ROOT, 'dist', `eddy-linux-${arch}`);
}

/** Whether this (x64) machine can run the arm64 executable: packaging's emulator for it is installed. */
export function hasQemu(): boolean {
  return hasProgram(target('arm64', 'x64').emulator!.command);
}

/** Emulated programs are slow to start: every timeout scales with this. */
export function slowness(arch: Arch): number {
  return arch === process.arch ? 1 : 15;
}

export interface Sandbox {
  dir: string;
  /** Runs `eddy <args>` to completion. */
  run(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<{ code: number | null; out: string; err: string }>;
  /** Starts `eddy start <args>` and resolves once the banner is out. */
  start(args: string[]): Promise<Running>;
  cleanup(): void;
}

export interface Running {
  child: ChildProcess;
  wsUrl: string;
  mqttPort: number;
  /** http://host:port of the health and metrics endpoints. */
  httpUrl: string;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function sandbox(arch: Arch): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), `eddy-exe-${arch}-`));
  const exe = join(dir, 'eddy');
  copyFileSync(binaryPath(arch), exe);
  mkdirSync(join(dir, 'home'));
  const emulator = target(arch).emulator; // the same qemu-user invocation the build uses
  const command = emulator ? emulator.command : exe;
  const prefix = emulator ? [...emulator.args, exe] : [];
  // A bare environment: no NODE_* settings, a fresh cache and home, as on a new gateway.
  const env = { PATH: '/usr/bin:/bin', HOME: join(dir, 'home'), XDG_CACHE_HOME: join(dir, 'cache') };
  const children: ChildProcess[] = [];
  const slow = slowness(arch);

  const spawnEddy = (args: string[]) => {
    const child = spawn(command, [...prefix, ...args], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    return child;
  };

  return {
    dir,
    run(args, opts = {}) {
      const child = spawnEddy(args);
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.stdin!.end(opts.input ?? '');
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000 * slow);
      return new Promise((resolve) =>
        child.once('close', (code) => {
          clearTimeout(timer);
          resolve({ code, out, err });
        }),
      );
    },
    async start(args) {
      const child = spawnEddy(['start', ...args]);
      const { banner, stdout, stderr, exited } = await awaitBanner(child, 15_000 * slow);
      if (!banner.mqtt || !banner.http) throw new Error(`the smoke test needs the MQTT and HTTP listeners on:\n${stdout()}`);
      return {
        child,
        wsUrl: banner.websocket,
        mqttPort: Number(new URL(banner.mqtt).port),
        httpUrl: banner.http,
        output: () => `${stdout()}\n--- stderr ---\n${stderr()}`,
        stop: (signal = 'SIGTERM') => {
          child.kill(signal);
          return exited;
        },
      };
    },
    cleanup() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Publishes with mosquitto_pub when installed (the interop we promise), else with mqtt.js. */
export async function mqttPublish(port: number, topic: string, messages: string[]): Promise<'mosquitto_pub' | 'mqtt.js'> {
  if (hasProgram('mosquitto_pub')) {
    for (const m of messages) {
      const r = spawnSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-t', topic, '-m', m], { encoding: 'utf8', timeout: 60_000 });
      if (r.status !== 0) throw new Error(`mosquitto_pub failed: ${r.stderr}`);
    }
    return 'mosquitto_pub';
  }
  const mqtt = await import('mqtt');
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
  for (const m of messages) await client.publishAsync(topic, m, { qos: 1 });
  await client.endAsync();
  return 'mqtt.js';
}

export function exists(arch: Arch): boolean {
  return existsSync(binaryPath(arch));
}
