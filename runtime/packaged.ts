/**
 * The packaged executable: Node's single executable application (SEA) with Eddy's bundle and
 * its assets (native addons, the writer thread's script, the lz4 WebAssembly) embedded in the
 * binary. Outside the packaged binary every function here answers null, and callers load the
 * same things from node_modules as usual.
 *
 * A leaf module: it uses only Node built-ins, so storage and protocol code may depend on it.
 */
import { createRequire } from 'node:module';
import { extractToCache } from './native-cache.js';

type SeaModule = typeof import('node:sea');

let sea: SeaModule | null | undefined;

/** node:sea, when this process is a packaged executable; null otherwise. */
function packagedSea(): SeaModule | null {
  if (sea === undefined) {
    try {
      // Required, not imported: isSea() appeared in Node 20.12, and older Nodes have no node:sea.
      const candidate = createRequire(process.execPath)('node:sea') as SeaModule;
      sea = candidate.isSea() ? candidate : null;
    } catch {
      sea = null;
    }
  }
  return sea;
}

/** An embedded asset's text, or null outside the packaged executable. */
export function packagedText(name: string): string | null {
  const s = packagedSea();
  return s ? s.getAsset(name, 'utf8') : null;
}

const extracted = new Map<string, string>();

/**
 * The path of an embedded native addon, extracted once to a content-hashed cache file (see
 * native-cache.ts), or null outside the packaged executable. Native code can only be loaded from
 * a file, so the addon must reach the disk; the hash in the path means an upgrade never loads an
 * older binary's addon.
 */
export function packagedAddonPath(name: string): string | null {
  const s = packagedSea();
  if (!s) return null;
  let path = extracted.get(name);
  if (!path) {
    // The hash was recorded at build time: when the addon is already unpacked, the bytes inside
    // the executable are never touched (nor mapped into memory). getRawAsset is a view of them,
    // not a copy (addons are megabytes).
    path = extractToCache(name, { sha256: s.getAsset(`${name}.sha256`, 'utf8').trim(), bytes: () => new Uint8Array(s.getRawAsset(name) as ArrayBuffer) });
    extracted.set(name, path);
  }
  return path;
}

/**
 * Loads a native addon from a path with process.dlopen. The packaged executable's require()
 * only loads built-in modules, so addons are opened directly; this works on any Node too.
 */
export function loadAddon(path: string): unknown {
  const module = { exports: {} as unknown };
  try {
    process.dlopen(module, path);
  } catch (err) {
    throw new Error(
      `cannot load the native addon ${path}: ${(err as Error).message}. ` +
        'If that directory is on a filesystem mounted noexec, point XDG_CACHE_HOME at a directory where programs may run (for example /var/cache/eddy).',
    );
  }
  return module.exports;
}
