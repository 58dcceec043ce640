/**
 * A partition leader's view of its followers (Kafka's Partition / Replica state), as pure logic
 * on an injected clock: each follower's log end offset as its fetches report it (a follower
 * fetches from the offset it holds durably, so that is what counts), when it was last caught up,
 * which replicas should leave or rejoin the ISR, and the high watermark.
 *
 * ISR rules (Kafka's, KIP-497):
 * - A follower is caught up at a fetch when it asks for the leader's log end as it was at the
 *   time of that fetch, or of its previous fetch (Kafka's lastCaughtUpTime rule: a follower that
 *   keeps pace under load is not shrunk just because records keep arriving).
 * - An ISR follower not caught up within `replicaLagTimeMaxMs` should leave the ISR; a replica
 *   outside it whose log end reaches the high watermark and this leader epoch's start should
 *   rejoin.
 * - ISR changes are the controller's to commit (AlterPartition with the partition epoch). While
 *   one is pending, the high watermark is computed over the *maximal* ISR (the committed one
 *   plus pending additions, minus nothing): a replica being removed still holds the watermark
 *   back until the removal is committed, and one being added counts at once, so whichever way the
 *   change goes no acknowledged record is above what the ISR holds.
 * - The high watermark is the smallest log end offset over that ISR (the leader's own durable
 *   end included) and never moves backwards.
 */

export interface FollowerState {
  readonly replicaId: number;
  /** The offset its last fetch asked for: what it holds durably. -1 before its first fetch. */
  readonly logEndOffset: number;
  readonly lastFetchMs: number;
  /** -1: never caught up since this leader took over. */
  readonly lastCaughtUpMs: number;
  /** The leader's log end offset at its last fetch (Kafka's lastFetchLeaderLogEndOffset). */
  readonly leaderEndAtLastFetch: number;
}

export interface LeaderReplicasInit {
  leaderId: number;
  replicas: readonly number[];
  /** The committed ISR (from the metadata image). */
  isr: readonly number[];
  highWatermark: number;
  /** First offset of this leader's epoch: a rejoining follower must have reached it. */
  epochStartOffset: number;
  nowMs: number;
}

export class LeaderReplicas {
  readonly leaderId: number;
  readonly replicas: readonly number[];
  readonly epochStartOffset: number;
  #isr: Set<number>;
  #pendingAdds = new Set<number>();
  #pendingRemoves = new Set<number>();
  #hw: number;
  readonly #followers = new Map<number, FollowerState>();

  constructor(init: LeaderReplicasInit) {
    if (!init.replicas.includes(init.leaderId)) throw new RangeError(`leader ${init.leaderId} is not a replica of [${init.replicas.join(', ')}]`);
    this.leaderId = init.leaderId;
    this.replicas = [...init.replicas];
    this.epochStartOffset = init.epochStartOffset;
    this.#isr = new Set(init.isr);
    this.#isr.add(init.leaderId);
    this.#hw = init.highWatermark;
    for (const id of init.replicas) {
      if (id === init.leaderId) continue;
      // A follower in the ISR when this leader took over counts as caught up now: it gets a full
      // replicaLagTimeMaxMs to show it keeps up (Kafka resets the clocks the same way).
      const inIsr = this.#isr.has(id);
      this.#followers.set(id, { replicaId: id, logEndOffset: -1, lastFetchMs: -1, lastCaughtUpMs: inIsr ? init.nowMs : -1, leaderEndAtLastFetch: -1 });
    }
  }

  get highWatermark(): number {
    return this.#hw;
  }

  /** The committed ISR. */
  get isr(): number[] {
    return this.replicas.filter((r) => this.#isr.has(r));
  }

  /** The committed ISR with pending additions and without nothing removed yet: what the HW waits for. */
  get maximalIsr(): number[] {
    return this.replicas.filter((r) => this.#isr.has(r) || this.#pendingAdds.has(r));
  }

  follower(replicaId: number): FollowerState | undefined {
    return this.#followers.get(replicaId);
  }

  /**
   * A fetch from `replicaId` at `fetchOffset` while the leader's log ends at `leaderLogEnd`.
   * Throws RangeError for a replica that is not a follower of this partition.
   */
  onFetch(replicaId: number, fetchOffset: number, leaderLogEnd: number, nowMs: number): void {
    const prev = this.#followers.get(replicaId);
    if (!prev) throw new RangeError(`replica ${replicaId} is not a follower of this partition (replicas [${this.replicas.join(', ')}], leader ${this.leaderId})`);
    let lastCaughtUpMs = prev.lastCaughtUpMs;
    if (fetchOffset >= leaderLogEnd) lastCaughtUpMs = Math.max(lastCaughtUpMs, nowMs);
    else if (prev.lastFetchMs >= 0 && fetchOffset >= prev.leaderEndAtLastFetch) lastCaughtUpMs = Math.max(lastCaughtUpMs, prev.lastFetchMs);
    this.#followers.set(replicaId, { replicaId, logEndOffset: fetchOffset, lastFetchMs: nowMs, lastCaughtUpMs, leaderEndAtLastFetch: leaderLogEnd });
  }

  /** ISR followers (not pending removal) that have not been caught up within `replicaLagTimeMaxMs`. */
  toShrink(nowMs: number, replicaLagTimeMaxMs: number): number[] {
    return this.isr.filter((id) => {
      if (id === this.leaderId || this.#pendingRemoves.has(id)) return false;
      const f = this.#followers.get(id)!;
      return f.lastCaughtUpMs < 0 || nowMs - f.lastCaughtUpMs > replicaLagTimeMaxMs;
    });
  }

  /** Replicas outside the ISR (not pending addition) whose log end reached the HW and this epoch's start. */
  toExpand(): number[] {
    return this.replicas.filter((id) => {
      if (id === this.leaderId || this.#isr.has(id) || this.#pendingAdds.has(id)) return false;
      const f = this.#followers.get(id)!;
      return f.logEndOffset >= 0 && f.logEndOffset >= this.#hw && f.logEndOffset >= this.epochStartOffset;
    });
  }

  /** The ISR to propose to the controller, or null when no change is due. */
  proposal(nowMs: number, replicaLagTimeMaxMs: number): number[] | null {
    const shrink = new Set(this.toShrink(nowMs, replicaLagTimeMaxMs));
    const expand = new Set(this.toExpand());
    if (shrink.size === 0 && expand.size === 0) return null;
    return this.replicas.filter((r) => (this.#isr.has(r) && !shrink.has(r)) || expand.has(r));
  }

  /** A proposal went to the controller: additions count toward the HW now, removals only once committed. */
  proposed(newIsr: readonly number[]): void {
    const next = new Set(newIsr);
    if (!next.has(this.leaderId)) throw new RangeError(`a proposed ISR must hold the leader ${this.leaderId}`);
    this.#pendingAdds = new Set([...next].filter((r) => !this.#isr.has(r)));
    this.#pendingRemoves = new Set([...this.#isr].filter((r) => !next.has(r)));
  }

  /** The controller committed an ISR (or refused the proposal: pass the ISR it still has). */
  committed(isr: readonly number[]): void {
    this.#isr = new Set(isr);
    this.#isr.add(this.leaderId);
    this.#pendingAdds.clear();
    this.#pendingRemoves.clear();
  }

  /**
   * Advances the high watermark to the smallest log end over the maximal ISR, the leader's own
   * being `leaderDurableEnd`; returns it. It never moves backwards.
   */
  updateHighWatermark(leaderDurableEnd: number): number {
    let min = leaderDurableEnd;
    for (const id of this.maximalIsr) {
      if (id === this.leaderId) continue;
      const end = this.#followers.get(id)!.logEndOffset;
      min = Math.min(min, end < 0 ? this.#hw : end);
    }
    if (min > this.#hw) this.#hw = min;
    return this.#hw;
  }
}
