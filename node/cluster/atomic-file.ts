/**
 * Durable whole-file replacement: write a temp file, fsync it, rename it over the target, fsync
 * the directory. A power cut leaves either the old file or the new one, never half of one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `dir/name` atomically and durably (creating `dir` if missing). */
export function writeFileAtomic(dir: string, name: string, data: string | Uint8Array): void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    if (typeof data === 'string') writeSync(fd, data);
    else {
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dir);
}

/** A rename or unlink is durable only once the directory entry is on disk. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * A small JSON state file's parsed contents, or null when it does not exist. `damaged` says what
 * to do when the file is there but is not JSON (these files are written atomically, so that means
 * the disk or a hand edit damaged it).
 */
export function readJsonFile(path: string, damaged: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${path} is not valid JSON (${(err as Error).message}); ${damaged}`);
  }
}
