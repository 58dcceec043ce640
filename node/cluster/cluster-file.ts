/**
 * `cluster.json` in the data directory: which cluster and node the data belongs to. Written
 * once, atomically (temp file, fsync, rename, fsync of the directory), so a power cut leaves
 * either the old file or the new one, never half of one.
 */
import { join } from 'node:path';
import { readJsonFile, writeFileAtomic } from './atomic-file.js';
import { MAX_NODE_ID, type Voter } from './voters.js';

export const CLUSTER_FILE = 'cluster.json';

/** What cluster.json holds. */
export interface ClusterFile {
  /** 22 characters of base64url: 16 random bytes, as Kafka's cluster ids. */
  clusterId: string;
  nodeId: number;
  voters: Voter[];
}

export const CLUSTER_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** The file's contents, or null when the data directory has none (new, or from a single-node version). */
export function readClusterFile(dataDir: string): ClusterFile | null {
  const path = join(dataDir, CLUSTER_FILE);
  const v = readJsonFile(path, "restore it from a backup, or copy it from this node's previous installation") as Partial<ClusterFile> | null;
  if (v === null) return null;
  const ok =
    typeof v === 'object' && v !== null &&
    typeof v.clusterId === 'string' && CLUSTER_ID_PATTERN.test(v.clusterId) &&
    Number.isInteger(v.nodeId) && (v.nodeId as number) >= 0 && (v.nodeId as number) <= MAX_NODE_ID &&
    Array.isArray(v.voters) && v.voters.length > 0 &&
    v.voters.every((x: Partial<Voter>) => Number.isInteger(x?.id) && typeof x?.url === 'string');
  if (!ok) throw new Error(`${path} does not hold {"clusterId", "nodeId", "voters"} as Eddy writes it; restore it from a backup`);
  return { clusterId: v.clusterId!, nodeId: v.nodeId!, voters: v.voters!.map((x) => ({ id: x.id, url: x.url })) };
}

/** Writes the file atomically and durably. */
export function writeClusterFile(dataDir: string, file: ClusterFile): void {
  writeFileAtomic(dataDir, CLUSTER_FILE, `${JSON.stringify(file, null, 2)}\n`);
}
