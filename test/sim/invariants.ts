/**
 * The safety properties the simulation checks after every step. A violation is a string
 * naming the property, the node and the offsets involved.
 */
import type { RaftEntry } from '../../node/controller/raft/raft-messages.js';
import type { SimHost } from './sim-host.js';

const keyOf = (e: RaftEntry) => `${e.epoch}:${String(e.control ? 'control' : e.payload)}`;

export class InvariantChecker {
  /** Epoch → the one node that led it. */
  private readonly leaders = new Map<number, number>();
  /** Offset → the entry committed there (seen applied, or held below some node's HW). */
  readonly committed = new Map<number, string>();
  /** Applied end offset → state machine hash: equal prefixes give equal state. */
  private readonly states = new Map<number, number>();
  violation: string | null = null;

  private fail(message: string): void {
    this.violation ??= message;
  }

  private commit(node: number, e: RaftEntry, what: string): void {
    const key = keyOf(e);
    const known = this.committed.get(e.offset);
    if (known === undefined) this.committed.set(e.offset, key);
    else if (known !== key) this.fail(`committed entry changed: node ${node} ${what} offset ${e.offset} as ${key}, committed was ${known}`);
  }

  /** One applied entry (host.hash already includes it): in order, exactly once, the same everywhere. */
  applied(host: SimHost, e: RaftEntry): void {
    if (e.offset !== host.appliedEnd) this.fail(`node ${host.id} applied offset ${e.offset} but its next was ${host.appliedEnd}`);
    this.commit(host.id, e, 'applied');
    host.appliedEnd = e.offset + 1;
    this.stateAt(host.id, host.appliedEnd, host.hash);
  }

  stateAt(node: number, endOffset: number, hash: number): void {
    const known = this.states.get(endOffset);
    if (known === undefined) this.states.set(endOffset, hash);
    else if (known !== hash) this.fail(`state diverged: node ${node} at applied end ${endOffset} has hash ${hash}, another node had ${known}`);
  }

  truncated(host: SimHost, offset: number): void {
    if (host.node && offset < host.node.highWatermark) this.fail(`node ${host.id} truncated to ${offset}, below its high watermark ${host.node.highWatermark}`);
  }

  /** Per-step checks over the live nodes. */
  step(hosts: readonly SimHost[]): void {
    for (const h of hosts) {
      const n = h.node;
      if (!n) continue;
      if (n.role === 'leader') {
        const other = this.leaders.get(n.epoch);
        if (other === undefined) this.leaders.set(n.epoch, h.id);
        else if (other !== h.id) this.fail(`two leaders in epoch ${n.epoch}: nodes ${other} and ${h.id}`);
      }
      // Within one incarnation the HW never moves backwards (after a restart it is relearned).
      if (n.highWatermark < h.lastHighWatermark) this.fail(`node ${h.id} high watermark went back from ${h.lastHighWatermark} to ${n.highWatermark}`);
      h.lastHighWatermark = n.highWatermark;
      // Logs agree up to the HW: every entry a node holds below its HW is the committed one.
      const upTo = Math.min(n.highWatermark, n.logEndOffset);
      for (let o = Math.max(h.checkedUpTo, n.logStartOffset); o < upTo; o++) {
        const e = n.entry(o);
        if (e) this.commit(h.id, e, 'holds below HW');
      }
      h.checkedUpTo = Math.max(h.checkedUpTo, upTo);
    }
  }
}
