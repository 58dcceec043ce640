/**
 * Smoke test of the packaged executables (npm run package), run by .ci/run after building them:
 * from an empty directory, start a node, create a topic, produce through MQTT (mosquitto_pub)
 * and through the CLI, consume, stop with SIGTERM, restart and read everything back. arm64 runs
 * under qemu-user when it is installed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binaryPath, exists, hasQemu, mqttPublish, ROOT, sandbox, slowness, type Arch, type Sandbox } from './executable.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function values(jsonLines: string): string[] {
  return jsonLines
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => (JSON.parse(l) as { value: string }).value)
    .sort();
}

function scenario(arch: Arch) {
  const timeout = 120_000 * slowness(arch);
  const boxes: Sandbox[] = [];
  afterAll(() => boxes.forEach((b) => b.cleanup()));
  const box = () => {
    if (!exists(arch)) throw new Error(`${binaryPath(arch)} is missing: run npm run package${arch === process.arch ? '' : ` -- --arch ${arch}`} first`);
    const b = sandbox(arch);
    boxes.push(b);
    return b;
  };
  const timings: string[] = [];
  const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const r = await fn();
    timings.push(`${what} ${Date.now() - t0} ms`);
    return r;
  };
  afterAll(() => console.log(`[${arch}] ${timings.join(', ')}`));

  it(
    'starts from an empty directory, takes MQTT and CLI records, stops on SIGTERM and reads them back after a restart',
    async () => {
      const b = box();
      const version = await timed('--version', () => b.run(['--version']));
      expect(version.out.trim()).toBe(VERSION);

      const args = ['--data-dir', 'data', '--port', '0', '--mqtt-port', '0', '--http-port', '0'];
      const first = await timed('start', () => b.start(args));
      const server = ['--server', first.wsUrl];
      const created = await timed('topics create', () => b.run(['topics', 'create', 'sensors', '--partitions', '2', ...server]));
      expect(created.code, created.err).toBe(0);
      const produced = await timed('produce', () => b.run(['produce', 'sensors', '--key-separator', ':', ...server], { input: 'dev1:21.5\ndev2:19.0\ndev1:22.0\n' }));
      expect(produced.code, produced.err).toBe(0);
      const via = await timed('mqtt publish', () => mqttPublish(first.mqttPort, 'plant/press7/temp', ['{"c":81.5}', '{"c":81.7}']));
      timings.push(`(published with ${via})`);

      const readBack = async () => {
        const s = await timed('consume', () => b.run(['consume', 'sensors', '--from-beginning', '--max-messages', '3', '--format', 'json', ...server]));
        expect(s.code, s.err).toBe(0);
        expect(values(s.out)).toEqual(['19.0', '21.5', '22.0']);
        const m = await b.run(['consume', 'mqtt', '--from-beginning', '--max-messages', '2', '--format', 'json', ...server]);
        expect(m.code, m.err).toBe(0);
        expect(values(m.out)).toEqual(['{"c":81.5}', '{"c":81.7}']);
      };
      await readBack();

      // Health and metrics (prom-client inside the bundle).
      const health = (await (await fetch(`${first.httpUrl}/health`)).json()) as { status: string; version: string };
      expect(health).toMatchObject({ status: 'ok', version: VERSION });
      const metrics = await (await fetch(`${first.httpUrl}/metrics`)).text();
      expect(metrics).toMatch(/eddy_partition_log_end_offset\{topic="mqtt",partition="0"\} 2/);
      expect(metrics).toMatch(/eddy_mqtt_messages_stored_total 2/);

      // The addons were unpacked under XDG_CACHE_HOME, in content-hashed directories.
      const native = join(b.dir, 'cache', 'eddy', 'native');
      const unpacked = readdirSync(native).flatMap((h) => readdirSync(join(native, h)).map((f) => `${h.length}/${f}`));
      expect(unpacked.sort()).toEqual(['16/better_sqlite3.node', '16/crc32.node']);

      expect(await timed('SIGTERM', () => first.stop('SIGTERM'))).toBe(0);
      expect(first.output()).toMatch(/SIGTERM received: shutting down[\s\S]*stopped cleanly/);

      const second = await timed('restart', () => b.start(args));
      expect(second.output()).toMatch(/2 topics, 0 groups, clean start/);
      server[1] = second.wsUrl;
      await readBack();
      const more = await b.run(['produce', 'sensors', '--key-separator', ':', ...server], { input: 'dev3:18.0\n' });
      expect(more.code, more.err).toBe(0);
      const after = await b.run(['consume', 'sensors', '--from-beginning', '--max-messages', '4', '--format', 'json', ...server]);
      expect(values(after.out)).toEqual(['18.0', '19.0', '21.5', '22.0']);
      expect(await second.stop('SIGTERM')).toBe(0);
    },
    timeout,
  );

  if (arch === process.arch) {
    it('two nodes starting at once on a fresh cache both unpack and run', async () => {
      const b = box();
      const [one, two] = await Promise.all([
        b.start(['--data-dir', 'a', '--port', '0', '--mqtt-port', '0', '--http-port', '0']),
        b.start(['--data-dir', 'b', '--port', '0', '--mqtt-port', '0', '--http-port', '0']),
      ]);
      for (const n of [one, two]) {
        const r = await b.run(['topics', 'create', 't', '--partitions', '1', '--server', n.wsUrl]);
        expect(r.code, r.err).toBe(0);
      }
      expect(await one.stop()).toBe(0);
      expect(await two.stop()).toBe(0);
    }, timeout);
  }
}

describe(`dist/eddy-linux-${process.arch} (this machine's architecture)`, () => scenario(process.arch as Arch));

describe.runIf(process.arch === 'x64' && hasQemu())('dist/eddy-linux-arm64 under qemu-user', () => scenario('arm64'));
