/**
 * Compiles better-sqlite3's addon (with SQLite itself) from the pinned source package against the
 * embedded Node's headers, for the target architecture: natively for x64, with Debian's aarch64
 * cross compiler for arm64. The result is cached by package version, Node version and arch.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fetchPackage } from './fetch-package.js';
import type { Pins } from './pins.js';
import { elfMachine, type Target } from './targets.js';
import { cleanEnv, hasProgram, log, run } from './tools.js';

const require = createRequire(import.meta.url);

export interface SqliteBuild {
  /** The compiled addon. */
  addon: string;
  /** The package's JavaScript entry point, for the bundle. */
  lib: string;
}

export function buildSqliteAddon(t: Target, pins: Pins, nodeDir: string, cacheDir: string): SqliteBuild {
  const pkg = pins.sqlite.package;
  const source = fetchPackage(pkg, cacheDir);
  const dir = join(cacheDir, `${pkg.name}-${pkg.version}-node${pins.node.version}-${t.arch}`);
  const addon = join(dir, 'build', 'Release', 'better_sqlite3.node');
  const lib = join(source, 'lib', 'index.js');
  if (existsSync(addon) && elfMachine(readFileSync(addon)) === t.elfMachine) return { addon, lib };

  if (t.cross) {
    for (const tool of [t.cross.cc, t.cross.cxx]) {
      if (!hasProgram(tool)) throw new Error(`${tool} not found: install Debian's cross compiler (apt-get install ${t.cross.debianPackage})`);
    }
  }
  log(`  compiling ${pkg.name} ${pkg.version} for Node ${pins.node.version} ${t.arch} (about a minute)`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  // The package's own prebuilt binaries are not used: the addon is compiled here, from source.
  for (const part of ['binding.gyp', 'deps', 'src', 'lib', 'package.json']) cpSync(join(source, part), join(dir, part), { recursive: true });
  // binding.gyp finds node-addon-api's headers with require('node-addon-api') from its directory.
  cpSync(fetchPackage(pins.sqlite.addonApi, cacheDir), join(dir, 'node_modules', 'node-addon-api'), { recursive: true });
  const env = cleanEnv(t.cross ? { CC: t.cross.cc, CXX: t.cross.cxx, LINK: t.cross.cxx, AR: t.cross.ar } : {});
  const nodeGyp = join(require.resolve('node-gyp/package.json'), '..', 'bin', 'node-gyp.js');
  const jobs = String(Math.max(2, cpus().length));
  run(process.execPath, [nodeGyp, 'rebuild', '--release', '--force_build=1', `--nodedir=${nodeDir}`, `--arch=${t.arch}`, `--jobs=${jobs}`], { cwd: dir, env });
  const machine = elfMachine(readFileSync(addon));
  if (machine !== t.elfMachine) throw new Error(`${addon} was built for ELF machine ${machine}, not ${t.arch}`);
  return { addon, lib };
}
