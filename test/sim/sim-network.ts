/**
 * The simulated network: per-message delay (which also reorders), drops, duplicates, and
 * partitions that block a direction (a one-way partition blocks only one of the two).
 */
import type { RaftMessage } from '../../node/controller/raft/raft-messages.js';
import { between } from './prng.js';

export interface InFlight {
  readonly deliverAt: number;
  readonly seq: number;
  readonly from: number;
  readonly to: number;
  readonly message: RaftMessage;
}

export interface NetworkFaults {
  dropRate: number;
  duplicateRate: number;
  maxDelayMs: number;
}

export class SimNetwork {
  private queue: InFlight[] = [];
  private seq = 0;
  /** "from>to" pairs that cannot deliver. */
  private readonly blocked = new Set<string>();
  faults: NetworkFaults = { dropRate: 0, duplicateRate: 0, maxDelayMs: 5 };

  constructor(private readonly random: () => number) {}

  send(now: number, from: number, to: number, message: RaftMessage): void {
    if (this.random() < this.faults.dropRate) return;
    const copies = this.random() < this.faults.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.queue.push({ deliverAt: now + between(this.random, 1, this.faults.maxDelayMs), seq: this.seq++, from, to, message });
    }
  }

  /** Messages due by `now`, in delivery order; blocked ones vanish (checked at delivery, like a cut cable). */
  due(now: number): InFlight[] {
    const ready: InFlight[] = [];
    const rest: InFlight[] = [];
    for (const m of this.queue) (m.deliverAt <= now ? ready : rest).push(m);
    this.queue = rest;
    ready.sort((a, b) => a.deliverAt - b.deliverAt || a.seq - b.seq);
    return ready.filter((m) => !this.blocked.has(`${m.from}>${m.to}`));
  }

  block(from: number, to: number): void {
    this.blocked.add(`${from}>${to}`);
  }

  /** Split the nodes into two sides that cannot talk either way. */
  partition(sideA: readonly number[], sideB: readonly number[]): void {
    for (const a of sideA) for (const b of sideB) {
      this.block(a, b);
      this.block(b, a);
    }
  }

  heal(): void {
    this.blocked.clear();
  }
}
