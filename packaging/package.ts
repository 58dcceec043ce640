/**
 * `npm run package [-- --arch x64|arm64]`: builds dist/eddy-linux-<arch>, one file that runs Eddy
 * with no Node.js or node_modules on the machine. `--exec-argv "<flags>"` builds it with other Node
 * flags and `--no-code-cache` without a code cache, to measure what they change.
 *
 * It is a Node single executable application (SEA): an official Node 24 build (from the npm
 * registry's node-linux-<arch> package, pinned in node-runtime.json) with a blob injected that
 * holds the bundled CLI and its assets: better-sqlite3's addon compiled against that Node's
 * headers, @node-rs/crc32's prebuilt addon, the writer thread's script and the lz4 WebAssembly.
 * At start-up the addons are unpacked to a content-hashed cache (runtime/native-cache.ts).
 *
 * Everything it downloads comes from the npm registry and is checked against pinned integrities.
 * Build intermediates live in .build/ (safe to delete).
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { buildSqliteAddon } from './build-addon.js';
import { bundle } from './bundle.js';
import { fetchPackage } from './fetch-package.js';
import { nodeRef, readPins, type Pins } from './pins.js';
import { parseArch, target, type Arch } from './targets.js';
import { cleanEnv, hasProgram, log, run, sha256Of } from './tools.js';

const require = createRequire(import.meta.url);
const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const BUILD = join(ROOT, '.build');
const CACHE = join(BUILD, 'cache');
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * Node flags built into the executable (NODE_OPTIONS can still add more); --exec-argv overrides.
 * --max-semi-space-size=1 (MB): V8 sizes the young generation from the machine's memory, up to
 * 32 MB semi-spaces on a large machine; 4 MB cut the node's peak RSS under sustained produce and
 * consume from 256 to 192 MB with no loss of throughput, and 1 MB (both threads' young
 * generations) cut it again from 142-147 to 130-132 MB, idle from 80.0 to 79.4 MB, at 345-408k
 * records/s against 369-370k (npm run bench -- edge, back to back on the 2-vCPU dev VM).
 */
const EXEC_ARGV: string[] = ['--max-semi-space-size=1'];

function runtime(pins: Pins, arch: Arch): { dir: string; version: string } {
  return { dir: fetchPackage(nodeRef(pins, arch), CACHE), version: pins.node.version };
}

/** @node-rs/crc32's prebuilt addon for the arch, at the version installed, integrity from the lockfile. */
function crcAddon(arch: Arch): string {
  const version = (require('@node-rs/crc32/package.json') as { version: string }).version;
  const name = `@node-rs/crc32-linux-${arch}-gnu`;
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string; integrity: string }> };
  const entry = lock.packages[`node_modules/${name}`];
  if (!entry || entry.version !== version) throw new Error(`package-lock.json has no ${name}@${version}; run npm install`);
  const dir = fetchPackage({ name, version, integrity: entry.integrity }, CACHE);
  return join(dir, `crc32.linux-${arch}-gnu.node`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const archFlag = args.indexOf('--arch');
  const arch = parseArch(archFlag >= 0 ? (args[archFlag + 1] ?? '') : process.arch);
  const argvFlag = args.indexOf('--exec-argv');
  const execArgv = argvFlag >= 0 ? (args[argvFlag + 1] ?? '').split(' ').filter(Boolean) : EXEC_ARGV;
  const t = target(arch);
  const started = Date.now();
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  log(`== packaging eddy ${version} for linux-${arch}`);

  const pins = readPins(ROOT);
  const node = runtime(pins, arch);
  log(`  runtime: Node ${node.version} (${join(node.dir, 'bin', 'node')})`);
  const sqlite = buildSqliteAddon(t, pins, node.dir, CACHE);
  const crc = crcAddon(arch);
  const out = join(BUILD, `sea-${arch}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const { main: mainJs, worker } = await bundle(out, version, sqlite.lib);
  log(`  bundle: ${(statSync(mainJs).size / 1e6).toFixed(2)} MB (+ writer thread ${(statSync(worker).size / 1e3).toFixed(0)} kB)`);

  // The blob must come from the very Node it is injected into. A code cache (faster start-up)
  // can only be made by running that Node, natively or under qemu-user; without either, the
  // same Node version for this machine makes a blob without one.
  let blobNode = [join(node.dir, 'bin', 'node')];
  let codeCache = !args.includes('--no-code-cache');
  if (t.emulator) {
    if (hasProgram(t.emulator.command)) blobNode = [t.emulator.command, ...t.emulator.args, blobNode[0]!];
    else {
      log(`  ${t.emulator.command} not found (apt-get install ${t.emulator.debianPackage}): building without a code cache`);
      blobNode = [join(runtime(pins, process.arch as Arch).dir, 'bin', 'node')];
      codeCache = false;
    }
  }
  // Each addon's hash travels beside it, so a start-up that finds its addon already unpacked
  // never reads (and so never maps into memory) the copy inside the executable.
  const hashes: Record<string, string> = {};
  for (const [name, file] of Object.entries({ 'better_sqlite3.node': sqlite.addon, 'crc32.node': crc })) {
    hashes[`${name}.sha256`] = join(out, `${name}.sha256`);
    writeFileSync(hashes[`${name}.sha256`]!, sha256Of(file));
  }
  const blob = join(out, 'sea.blob');
  const config = {
    main: mainJs,
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: codeCache,
    execArgv,
    assets: {
      'better_sqlite3.node': sqlite.addon,
      'crc32.node': crc,
      'writer-worker.js': worker,
      'lz4_wasm_nodejs_bg.wasm': join(require.resolve('lz4-wasm-nodejs/package.json'), '..', 'lz4_wasm_nodejs_bg.wasm'),
      ...hashes,
    },
  };
  writeFileSync(join(out, 'sea-config.json'), JSON.stringify(config, null, 2));
  // The code cache is made under the executable's own Node flags: V8 rejects a cache made under
  // flags that change its flag hash (e.g. --no-short-builtin-calls), printing a warning at every
  // start and compiling the whole bundle from source instead (~5 MB more idle RSS).
  run(blobNode[0]!, [...blobNode.slice(1), ...execArgv, '--experimental-sea-config', join(out, 'sea-config.json')], { env: cleanEnv(), cwd: ROOT });

  const exe = join(out, `eddy-linux-${arch}`);
  copyFileSync(join(node.dir, 'bin', 'node'), exe);
  chmodSync(exe, 0o755);
  // Official builds keep their symbols (~18 MB); the executable doesn't need them.
  const strip = t.cross ? t.cross.strip : 'strip';
  if (hasProgram(strip)) run(strip, ['--strip-all', exe]);
  else log(`  ${strip} not found: leaving the runtime's symbols in (a bigger file)`);
  // postject's CLI, in a child process: its ELF library prints a warning per note section of the
  // official binary, which would bury this script's own output.
  const postject = join(require.resolve('postject/package.json'), '..', 'dist', 'cli.js');
  run(process.execPath, [postject, exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]);

  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const final = join(ROOT, 'dist', `eddy-linux-${arch}`);
  // Copied, not renamed: postject writes the executable in one huge write, which the kernel
  // keeps in the page cache as large folios, and mapping those makes the first runs map ~15 MB
  // more of the file than an installed copy does (the edge bench would measure that, not Eddy).
  const tmp = `${final}.tmp`;
  copyFileSync(exe, tmp);
  chmodSync(tmp, 0o755);
  renameSync(tmp, final);
  rmSync(exe);
  const mb = (statSync(final).size / 1e6).toFixed(1);
  log(`== dist/eddy-linux-${arch}: ${mb} MB, sha256 ${sha256Of(final)}, Node ${node.version}, code cache ${codeCache ? 'yes' : 'no'}, Node flags [${execArgv.join(' ')}] (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

main().catch((err: unknown) => {
  process.stderr.write(`package: ${(err as Error).message}\n`);
  process.exit(1);
});
