/**
 * Fetches an npm package's tarball (through npm, so the registry, proxy and cache settings of
 * the machine apply), checks it against a pinned integrity, and unpacks it once into the build
 * cache. Works offline when npm's cache already holds the tarball.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, integrityOf, log, run } from './tools.js';

export interface PackageRef {
  name: string;
  version: string;
  integrity: string;
}

/** Returns the directory holding the unpacked package (its `package/` folder). */
export function fetchPackage(ref: PackageRef, cacheDir: string): string {
  const base = `${ref.name.replace(/^@/, '').replace('/', '-')}-${ref.version}`;
  const dir = join(cacheDir, base);
  const done = join(dir, '.unpacked');
  if (existsSync(done)) return join(dir, 'package');
  mkdirSync(cacheDir, { recursive: true });
  const tgz = join(cacheDir, `${base}.tgz`);
  if (!existsSync(tgz) || integrityOf(tgz) !== ref.integrity) {
    log(`  fetching ${ref.name}@${ref.version} from the npm registry`);
    rmSync(tgz, { force: true });
    run('npm', ['pack', `${ref.name}@${ref.version}`, '--pack-destination', cacheDir, '--silent'], { env: cleanEnv(), cwd: cacheDir });
  }
  const got = integrityOf(tgz);
  if (got !== ref.integrity) {
    rmSync(tgz, { force: true });
    throw new Error(`${ref.name}@${ref.version}: the tarball's integrity is ${got}, expected ${ref.integrity}. Refusing to use it.`);
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  run('tar', ['-xzf', tgz, '-C', dir]);
  writeFileSync(done, `${ref.integrity}\n`);
  return join(dir, 'package');
}
