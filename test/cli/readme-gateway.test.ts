/**
 * The README's "Running on a gateway" examples stay true: the config file loads with the real
 * loadConfig and has every key, the systemd unit agrees with it and outlasts the shutdown bound,
 * and every metric the README names is one a node serves.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHUTDOWN_LIMIT_MS } from '../../cli/start.js';
import { parseMappingRules } from '../../firmware-bridge/mapping.js';
import { startMqtt } from '../../app/start-mqtt.js';
import { CONFIG_FILE_KEYS, loadConfig } from '../../node/config.js';
import { testNode } from '../helpers/node.js';
import { tempDir } from '../helpers/tmp.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Running on a gateway'), readme.indexOf('## Benchmarks'));

/** The first fenced block of `lang` in the section. */
function block(lang: string): string {
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section);
  if (!m) throw new Error(`no \`\`\`${lang} block under "Running on a gateway"`);
  return m[1]!;
}

describe('README: running on a gateway', () => {
  it('has a config file example that loads and holds every key', () => {
    const text = block('json');
    const file = join(tempDir(), 'eddy.json');
    writeFileSync(file, text);
    const config = loadConfig({ flags: { config: file } });
    // One gateway: the keys that only a cluster of several has are shown in "Three gateways".
    const clusterOnly = ['controller-quorum-voters', 'cluster-secret-file', 'cluster-id'];
    expect(Object.keys(JSON.parse(text) as object).sort()).toEqual(CONFIG_FILE_KEYS.filter((k) => !clusterOnly.includes(k)).sort());
    expect(config).toMatchObject({ dataDir: '/var/lib/eddy', port: 9400, httpPort: 9401, logFormat: 'json', maxDiskBytes: 8 * 2 ** 30 });
    expect(parseMappingRules(config.mqttRules)).toHaveLength(2);
  });

  it('has a systemd unit that uses that file, writes where the config says, and outlasts the shutdown bound', () => {
    const unit = new Map<string, string[]>();
    for (const line of block('ini').split('\n')) {
      const m = /^(\w+)=(.*)$/.exec(line);
      if (m) unit.set(m[1]!, [...(unit.get(m[1]!) ?? []), m[2]!]);
    }
    const one = (key: string) => unit.get(key)?.[0];
    expect(one('ExecStart')).toBe('/usr/local/bin/eddy start --config /etc/eddy/eddy.json');
    expect(one('Type')).toBe('simple');
    expect(one('User')).toBe('eddy');
    expect(one('KillSignal')).toBe('SIGTERM');
    expect(Number(one('TimeoutStopSec'))).toBeGreaterThan(SHUTDOWN_LIMIT_MS / 1000);
    expect(one('StateDirectory')).toBe('eddy');
    expect(one('ReadWritePaths')).toBe('/var/lib/eddy'); // the config's data-dir
    expect(one('CacheDirectory')).toBe('eddy');
    expect(one('Environment')).toBe('XDG_CACHE_HOME=/var/cache/eddy');
    expect(one('ProtectSystem')).toBe('strict');
    expect(unit.has('MemoryDenyWriteExecute')).toBe(false);
  });

  it('names only metrics a node serves', async () => {
    const node = await testNode(tempDir(), 0, { httpPort: 0, maxDiskBytes: 2 ** 30 });
    const mqtt = await startMqtt(node, { port: 0, logger: node.store.logger });
    const served = await (await fetch(`${node.httpUrl}/metrics`)).text();
    const types = new Set([...served.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const named = new Set([...section.matchAll(/\b((?:eddy|process|nodejs)_[a-z_]+[a-z])\b/g)].map((m) => m[1]!));
    expect(named.size).toBeGreaterThan(20);
    for (const name of named) expect(types, name).toContain(name);
    await mqtt.close();
  });
});
