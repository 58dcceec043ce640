/**
 * Starts a LogStore's writer thread (writer-worker.js). From node_modules it runs the file next
 * to this one; in the packaged executable there are no files, so it runs the bundled copy of the
 * same script embedded as an asset, and SQLite's addon comes from the extracted cache file.
 */
import type Database from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import { loadAddon, packagedAddonPath, packagedText } from '../../runtime/packaged.js';

/** What the writer thread reads from workerData (see writer-worker.js). */
export interface WriterConfig {
  path: string;
  pageSize: number;
  syncAlways: boolean;
  maxPageCount?: number;
  /** Path of better-sqlite3's addon; absent = the one node_modules provides. */
  nativeBinding?: string;
}

export function startWriterThread(config: WriterConfig): Worker {
  const packaged = packagedText('writer-worker.js');
  if (packaged !== null) return new Worker(packaged, { eval: true, workerData: config });
  return new Worker(new URL('./writer-worker.js', import.meta.url), { workerData: config });
}

/** The addon path to use when the caller gave none: the packaged one, if we are packaged. */
export function sqliteAddonPath(given: string | undefined): string | undefined {
  return given ?? packagedAddonPath('better_sqlite3.node') ?? undefined;
}

/**
 * better-sqlite3's options for this thread, for an addon path (or none). better-sqlite3 takes a
 * loaded addon object too (its typings only admit a path, hence the cast).
 */
export function sqliteOptions(addonPath: string | undefined): Database.Options {
  return addonPath ? ({ nativeBinding: loadAddon(addonPath) } as unknown as Database.Options) : {};
}
