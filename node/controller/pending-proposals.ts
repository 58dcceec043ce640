/**
 * Proposals a leader appended and is waiting to see committed. A proposal commits when every
 * one of its offsets is committed with the epoch it was appended in; any other epoch at one of
 * its offsets (a new leader overwrote it), a truncation below it or a timeout rejects it with a
 * retriable coded error. A timeout's outcome is unknown: the records may still commit.
 */
import { EddyError, type ErrorName } from '../../protocol/errors.js';
import type { RaftEntry } from './raft/raft-messages.js';

/** Why a proposal was refused, with the leader as this node last knew it (null: unknown). */
export class ProposeError extends EddyError {
  constructor(name: ErrorName, detail: string, readonly leaderId: number | null, readonly leaderEpoch: number) {
    super(name, detail);
  }
}

/** What a committed proposal resolves with. */
export interface Committed {
  readonly offsets: readonly number[];
  readonly epoch: number;
}

interface Pending {
  readonly first: number;
  readonly last: number;
  readonly epoch: number;
  readonly deadline: number;
  overwritten: boolean;
  resolve(c: Committed): void;
  reject(e: Error): void;
}

export class PendingProposals {
  #pending: Pending[] = [];

  get size(): number {
    return this.#pending.length;
  }

  add(offsets: readonly number[], epoch: number, deadline: number): Promise<Committed> {
    return new Promise<Committed>((resolve, reject) => {
      this.#pending.push({ first: offsets[0]!, last: offsets[offsets.length - 1]!, epoch, deadline, overwritten: false, resolve, reject });
    });
  }

  /** Entries committed in offset order; `appliedEnd` is the end of everything applied so far. */
  committed(entries: readonly RaftEntry[], appliedEnd: number, leader: () => { id: number | null; epoch: number }): void {
    if (this.#pending.length === 0) return;
    for (const e of entries) {
      for (const p of this.#pending) if (e.offset >= p.first && e.offset <= p.last && e.epoch !== p.epoch) p.overwritten = true;
    }
    this.#settle((p) => p.last < appliedEnd, (p) => {
      if (!p.overwritten) return p.resolve({ offsets: range(p.first, p.last), epoch: p.epoch });
      const l = leader();
      p.reject(new ProposeError('NOT_LEADER_OR_FOLLOWER', `leadership of epoch ${p.epoch} was lost: offsets ${p.first}-${p.last} were overwritten by a newer leader, the records were not committed`, l.id, l.epoch));
    });
  }

  /** The log was cut at `offset`: proposals reaching it are lost. */
  truncated(offset: number, leader: { id: number | null; epoch: number }): void {
    this.#settle((p) => p.last >= offset, (p) => p.reject(new ProposeError('NOT_LEADER_OR_FOLLOWER', `leadership of epoch ${p.epoch} was lost: offsets from ${offset} were truncated, the records were not committed`, leader.id, leader.epoch)));
  }

  /** Every proposal not settled by `nowMs` times out (outcome unknown). */
  expire(nowMs: number, leader: { id: number | null; epoch: number }): void {
    this.#settle((p) => nowMs >= p.deadline, (p) => p.reject(new ProposeError('REQUEST_TIMED_OUT', `offsets ${p.first}-${p.last} were not committed in time; they may still commit`, leader.id, leader.epoch)));
  }

  /** Rejects everything (close, failure, a snapshot replacing the log): outcome unknown. */
  abandon(why: string, leader: { id: number | null; epoch: number }): void {
    this.#settle(() => true, (p) => p.reject(new ProposeError('NOT_LEADER_OR_FOLLOWER', `${why}; offsets ${p.first}-${p.last} may or may not commit`, leader.id, leader.epoch)));
  }

  #settle(match: (p: Pending) => boolean, settle: (p: Pending) => void): void {
    const done = this.#pending.filter(match);
    if (done.length === 0) return;
    this.#pending = this.#pending.filter((p) => !match(p));
    for (const p of done) settle(p);
  }
}

function range(first: number, last: number): number[] {
  const out: number[] = [];
  for (let o = first; o <= last; o++) out.push(o);
  return out;
}
