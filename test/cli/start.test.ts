import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LogStore } from '../../node/storage/log-store.js';
import { batchOf } from '../helpers/batches.js';
import { tempDir } from '../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'cli/main.ts');

function eddy(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('eddy start (real process)', () => {
  it('creates the data dir, reports it, and says plainly that there is nothing to serve yet', () => {
    const dir = join(tempDir(), 'data');
    const r = eddy(['start', '--data-dir', dir]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`data:       ${dir} (0 partitions, clean shutdown)`);
    expect(r.out).toMatch(/listening:  not yet/);
    expect(existsSync(join(dir, 'log.db'))).toBe(true);
  });

  it('recovers an existing data dir and counts its partitions', async () => {
    const dir = tempDir();
    const store = await LogStore.open({ path: join(dir, 'log.db') });
    await (await store.partition('a', 0)).append([batchOf(2)]);
    await (await store.partition('a', 1)).append([batchOf(2)]);
    await store.close();
    const r = eddy(['start'], { EDDY_DATA_DIR: dir });
    expect(r.code).toBe(0);
    expect(r.out).toContain('(2 partitions, clean shutdown)');
  });

  it('refuses bad configuration with one line per problem and exit code 1', () => {
    const r = eddy(['start', '--sync', 'sometimes'], { EDDY_LOG_LEVEL: 'loud', EDDY_DATA_DIR: join(tempDir(), 'd') });
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^eddy: invalid configuration:\n {2}- --sync = "sometimes": .*\n {2}- EDDY_LOG_LEVEL = "loud": must be one of debug, info, warn, error\n$/);
  });

  it('prints its version', () => {
    expect(eddy(['--version']).out.trim()).toBe('0.1.0');
  });
});
