/**
 * Writes an embedded file (a native addon) to a cache directory named by its content hash, so
 * that it can be loaded from disk.
 *
 * Where: $XDG_CACHE_HOME/eddy/native/<hash>/ (or ~/.cache/eddy/…), falling back to a private
 * directory in the system temp dir when that is not writable (a service user with no home).
 *
 * Safe when two processes start at once: each writes its own temporary file and renames it into
 * place; rename is atomic, and both write the same bytes, so whichever lands last is correct and
 * a reader never sees a half-written file. A file already there is used only if its hash
 * matches, so a truncated or tampered file is replaced rather than loaded.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** The directories to try, in order, for the given environment. */
export function cacheRoots(env: NodeJS.ProcessEnv = process.env): { dir: string; private: boolean }[] {
  const roots: { dir: string; private: boolean }[] = [];
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) roots.push({ dir: join(xdg, 'eddy'), private: false });
  else {
    let home = env.HOME;
    if (!home) {
      try {
        home = homedir();
      } catch {
        home = undefined;
      }
    }
    if (home && isAbsolute(home)) roots.push({ dir: join(home, '.cache', 'eddy'), private: false });
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  roots.push({ dir: join(tmpdir(), `eddy-${uid}`), private: true });
  return roots;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Whether the file at `path` has this hash; read in chunks, to keep memory flat. */
function holds(path: string, hash: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const h = createHash('sha256');
    const chunk = Buffer.allocUnsafe(64 * 1024);
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) h.update(chunk.subarray(0, n));
    return h.digest('hex') === hash;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/**
 * A shared temp dir is writable by everyone: our directory there must be ours alone, or another
 * user could plant a library for us to load.
 */
function checkPrivate(dir: string): void {
  const st = lstatSync(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new Error(`${dir} is not a private directory owned by this user`);
  }
}

function writeAtomically(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fd = openSync(tmp, 'wx', 0o755);
    try {
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** What to unpack: its SHA-256 (hex), and its bytes, asked for only when they must be written. */
export interface CacheContent {
  sha256: string;
  bytes(): Uint8Array;
}

export function contentOf(bytes: Uint8Array): CacheContent {
  return { sha256: sha256(bytes), bytes: () => bytes };
}

/**
 * Returns the path of `name` with exactly the given content, writing it if needed. Throws one
 * error naming every directory tried and why it failed.
 */
export function extractToCache(name: string, content: CacheContent, env: NodeJS.ProcessEnv = process.env): string {
  const hash = content.sha256;
  const problems: string[] = [];
  for (const root of cacheRoots(env)) {
    const dir = join(root.dir, 'native', hash.slice(0, 16));
    const path = join(dir, name);
    try {
      if (root.private) {
        mkdirSync(root.dir, { recursive: true, mode: 0o700 });
        checkPrivate(root.dir);
      }
      if (holds(path, hash)) return path;
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      const bytes = content.bytes();
      if (sha256(bytes) !== hash) throw new Error(`the embedded ${name} does not match its recorded hash: the executable is damaged`);
      writeAtomically(path, bytes);
      return path;
    } catch (err) {
      problems.push(`${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  throw new Error(
    `cannot unpack ${name} (the packaged executable's native code) to disk; tried ${problems.join('; ')}. ` +
      'Set XDG_CACHE_HOME to a directory this user can write to.',
  );
}
