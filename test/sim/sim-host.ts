/**
 * One simulated node's host: the disk (which holds only what it acknowledged back to the
 * RaftNode; a crash loses the rest), a tiny state machine (a rolling hash of applied payloads),
 * and snapshots taken when the node asks for one.
 */
import { RaftNode } from '../../node/controller/raft/raft-node.js';
import type { RaftBugs, RaftConfig } from '../../node/controller/raft/raft-config.js';
import type { QuorumState, RaftEntry, RaftOutput, SnapshotId } from '../../node/controller/raft/raft-messages.js';

export interface SnapshotData {
  readonly hash: number;
  readonly endOffset: number;
}

type DiskOp =
  | { kind: 'append'; entries: readonly RaftEntry[]; endOffset: number }
  | { kind: 'truncate'; offset: number }
  | { kind: 'quorum'; state: QuorumState }
  | { kind: 'install'; id: SnapshotId; data: SnapshotData };

export function hashStep(hash: number, payload: unknown): number {
  const s = String(payload);
  let h = hash ^ 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export class SimHost {
  node: RaftNode | null = null;
  incarnation = 0;
  // The disk.
  private quorum: QuorumState | null = null;
  private snapshot: { id: SnapshotId; data: SnapshotData } | null = null;
  private entries = new Map<number, RaftEntry>();
  private pending: { at: number; op: DiskOp }[] = [];
  diskLatencyMs = 0;
  // The state machine (memory only: rebuilt from the snapshot on restart).
  hash = 0;
  appliedEnd = 0;
  lastHighWatermark = 0;
  /** The liveness record reached this incarnation's state machine. */
  markerSeen = false;
  /** Offsets of this incarnation's log already checked against the committed record. */
  checkedUpTo = 0;

  constructor(
    readonly id: number,
    private readonly voters: readonly number[],
    private readonly config: Partial<RaftConfig>,
    private readonly bugs: RaftBugs,
    private readonly random: () => number,
  ) {}

  get up(): boolean {
    return this.node !== null;
  }

  start(now: number): void {
    const entries = [...this.entries.values()].sort((a, b) => a.offset - b.offset);
    this.node = new RaftNode({
      nodeId: this.id, voters: this.voters, random: this.random, config: this.config, bugs: this.bugs,
      quorumState: this.quorum ?? undefined, snapshot: this.snapshot, entries, nowMs: now,
    });
    this.incarnation++;
    this.markerSeen = false;
    this.hash = this.snapshot?.data.hash ?? 0;
    this.appliedEnd = this.snapshot?.id.endOffset ?? 0;
    this.lastHighWatermark = this.node.highWatermark;
    this.checkedUpTo = this.node.logStartOffset;
  }

  /** Power loss: everything the disk had not acknowledged is gone. */
  crash(): void {
    this.node = null;
    this.pending = [];
  }

  /** Queue the node's persistence outputs; returns the rest (sends, commits…) for the simulation. */
  enqueue(now: number, out: RaftOutput): boolean {
    const push = (op: DiskOp) => {
      const prev = this.pending.length > 0 ? this.pending[this.pending.length - 1]!.at : now;
      this.pending.push({ at: Math.max(prev, now + this.diskLatencyMs), op });
    };
    switch (out.kind) {
      case 'append': push({ kind: 'append', entries: out.entries, endOffset: out.endOffset }); return true;
      case 'truncate': push({ kind: 'truncate', offset: out.offset }); return true;
      case 'quorum-state': push({ kind: 'quorum', state: out.state }); return true;
      case 'install-snapshot': push({ kind: 'install', id: out.snapshotId, data: out.data as SnapshotData }); return true;
      default: return false;
    }
  }

  /** Complete the disk writes due by `now`, in order, acknowledging each to the node. */
  completeDue(now: number): void {
    while (this.node && this.pending.length > 0 && this.pending[0]!.at <= now) {
      const { op } = this.pending.shift()!;
      const start = this.snapshot?.id.endOffset ?? 0;
      switch (op.kind) {
        case 'append':
          for (const e of op.entries) if (e.offset >= start) this.entries.set(e.offset, e);
          this.node.persisted(op.endOffset);
          break;
        case 'truncate':
          for (const k of [...this.entries.keys()]) if (k >= op.offset) this.entries.delete(k);
          break;
        case 'quorum':
          this.quorum = op.state;
          this.node.quorumStatePersisted();
          break;
        case 'install':
          this.snapshot = { id: op.id, data: op.data };
          this.entries.clear();
          this.node.persisted(op.id.endOffset);
          break;
      }
    }
  }

  /** The host's snapshot of its state machine, durable at once (written before it is reported). */
  takeSnapshot(epoch: number): void {
    if (!this.node) return;
    const id = { endOffset: this.appliedEnd, epoch };
    const data: SnapshotData = { hash: this.hash, endOffset: this.appliedEnd };
    this.snapshot = { id, data };
    for (const k of [...this.entries.keys()]) if (k < id.endOffset) this.entries.delete(k);
    this.node.snapshotTaken(id, data);
  }

  setDiskLatency(ms: number): void {
    this.diskLatencyMs = ms;
  }
}
