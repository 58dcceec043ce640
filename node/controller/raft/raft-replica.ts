/**
 * The state of one KRaft replica and its role transitions (unattached, prospective,
 * candidate, leader, follower): the durable quorum state, the in-memory log and what the disk
 * holds of it, and the rule that nothing leaves the node while a quorum-state write is in
 * flight. `RaftNode` adds the inputs and message handlers on top.
 */
import { resolveRaftConfig, type RaftBugs, type RaftConfig } from './raft-config.js';
import { RAFT_ERRORS } from './raft-errors.js';
import { RaftLog } from './raft-log.js';
import type { FetchRequest, QuorumState, RaftEntry, RaftMessage, RaftOutput, SnapshotId } from './raft-messages.js';
import { DurabilityTracker, leaderChangeEntry, majority, type RaftRole } from './quorum-state.js';

export interface RaftNodeOptions {
  readonly nodeId: number;
  /** The voter set; a node not in it is an observer: it replicates but never votes or counts. */
  readonly voters: readonly number[];
  /** Injected PRNG in [0, 1): election timeouts are randomized from it. */
  readonly random: () => number;
  readonly config?: Partial<RaftConfig>;
  readonly bugs?: RaftBugs;
  /** Durable state at start: the quorum-state file, the latest snapshot, and the log after it. */
  readonly quorumState?: QuorumState;
  readonly snapshot?: { readonly id: SnapshotId; readonly data: unknown } | null;
  readonly entries?: readonly RaftEntry[];
  readonly nowMs?: number;
}

/** What a leader knows of one replica's fetching (voter or observer), for DescribeQuorum. */
export interface ReplicaState {
  /** The last fetch offset it sent in this leader's epoch. */
  readonly logEndOffset: number;
  readonly lastFetchMs: number;
  /** When a fetch last reached the leader's log end offset; -1 never in this epoch. */
  readonly lastCaughtUpMs: number;
}

interface VoterProgress {
  /** Last valid fetch offset in this epoch (durable on that voter); -1 before its first fetch. */
  endOffset: number;
  lastFetchMs: number;
}

export abstract class RaftReplica {
  readonly nodeId: number;
  readonly voters: readonly number[];
  readonly config: RaftConfig;
  protected readonly bugs: RaftBugs;
  protected readonly random: () => number;
  protected readonly log: RaftLog;
  protected readonly durability: DurabilityTracker;
  protected outputs: RaftOutput[] = [];
  protected now: number;
  protected stopped = false;

  protected roleValue: RaftRole = 'unattached';
  protected epochValue = 0;
  protected votedFor: number | null = null;
  protected leaderIdValue: number | null = null;
  protected hw: number;
  /** End of what has been handed to the state machine (commit outputs, or the snapshot loaded). */
  protected appliedEnd: number;
  protected snapshot: { id: SnapshotId; data: unknown } | null;
  protected snapshotRequestedAt = -1;

  // Quorum-state writes and the messages that must wait for them (votes are durable before answered).
  protected quorumWrites = 0;
  protected quorumAcks = 0;
  protected held: { seq: number; to: number; message: RaftMessage }[] = [];

  protected electionDeadline = 0;
  protected votes = new Set<number>();
  /** Prospective only: a voter of an older epoch reported a live leader (see onVoteResponse). */
  protected aheadOfLeader = false;
  // Follower / observer fetching.
  protected lastLeaderContactMs = -Infinity;
  protected inFlight: { correlationId: number; sentAt: number; fetchOffset: number } | null = null;
  /**
   * Leader: fetches held because they had nothing new (the long poll), by replica; answered when
   * the log grows, the high watermark moves, or fetchMaxWaitMs passes.
   */
  protected parked = new Map<number, { req: FetchRequest; highWatermark: number; deadline: number }>();
  /** Leader: the high watermark last sent to each replica, so a fetch with news is never held. */
  protected sentHighWatermark = new Map<number, number>();
  protected nextCorrelationId = 1;
  protected nextFetchAt = 0;
  protected pendingSnapshot: SnapshotId | null = null;
  /** Only under bugs.skipTruncation: the fetch position the buggy follower believes in. */
  protected fetchOverride: { offset: number; epoch: number } | null = null;
  // Leader.
  protected progress = new Map<number, VoterProgress>();
  /** Leader only: every replica that fetched in this epoch (bookkeeping, never a decision). */
  protected fetchers = new Map<number, ReplicaState>();
  protected epochStartOffset = 0;
  protected nextBeginQuorumAt = 0;

  constructor(options: RaftNodeOptions) {
    this.nodeId = options.nodeId;
    this.voters = [...options.voters];
    this.random = options.random;
    this.config = resolveRaftConfig(options.config);
    this.bugs = options.bugs ?? {};
    this.now = options.nowMs ?? 0;
    this.snapshot = options.snapshot ? { ...options.snapshot } : null;
    this.log = new RaftLog(this.snapshot?.id ?? null, options.entries ?? []);
    this.durability = new DurabilityTracker(this.log.endOffset);
    // The state machine restarts from the snapshot; committed entries after it are replayed as
    // the high watermark is learned again (it is not persisted, as in KRaft).
    this.hw = this.log.logStartOffset;
    this.appliedEnd = this.log.logStartOffset;
    const qs = options.quorumState ?? { epoch: 0, votedFor: null, leaderId: null };
    this.epochValue = qs.epoch;
    this.votedFor = qs.votedFor;
    if (qs.leaderId !== null && qs.leaderId !== this.nodeId) {
      this.roleValue = 'follower';
      this.leaderIdValue = qs.leaderId;
      this.lastLeaderContactMs = this.now;
    }
    // A leader that restarts does not resume: it may have lost unsynced entries of its epoch,
    // so it stays unattached in that epoch (its self vote kept) and lets a new election run.
    this.resetElectionTimer();
  }

  get role(): RaftRole { return this.roleValue; }
  get epoch(): number { return this.epochValue; }
  get leaderId(): number | null { return this.leaderIdValue; }
  get highWatermark(): number { return this.hw; }
  get logEndOffset(): number { return this.log.endOffset; }
  get logStartOffset(): number { return this.log.logStartOffset; }
  get durableEndOffset(): number { return this.durability.durableEndOffset; }
  get isVoter(): boolean { return this.voters.includes(this.nodeId); }
  /** Leader only: the replicas that fetched from it in this epoch, by id. */
  get replicaStates(): ReadonlyMap<number, ReplicaState> { return this.fetchers; }
  /** The entry at `offset` in the in-memory log, for inspection. */
  entry(offset: number): RaftEntry | undefined { return this.log.entry(offset); }

  // ---- transitions ----

  protected setQuorumState(epoch: number, votedFor: number | null, leaderId: number | null): void {
    const changed = epoch !== this.epochValue || votedFor !== this.votedFor || leaderId !== this.leaderIdValue;
    this.epochValue = epoch;
    this.votedFor = votedFor;
    this.leaderIdValue = leaderId;
    if (!changed) return;
    this.quorumWrites++;
    this.outputs.push({ kind: 'quorum-state', state: { epoch, votedFor, leaderId } });
  }

  protected resetElectionTimer(base = this.config.electionTimeoutMs): void {
    this.electionDeadline = this.now + base + Math.floor(this.random() * this.config.electionTimeoutMs);
  }

  protected leaveRole(): void {
    this.votes.clear();
    this.aheadOfLeader = false;
    this.inFlight = null;
    this.pendingSnapshot = null;
    this.progress.clear();
    this.fetchers.clear();
    // Held fetches are dropped: their replicas learn of the new epoch and fetch anew (or retry after requestTimeoutMs).
    this.parked.clear();
    this.sentHighWatermark.clear();
  }

  protected becomeUnattached(epoch: number, votedFor: number | null): void {
    this.leaveRole();
    this.roleValue = 'unattached';
    this.setQuorumState(epoch, votedFor, null);
    this.resetElectionTimer();
    this.nextFetchAt = this.now;
  }

  protected becomeFollower(epoch: number, leaderId: number): void {
    const votedFor = epoch === this.epochValue ? this.votedFor : null;
    this.leaveRole();
    this.roleValue = 'follower';
    this.setQuorumState(epoch, votedFor, leaderId);
    this.lastLeaderContactMs = this.now;
    this.resetElectionTimer();
    this.nextFetchAt = this.now;
  }

  protected startPreVote(): void {
    if (!this.isVoter) return;
    this.leaveRole();
    this.roleValue = 'prospective';
    this.votes.add(this.nodeId);
    this.resetElectionTimer();
    this.requestVotes(true, this.epochValue + 1);
    this.maybeWinElection();
  }

  protected becomeCandidate(): void {
    this.leaveRole();
    this.roleValue = 'candidate';
    // The self vote is durable before any Vote request leaves (held until quorumStatePersisted).
    this.setQuorumState(this.epochValue + 1, this.nodeId, null);
    this.votes.add(this.nodeId);
    this.resetElectionTimer();
    this.requestVotes(false, this.epochValue);
    this.maybeWinElection();
  }

  protected requestVotes(preVote: boolean, candidateEpoch: number): void {
    // Advertise only the durable log: what we would still hold after a crash.
    const lastOffset = this.durability.durableEndOffset;
    const lastOffsetEpoch = this.log.epochAt(lastOffset - 1) ?? this.log.lastEpoch;
    for (const v of this.voters) {
      if (v === this.nodeId) continue;
      this.send(v, { type: 'Vote', candidateId: this.nodeId, candidateEpoch, lastOffsetEpoch, lastOffset, preVote });
    }
  }

  protected maybeWinElection(): void {
    if (this.votes.size < majority(this.voters.length)) return;
    if (this.roleValue === 'prospective') return this.becomeCandidate();
    // Lead only once our own epoch and vote are durable: a restart must not forget the epoch we led.
    if (this.roleValue === 'candidate' && this.quorumAcks === this.quorumWrites) this.becomeLeader();
  }

  protected becomeLeader(): void {
    this.leaveRole();
    this.roleValue = 'leader';
    this.setQuorumState(this.epochValue, this.nodeId, this.nodeId);
    for (const v of this.voters) if (v !== this.nodeId) this.progress.set(v, { endOffset: -1, lastFetchMs: this.now });
    this.epochStartOffset = this.log.endOffset;
    // Raft §5.4.2: entries of older epochs commit only under one of our own; append it now.
    this.appendLocal([leaderChangeEntry(this.log.endOffset, this.epochValue, this.nodeId, this.voters)]);
    this.announceLeadership();
  }

  protected announceLeadership(): void {
    for (const [v, p] of this.progress) {
      if (p.endOffset < 0) this.send(v, { type: 'BeginQuorumEpoch', leaderId: this.nodeId, leaderEpoch: this.epochValue });
    }
    this.nextBeginQuorumAt = this.now + this.config.fetchMaxWaitMs;
  }

  protected leaderTick(): void {
    // Check-quorum: a leader cut off from a majority resigns rather than accept writes that
    // cannot commit, and so stops answering observers with a stale view.
    let live = 1;
    for (const p of this.progress.values()) if (this.now - p.lastFetchMs <= this.config.fetchTimeoutMs) live++;
    if (live < majority(this.voters.length)) return this.becomeUnattached(this.epochValue, this.nodeId);
    if (this.now >= this.nextBeginQuorumAt) this.announceLeadership();
  }

  protected electionTimeout(): void {
    if (this.isVoter) return this.startPreVote();
    // An observer that lost its leader goes back to discovering one through any voter.
    this.becomeUnattached(this.epochValue, this.votedFor);
  }

  /** A newer epoch seen in any response: adopt it (Raft: a stale leader or candidate steps down). */
  protected observeEpoch(epoch: number, leaderId: number | null): boolean {
    if (epoch <= this.epochValue) return false;
    if (leaderId !== null && leaderId !== this.nodeId) this.becomeFollower(epoch, leaderId);
    else this.becomeUnattached(epoch, null);
    return true;
  }

  /** BeginQuorumEpoch, or a successful fetch: `leaderId` leads `epoch`. Returns the error code to answer with. */
  protected onLeaderAnnounced(from: number, epoch: number, leaderId: number): number {
    if (!this.voters.includes(from)) return RAFT_ERRORS.INCONSISTENT_VOTER_SET;
    if (epoch < this.epochValue) return RAFT_ERRORS.FENCED_LEADER_EPOCH;
    if (epoch > this.epochValue || this.roleValue !== 'follower' || this.leaderIdValue !== leaderId) {
      if (this.roleValue === 'leader' && epoch === this.epochValue) return RAFT_ERRORS.FENCED_LEADER_EPOCH;
      this.becomeFollower(epoch, leaderId);
    } else {
      this.lastLeaderContactMs = this.now;
      this.resetElectionTimer();
    }
    return RAFT_ERRORS.NONE;
  }

  protected onEndQuorumEpoch(from: number, epoch: number, leaderId: number, successors: readonly number[]): void {
    let code: number = RAFT_ERRORS.NONE;
    if (epoch < this.epochValue) code = RAFT_ERRORS.FENCED_LEADER_EPOCH;
    else if (epoch > this.epochValue || this.leaderIdValue === leaderId || this.leaderIdValue === null) {
      if (this.roleValue !== 'leader' && this.isVoter) {
        this.becomeUnattached(epoch, epoch === this.epochValue ? this.votedFor : null);
        // The preferred successor stands at once; the others give it a head start in list order (KIP-595).
        const rank = successors.indexOf(this.nodeId);
        if (rank === 0) this.electionDeadline = this.now;
        else if (rank > 0) this.electionDeadline = this.now + Math.floor(((rank + this.random()) * this.config.electionBackoffMaxMs) / this.voters.length);
      }
    }
    this.send(from, { type: 'EndQuorumEpochResponse', errorCode: code, leaderEpoch: this.epochValue, leaderId: this.leaderIdValue });
  }

  // ---- local log ----

  protected appendLocal(entries: RaftEntry[]): void {
    for (const e of entries) this.log.append(e);
    this.emitAppend(entries);
  }

  protected emitAppend(entries: RaftEntry[]): void {
    this.durability.appended(this.log.endOffset);
    this.outputs.push({ kind: 'append', entries, endOffset: this.log.endOffset });
  }

  protected truncate(offset: number): void {
    if (offset >= this.log.endOffset) return;
    this.log.truncateTo(offset);
    this.durability.truncated(offset);
    this.outputs.push({ kind: 'truncate', offset });
  }

  protected send(to: number, message: RaftMessage): void {
    // Nothing leaves while a quorum-state write is in flight: a vote, a candidacy or a new
    // epoch must survive a crash before anyone acts on it.
    if (this.quorumAcks < this.quorumWrites) this.held.push({ seq: this.quorumWrites, to, message });
    else this.outputs.push({ kind: 'send', to, message });
  }
}
