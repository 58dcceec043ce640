/**
 * `quorum-state.json` in the data directory (Kafka's quorum-state file): the epoch, the vote
 * cast in it and the known leader. Written atomically and synced before the Raft core hears
 * `quorumStatePersisted()`, so a restarted voter never votes twice in one epoch.
 */
import { join } from 'node:path';
import { readJsonFile, writeFileAtomic } from '../cluster/atomic-file.js';
import type { QuorumState } from './raft/raft-messages.js';

export const QUORUM_STATE_FILE = 'quorum-state.json';

const isId = (v: unknown): v is number | null => v === null || (Number.isInteger(v) && (v as number) >= 0);

/** The stored state, or null when the directory has none (a fresh voter). Throws on a damaged file. */
export function readQuorumState(dataDir: string): QuorumState | null {
  const path = join(dataDir, QUORUM_STATE_FILE);
  const v = readJsonFile(path, "it is written atomically, so the disk is damaged: restore it or wipe this voter's data directory") as Partial<QuorumState> | null;
  if (v === null) return null;
  if (typeof v !== 'object' || v === null || !Number.isInteger(v.epoch) || (v.epoch as number) < 0 || !isId(v.votedFor) || !isId(v.leaderId)) {
    throw new Error(`${path} does not hold {"epoch", "votedFor", "leaderId"} as Eddy writes it`);
  }
  return { epoch: v.epoch!, votedFor: v.votedFor!, leaderId: v.leaderId! };
}

/** Atomic, synced replacement of the file. */
export function writeQuorumState(dataDir: string, state: QuorumState): void {
  const body = { epoch: state.epoch, votedFor: state.votedFor, leaderId: state.leaderId };
  writeFileAtomic(dataDir, QUORUM_STATE_FILE, `${JSON.stringify(body)}\n`);
}
