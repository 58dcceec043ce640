/**
 * The roles of a KRaft replica and the durable-write bookkeeping around them. Role transitions
 * live in `RaftNode`; this file holds the shapes and the pure rules they rely on.
 */
import type { RaftEntry } from './raft-messages.js';

/**
 * unattached: knows an epoch, no leader (maybe voted). prospective: running a KIP-996 pre-vote
 * (epoch unchanged). candidate: epoch bumped, voted for itself. leader / follower: as in Raft.
 * A resigned leader becomes unattached in its epoch, keeping its self vote.
 */
export type RaftRole = 'unattached' | 'prospective' | 'candidate' | 'leader' | 'follower';

/** Votes needed to win among `voterCount` voters. */
export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * Raft's log-up-to-date rule (§5.4.1, KIP-595 Vote): the candidate's log is at least as
 * up to date as ours if its last epoch is larger, or equal with an end offset at least ours.
 */
export function candidateLogIsUpToDate(
  candidate: { lastOffsetEpoch: number; lastOffset: number },
  ours: { lastEpoch: number; endOffset: number },
): boolean {
  if (candidate.lastOffsetEpoch !== ours.lastEpoch) return candidate.lastOffsetEpoch > ours.lastEpoch;
  return candidate.lastOffset >= ours.endOffset;
}

type PendingWrite = { kind: 'append'; endOffset: number } | { kind: 'truncate'; offset: number };

/**
 * Which prefix of the in-memory log the disk holds. The host applies log writes in the order
 * emitted and acknowledges each append (and snapshot install) with its end offset; truncations
 * are not acknowledged, they are ordered before the next append. The durable prefix is what the
 * disk holds after the acknowledged writes, cut by every truncation still in flight (those
 * entries differ in memory already).
 */
export class DurabilityTracker {
  private readonly pending: PendingWrite[] = [];
  private diskEnd: number;

  constructor(durableEndOffset: number) {
    this.diskEnd = durableEndOffset;
  }

  appended(endOffset: number): void {
    this.pending.push({ kind: 'append', endOffset });
  }

  truncated(offset: number): void {
    this.pending.push({ kind: 'truncate', offset });
  }

  /** The disk was replaced by a snapshot ending at `endOffset` (acknowledged like an append). */
  installed(endOffset: number): void {
    this.pending.push({ kind: 'truncate', offset: endOffset });
    this.pending.push({ kind: 'append', endOffset });
  }

  /** The host synced the append that ended at `endOffset` (and everything emitted before it). */
  acknowledge(endOffset: number): boolean {
    const at = this.pending.findIndex((w) => w.kind === 'append' && w.endOffset === endOffset);
    if (at < 0) return false;
    for (const w of this.pending.splice(0, at + 1)) {
      this.diskEnd = w.kind === 'append' ? w.endOffset : Math.min(this.diskEnd, w.offset);
    }
    return true;
  }

  /** No append waits on the disk (a truncation alone needs no sync: the durable prefix already excludes it). */
  get idle(): boolean {
    return this.pending.every((w) => w.kind === 'truncate');
  }

  /** End offset of the prefix that would survive a crash now. */
  get durableEndOffset(): number {
    let end = this.diskEnd;
    for (const w of this.pending) if (w.kind === 'truncate') end = Math.min(end, w.offset);
    return end;
  }
}

/** The LeaderChange control record a new leader appends, so it can commit in its own epoch (Raft §5.4.2). */
export function leaderChangeEntry(offset: number, epoch: number, leaderId: number, voters: readonly number[]): RaftEntry {
  return { offset, epoch, control: true, payload: { type: 'LeaderChange', leaderId, voters: [...voters] } };
}
