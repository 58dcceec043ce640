/**
 * Metadata snapshots on disk (KIP-630): `snapshots/<endOffset>-<epoch>.snapshot`, each the bytes
 * of `encodeSnapshot`, written atomically. The newest file that decodes wins at start; a damaged
 * one is skipped (its log prefix may be gone, so an older snapshot plus the log may not reach
 * it, and the leader's snapshot repairs that).
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, writeFileAtomic } from '../cluster/atomic-file.js';
import type { Logger } from '../logger.js';
import { decodeSnapshot, type MetadataImage } from './metadata/index.js';
import type { SnapshotId } from './raft/raft-messages.js';

export const SNAPSHOT_DIR = 'snapshots';
const NAME = /^(\d+)-(\d+)\.snapshot$/;

export interface LoadedSnapshot {
  readonly id: SnapshotId;
  readonly bytes: Uint8Array;
  readonly image: MetadataImage;
}

const fileName = (id: SnapshotId) => `${id.endOffset}-${id.epoch}.snapshot`;

function listIds(dataDir: string): SnapshotId[] {
  let names: string[];
  try {
    names = readdirSync(join(dataDir, SNAPSHOT_DIR));
  } catch {
    return [];
  }
  return names
    .map((n) => NAME.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ endOffset: Number(m[1]), epoch: Number(m[2]) }))
    .sort((a, b) => b.endOffset - a.endOffset || b.epoch - a.epoch);
}

/** The newest snapshot that decodes and whose position matches its name, or null. */
export function loadLatestSnapshot(dataDir: string, logger?: Logger): LoadedSnapshot | null {
  for (const id of listIds(dataDir)) {
    const path = join(dataDir, SNAPSHOT_DIR, fileName(id));
    try {
      const bytes = new Uint8Array(readFileSync(path));
      const image = decodeSnapshot(bytes);
      if (image.lastOffset !== id.endOffset - 1 || image.lastEpoch !== id.epoch) throw new Error(`it holds ${image.lastOffset}@${image.lastEpoch}`);
      return { id, bytes, image };
    } catch (err) {
      logger?.warn({ path }, `skipping metadata snapshot ${path}: ${(err as Error).message}`);
    }
  }
  return null;
}

/** Writes the snapshot durably, then removes the older ones (they are no longer needed). */
export function writeSnapshot(dataDir: string, id: SnapshotId, bytes: Uint8Array): void {
  const dir = join(dataDir, SNAPSHOT_DIR);
  writeFileAtomic(dir, fileName(id), bytes);
  let removed = false;
  for (const old of listIds(dataDir)) {
    if (old.endOffset < id.endOffset || (old.endOffset === id.endOffset && old.epoch !== id.epoch)) {
      rmSync(join(dir, fileName(old)), { force: true });
      removed = true;
    }
  }
  if (removed) fsyncDir(dir);
}
