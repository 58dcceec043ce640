import { EddyError } from '../../protocol/errors.js';

/**
 * When the log's bytes reach the disk.
 * - `always`: every group commit fsyncs before its appends resolve. The default for a single
 *   node with replication factor 1: power loss on a gateway is normal, and the ack must mean it.
 * - `interval`: commits are written (safe against a process crash) and fsynced at most every
 *   `ms` milliseconds (a power loss can lose the last interval). For replicated topics, where
 *   the copy on other nodes is the durability.
 */
export type SyncPolicy = { kind: 'always' } | { kind: 'interval'; ms: number };

export const SYNC_ALWAYS: SyncPolicy = { kind: 'always' };

/** Parses `always` or `interval:<ms>` (1..3,600,000). */
export function parseSyncPolicy(text: string): SyncPolicy {
  const t = text.trim();
  if (t === 'always') return SYNC_ALWAYS;
  const m = /^interval:(\d+)$/.exec(t);
  if (m) {
    const ms = Number(m[1]);
    if (ms >= 1 && ms <= 3_600_000) return { kind: 'interval', ms };
  }
  throw new EddyError(
    'INVALID_REQUEST',
    `sync policy "${text}" is not valid; use "always" or "interval:<ms>" with 1 ≤ ms ≤ 3600000`,
  );
}

export function formatSyncPolicy(p: SyncPolicy): string {
  return p.kind === 'always' ? 'always' : `interval:${p.ms}`;
}
