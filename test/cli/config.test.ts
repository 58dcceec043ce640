import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../node/config.js';
import { VERSION } from '../../node/version.js';

describe('config', () => {
  it('uses embedded defaults', () => {
    expect(loadConfig({}, {})).toEqual({ dataDir: './eddy-data', sync: { kind: 'always' }, logLevel: 'info' });
  });

  it('takes EDDY_* variables, and flags over them', () => {
    const env = { EDDY_DATA_DIR: '/var/lib/eddy', EDDY_SYNC: 'interval:100', EDDY_LOG_LEVEL: 'warn' };
    expect(loadConfig({}, env)).toEqual({ dataDir: '/var/lib/eddy', sync: { kind: 'interval', ms: 100 }, logLevel: 'warn' });
    expect(loadConfig({ sync: 'always', dataDir: '/data' }, env)).toMatchObject({ dataDir: '/data', sync: { kind: 'always' } });
  });

  it('reports every bad field at once, naming where each value came from', () => {
    try {
      loadConfig({ sync: 'often', logLevel: 42 }, { EDDY_DATA_DIR: ' ' });
      throw new Error('expected ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems;
      expect(problems).toHaveLength(3);
      expect(problems[0]).toMatch(/^EDDY_DATA_DIR = " ": must be a directory path/);
      expect(problems[1]).toMatch(/^--sync = "often": .*use "always" or "interval:<ms>"/);
      expect(problems[2]).toMatch(/^--log-level .*expected text, got number/);
    }
  });

  it('keeps VERSION equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
