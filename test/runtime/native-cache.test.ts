import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cacheRoots, contentOf, extractToCache as extractBytes, type CacheContent } from '../../runtime/native-cache.js';

const extractToCache = (name: string, bytes: Uint8Array, env: NodeJS.ProcessEnv) => extractBytes(name, contentOf(bytes), env);
import { tempDir } from '../helpers/tmp.js';

const CHILD = fileURLToPath(new URL('../fixtures/extract-native.ts', import.meta.url));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function bytesOf(size: number, salt = 0): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = ((i * 2654435761) >>> 24) ^ salt;
  return b;
}

describe('native cache (where the packaged executable unpacks its addons)', () => {
  it('follows XDG_CACHE_HOME, then ~/.cache, then a private temp directory', () => {
    expect(cacheRoots({ XDG_CACHE_HOME: '/var/cache/x', HOME: '/home/u' })[0]).toEqual({ dir: '/var/cache/x/eddy', private: false });
    expect(cacheRoots({ HOME: '/home/u' })[0]).toEqual({ dir: '/home/u/.cache/eddy', private: false });
    // A relative XDG_CACHE_HOME is invalid per the XDG spec and ignored.
    expect(cacheRoots({ XDG_CACHE_HOME: 'rel', HOME: '/home/u' })[0]!.dir).toBe('/home/u/.cache/eddy');
    expect(cacheRoots({ HOME: '/home/u' }).at(-1)!.private).toBe(true);
  });

  it('writes once into a content-hashed path, reuses it, and replaces a damaged copy', () => {
    const xdg = tempDir();
    const bytes = bytesOf(100_000);
    const path = extractToCache('addon.node', bytes, { XDG_CACHE_HOME: xdg });
    expect(path.startsWith(join(xdg, 'eddy', 'native', sha(bytes).slice(0, 16)))).toBe(true);
    expect(sha(readFileSync(path))).toBe(sha(bytes));
    expect(statSync(path).mode & 0o777).toBe(0o755);
    const mtime = statSync(path).mtimeMs;
    expect(extractToCache('addon.node', bytes, { XDG_CACHE_HOME: xdg })).toBe(path);
    expect(statSync(path).mtimeMs).toBe(mtime); // reused, not rewritten

    writeFileSync(path, bytes.subarray(0, 5000)); // truncated, as by a full disk or a tamperer
    expect(extractToCache('addon.node', bytes, { XDG_CACHE_HOME: xdg })).toBe(path);
    expect(sha(readFileSync(path))).toBe(sha(bytes));

    // A new build (other bytes) gets its own directory; the old one is left for the old binary.
    const other = extractToCache('addon.node', bytesOf(100_000, 7), { XDG_CACHE_HOME: xdg });
    expect(other).not.toBe(path);
    expect(existsSync(path)).toBe(true);
    // No temporary files are left behind.
    expect(readdirSync(join(path, '..'))).toEqual(['addon.node']);
  });

  it('falls back to a private temp directory when the cache is not writable, and says where it tried', () => {
    const base = tempDir();
    const readOnly = join(base, 'ro');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o500);
    const bytes = bytesOf(1000);
    if (process.getuid?.() === 0) {
      // root writes anywhere; use a path under a regular file instead, which fails for anyone.
      writeFileSync(join(base, 'file'), 'x');
      const path = extractToCache('addon.node', bytes, { XDG_CACHE_HOME: join(base, 'file') });
      expect(path.startsWith(cacheRoots({}).at(-1)!.dir)).toBe(true);
    } else {
      const path = extractToCache('addon.node', bytes, { XDG_CACHE_HOME: readOnly });
      expect(path.startsWith(cacheRoots({}).at(-1)!.dir)).toBe(true);
    }
    expect(statSync(cacheRoots({}).at(-1)!.dir).mode & 0o077).toBe(0);
  });

  it('does not read the embedded bytes when the unpacked file already matches the recorded hash, and refuses bytes that do not match it', () => {
    const xdg = tempDir();
    const bytes = bytesOf(10_000);
    let reads = 0;
    const content: CacheContent = { sha256: contentOf(bytes).sha256, bytes: () => (reads++, bytes) };
    const path = extractBytes('addon.node', content, { XDG_CACHE_HOME: xdg });
    expect(reads).toBe(1);
    expect(extractBytes('addon.node', content, { XDG_CACHE_HOME: xdg })).toBe(path);
    expect(reads).toBe(1);
    const damaged: CacheContent = { sha256: content.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0')), bytes: () => bytes };
    expect(() => extractBytes('addon.node', damaged, { XDG_CACHE_HOME: xdg })).toThrow(/does not match its recorded hash/);
  });

  it('four processes unpacking the same addon at the same moment all get a complete file', async () => {
    const xdg = tempDir();
    const size = 4 * 1024 * 1024;
    const startAt = Date.now() + 1500;
    const runs = Array.from({ length: 4 }, () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', CHILD, String(size), String(startAt)], {
          env: { ...process.env, XDG_CACHE_HOME: xdg },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`child exited ${code}: ${err}`))));
      }),
    );
    const paths = await Promise.all(runs);
    expect(new Set(paths).size).toBe(1);
    expect(sha(readFileSync(paths[0]!))).toBe(sha(bytesOf(size)));
    expect(readdirSync(join(paths[0]!, '..'))).toEqual(['addon.node']);
  });
});

describe('loadAddon', () => {
  it('explains a native addon that cannot be loaded, and what to do about it', async () => {
    const { loadAddon } = await import('../../runtime/packaged.js');
    const dir = tempDir();
    const bogus = join(dir, 'broken.node');
    writeFileSync(bogus, 'not an ELF file');
    expect(() => loadAddon(bogus)).toThrow(/cannot load the native addon .*broken\.node.*XDG_CACHE_HOME/s);
  });

  it('loads a real addon from a path', async () => {
    const { loadAddon } = await import('../../runtime/packaged.js');
    const { createRequire } = await import('node:module');
    const path = createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
    const addon = loadAddon(path) as { Database?: unknown };
    expect(typeof addon.Database).toBe('function');
  });
});
