/**
 * One replica of the KRaft metadata quorum (KIP-595 with KIP-996 pre-vote and KIP-630
 * snapshots) as pure logic: inputs are `tick`, `receive`, `propose`, the host's persistence
 * completions and `shutdown`; everything it wants done comes out of `takeOutputs()`. No
 * sockets, timers, files or wall clock: time arrives as `nowMs`, randomness as `random`.
 */
import { answerFetch } from './fetch-answer.js';
import { nextHighWatermark } from './high-watermark.js';
import { RAFT_ERRORS } from './raft-errors.js';
import type {
  FetchRequest, FetchResponse, FetchSnapshotRequest, FetchSnapshotResponse, ProposeResult,
  RaftEntry, RaftMessage, RaftOutput, SnapshotId, VoteRequest, VoteResponse,
} from './raft-messages.js';
import { RaftReplica } from './raft-replica.js';
import { decideVote } from './vote-rules.js';

export type { RaftNodeOptions } from './raft-replica.js';

/**
 * A KRaft quorum replica: build it with its id, the voter set, an injected PRNG, config and
 * the durable state it restarts from; feed it inputs; drain `takeOutputs()` after each.
 */
export class RaftNode extends RaftReplica {
  /** Everything the node asked for since the last call, in the order it must be acted on. */
  takeOutputs(): RaftOutput[] {
    const out = this.outputs;
    this.outputs = [];
    return out;
  }

  /** Advance the clock: election and check-quorum timers, fetch scheduling. */
  tick(nowMs: number): void {
    this.now = Math.max(this.now, nowMs);
    if (this.stopped) return;
    this.onTick();
    this.releaseParkedFetches();
  }

  private onTick(): void {
    switch (this.roleValue) {
      case 'leader':
        this.leaderTick();
        return;
      case 'follower':
        if (this.now >= this.electionDeadline) return this.electionTimeout();
        return this.maybeFetch();
      case 'unattached':
        if (!this.isVoter) return this.maybeFetch();
        if (this.now >= this.electionDeadline) return this.startPreVote();
        return;
      case 'prospective':
        if (this.now >= this.electionDeadline) return this.aheadOfLeader ? this.becomeCandidate() : this.startPreVote();
        return;
      case 'candidate':
        // A round that neither won nor heard a leader: pre-vote again (KIP-996), never a blind epoch bump.
        if (this.now >= this.electionDeadline) this.startPreVote();
        return;
    }
  }

  /** A message from `from` arrived. */
  receive(from: number, message: RaftMessage, nowMs: number): void {
    this.now = Math.max(this.now, nowMs);
    if (this.stopped) return;
    this.dispatch(from, message);
    this.releaseParkedFetches();
  }

  private dispatch(from: number, message: RaftMessage): void {
    switch (message.type) {
      case 'Vote': return this.onVote(from, message);
      case 'VoteResponse': return this.onVoteResponse(from, message);
      case 'BeginQuorumEpoch': {
        const code = this.onLeaderAnnounced(from, message.leaderEpoch, message.leaderId);
        return this.send(from, { type: 'BeginQuorumEpochResponse', errorCode: code, leaderEpoch: this.epochValue, leaderId: this.leaderIdValue });
      }
      case 'EndQuorumEpoch': return this.onEndQuorumEpoch(from, message.leaderEpoch, message.leaderId, message.preferredSuccessors);
      case 'BeginQuorumEpochResponse':
      case 'EndQuorumEpochResponse':
        this.observeEpoch(message.leaderEpoch, message.leaderId);
        return;
      case 'Fetch': return this.onFetch(from, message);
      case 'FetchResponse': return this.onFetchResponse(from, message);
      case 'FetchSnapshot': return this.onFetchSnapshot(from, message);
      case 'FetchSnapshotResponse': return this.onFetchSnapshotResponse(message);
    }
  }

  /** Append records as leader; they commit once a majority holds them durably. */
  propose(payloads: readonly unknown[]): ProposeResult {
    if (this.roleValue !== 'leader' || this.stopped) {
      return { ok: false, errorCode: RAFT_ERRORS.NOT_LEADER_OR_FOLLOWER, leaderId: this.leaderIdValue, leaderEpoch: this.epochValue };
    }
    const entries = payloads.map((payload, i) => ({ offset: this.log.endOffset + i, epoch: this.epochValue, payload }));
    this.appendLocal(entries);
    this.releaseParkedFetches();
    return { ok: true, offsets: entries.map((e) => e.offset) };
  }

  /** The host synced the append (or snapshot install) that ended at `endOffset`, and everything emitted before it. */
  persisted(endOffset: number): void {
    if (!this.durability.acknowledge(endOffset)) return;
    if (this.stopped) return;
    if (this.roleValue === 'leader') {
      this.updateHighWatermark();
      this.releaseParkedFetches();
    } else this.maybeFetch();
  }

  /** The host synced the oldest quorum-state write still outstanding. */
  quorumStatePersisted(): void {
    if (this.quorumAcks >= this.quorumWrites) return;
    this.quorumAcks++;
    const ready = this.held.filter((h) => h.seq <= this.quorumAcks);
    this.held = this.held.filter((h) => h.seq > this.quorumAcks);
    for (const h of ready) this.outputs.push({ kind: 'send', to: h.to, message: h.message });
    if (!this.stopped) this.maybeWinElection();
  }

  /**
   * The host's state machine took a snapshot covering offsets below `id.endOffset` (which it has
   * applied, so it is committed); the log may forget that prefix and the snapshot serves
   * followers that fall behind it (KIP-630).
   */
  snapshotTaken(id: SnapshotId, data: unknown): void {
    if (id.endOffset > this.appliedEnd || id.endOffset <= this.log.logStartOffset) return;
    if (this.log.epochAt(id.endOffset - 1) !== id.epoch) throw new Error(`raft: snapshot ${id.endOffset}/${id.epoch} does not match the log`);
    this.snapshot = { id, data };
    this.log.dropPrefix(id);
  }

  /** Graceful stop (KIP-595): a leader hands over with EndQuorumEpoch, most caught-up successors first. */
  shutdown(): void {
    if (this.stopped) return;
    if (this.roleValue === 'leader') {
      const successors = this.voters
        .filter((v) => v !== this.nodeId)
        .sort((a, b) => (this.progress.get(b)?.endOffset ?? -1) - (this.progress.get(a)?.endOffset ?? -1));
      for (const v of successors) {
        this.send(v, { type: 'EndQuorumEpoch', leaderId: this.nodeId, leaderEpoch: this.epochValue, preferredSuccessors: successors });
      }
    }
    this.stopped = true;
  }

  // ---- votes ----

  private onVote(from: number, req: VoteRequest): void {
    const view = () => ({
      isVoter: (id: number) => this.voters.includes(id), selfId: this.nodeId, role: this.roleValue, epoch: this.epochValue,
      votedFor: this.votedFor, leaderId: this.leaderIdValue, hearingLeader: this.hearingLeader(),
      lastEpoch: this.log.lastEpoch, endOffset: this.log.endOffset, doubleVote: this.bugs.doubleVote ?? false,
    });
    let decision = decideVote(view(), req);
    if ('bumpEpoch' in decision) {
      this.becomeUnattached(decision.bumpEpoch, null);
      decision = decideVote(view(), req);
    }
    const grant = 'grant' in decision && decision.grant;
    if (grant && !req.preVote) {
      this.setQuorumState(this.epochValue, req.candidateId, this.leaderIdValue);
      this.resetElectionTimer();
    }
    const errorCode = 'errorCode' in decision ? decision.errorCode : RAFT_ERRORS.NONE;
    // send() holds this until the vote above is durable: a restart must not vote again.
    this.send(from, {
      type: 'VoteResponse', errorCode, leaderEpoch: this.epochValue, leaderId: this.leaderIdValue,
      candidateEpoch: req.candidateEpoch, voteGranted: grant, preVote: req.preVote,
    });
  }

  private hearingLeader(): boolean {
    if (this.roleValue === 'leader') return true;
    return this.roleValue === 'follower' && this.now - this.lastLeaderContactMs < this.config.electionTimeoutMs;
  }

  private onVoteResponse(from: number, resp: VoteResponse): void {
    if (this.observeEpoch(resp.leaderEpoch, resp.leaderId)) return;
    if (!this.voters.includes(from) || resp.errorCode !== RAFT_ERRORS.NONE) return;
    if (this.roleValue === 'prospective') {
      if (!resp.preVote || resp.candidateEpoch !== this.epochValue + 1) return;
      if (resp.voteGranted) this.votes.add(from);
      // A voter behind our epoch that still hears a leader: we can never follow that leader
      // (its epoch is fenced to us) and pre-votes will keep losing, so the next round runs a
      // real election, whose higher epoch makes that leader step down.
      else if (resp.leaderEpoch < this.epochValue && resp.leaderId !== null) this.aheadOfLeader = true;
      // KIP-996: a voter still following a leader of our epoch tells us who; go back to it.
      else if (resp.leaderId !== null && resp.leaderEpoch === this.epochValue && resp.leaderId !== this.nodeId) {
        return this.becomeFollower(this.epochValue, resp.leaderId);
      }
    } else if (this.roleValue === 'candidate') {
      if (resp.preVote || resp.candidateEpoch !== this.epochValue || !resp.voteGranted) return;
      this.votes.add(from);
    } else return;
    this.maybeWinElection();
  }

  // ---- replication: leader side ----

  private onFetch(from: number, req: FetchRequest): void {
    const reply = (over: Partial<FetchResponse>) => this.send(from, {
      type: 'FetchResponse', correlationId: req.correlationId, errorCode: RAFT_ERRORS.NONE, leaderId: this.leaderIdValue,
      leaderEpoch: this.epochValue, highWatermark: this.hw, logStartOffset: this.log.logStartOffset, records: [], ...over,
    });
    if (this.roleValue !== 'leader') return reply({ errorCode: RAFT_ERRORS.NOT_LEADER_OR_FOLLOWER });
    if (req.replicaEpoch < this.epochValue) return reply({ errorCode: RAFT_ERRORS.FENCED_LEADER_EPOCH });
    if (req.replicaEpoch > this.epochValue) return reply({ errorCode: RAFT_ERRORS.UNKNOWN_LEADER_EPOCH });
    const progress = this.progress.get(from);
    if (progress) progress.lastFetchMs = this.now;
    const caughtUp = req.fetchOffset >= this.log.endOffset;
    this.fetchers.set(from, { logEndOffset: req.fetchOffset, lastFetchMs: this.now, lastCaughtUpMs: caughtUp ? this.now : (this.fetchers.get(from)?.lastCaughtUpMs ?? -1) });
    const answer = answerFetch(this.log, req, this.config.maxFetchRecords, this.snapshot?.id ?? null);
    if (answer.kind === 'diverging') return reply({ divergingEpoch: { epoch: answer.epoch, endOffset: answer.endOffset } });
    if (answer.kind === 'snapshot') return reply({ snapshotId: answer.snapshotId });
    // A valid fetch offset is what that voter holds durably: it counts toward the HW. Observers never do.
    if (progress) {
      progress.endOffset = req.fetchOffset;
      this.updateHighWatermark();
    }
    // Long poll (KIP-595's MaxWaitMs): a caught-up replica that would learn nothing new waits here
    // for the next entry or high watermark instead of asking again and again.
    if (answer.records.length === 0 && this.sentHighWatermark.get(from) === this.hw) {
      this.parked.set(from, { req, highWatermark: this.hw, deadline: this.now + this.config.fetchMaxWaitMs });
      return;
    }
    this.parked.delete(from); // a newer fetch from the same replica replaces a held one
    this.sentHighWatermark.set(from, this.hw);
    reply({ records: answer.records, highWatermark: this.hw });
  }

  /** Answers each held fetch that now has news (entries past its offset, a new HW) or has waited long enough. */
  private releaseParkedFetches(): void {
    if (this.parked.size === 0 || this.roleValue !== 'leader' || this.stopped) return;
    for (const [from, p] of this.parked) {
      if (this.log.endOffset <= p.req.fetchOffset && this.hw === p.highWatermark && this.now < p.deadline) continue;
      this.parked.delete(from);
      const answer = answerFetch(this.log, p.req, this.config.maxFetchRecords, this.snapshot?.id ?? null);
      const base = {
        type: 'FetchResponse', correlationId: p.req.correlationId, errorCode: RAFT_ERRORS.NONE, leaderId: this.leaderIdValue,
        leaderEpoch: this.epochValue, highWatermark: this.hw, logStartOffset: this.log.logStartOffset, records: [],
      } as const;
      if (answer.kind === 'diverging') this.send(from, { ...base, divergingEpoch: { epoch: answer.epoch, endOffset: answer.endOffset } });
      else if (answer.kind === 'snapshot') this.send(from, { ...base, snapshotId: answer.snapshotId });
      else {
        this.sentHighWatermark.set(from, this.hw);
        this.send(from, { ...base, records: answer.records });
      }
    }
  }

  private updateHighWatermark(): void {
    const ends = this.voters.map((v) => (v === this.nodeId ? this.durability.durableEndOffset : (this.progress.get(v)?.endOffset ?? -1)));
    const next = nextHighWatermark({
      voterEndOffsets: ends, epochStartOffset: this.epochStartOffset, currentHighWatermark: this.hw,
      minorityCommit: this.bugs.minorityCommit ?? false,
    });
    this.advanceHighWatermark(next);
  }

  /** The HW only moves forward; commits go out in offset order, each entry once. */
  private advanceHighWatermark(next: number): void {
    if (next > this.hw) this.hw = next;
    const upTo = Math.min(this.hw, this.log.endOffset);
    if (upTo <= this.appliedEnd) return;
    const entries = this.log.slice(this.appliedEnd, upTo);
    if (entries.length === 0 || entries[0]!.offset !== this.appliedEnd) return;
    this.appliedEnd = upTo;
    this.outputs.push({ kind: 'commit', entries, highWatermark: this.hw });
    const since = this.appliedEnd - Math.max(this.log.logStartOffset, this.snapshotRequestedAt);
    if (this.config.snapshotMinEntries > 0 && since >= this.config.snapshotMinEntries) {
      this.snapshotRequestedAt = this.appliedEnd;
      this.outputs.push({ kind: 'snapshot-request', upToOffset: this.appliedEnd });
    }
  }

  private onFetchSnapshot(from: number, req: FetchSnapshotRequest): void {
    const base = { type: 'FetchSnapshotResponse', correlationId: req.correlationId, leaderId: this.leaderIdValue, leaderEpoch: this.epochValue, snapshotId: req.snapshotId } as const;
    if (this.roleValue !== 'leader') return this.send(from, { ...base, errorCode: RAFT_ERRORS.NOT_LEADER_OR_FOLLOWER, data: null });
    if (req.replicaEpoch !== this.epochValue) {
      const errorCode = req.replicaEpoch < this.epochValue ? RAFT_ERRORS.FENCED_LEADER_EPOCH : RAFT_ERRORS.UNKNOWN_LEADER_EPOCH;
      return this.send(from, { ...base, errorCode, data: null });
    }
    const snap = this.snapshot;
    if (!snap || snap.id.endOffset !== req.snapshotId.endOffset || snap.id.epoch !== req.snapshotId.epoch) {
      return this.send(from, { ...base, errorCode: RAFT_ERRORS.SNAPSHOT_NOT_FOUND, data: null });
    }
    this.send(from, { ...base, errorCode: RAFT_ERRORS.NONE, data: snap.data });
  }

  // ---- replication: follower / observer side ----

  private maybeFetch(): void {
    if (this.stopped || (this.roleValue !== 'follower' && !(this.roleValue === 'unattached' && !this.isVoter))) return;
    // The fetch offset must be durable here: the leader counts it toward the high watermark.
    if (!this.durability.idle) return;
    if (this.inFlight && this.now - this.inFlight.sentAt < this.config.requestTimeoutMs) return;
    if (this.now < this.nextFetchAt) return;
    const target = this.roleValue === 'follower' ? this.leaderIdValue! : this.voters[Math.floor(this.random() * this.voters.length)]!;
    const correlationId = this.nextCorrelationId++;
    const position = this.fetchOverride ?? { offset: this.log.endOffset, epoch: this.log.lastEpoch };
    this.inFlight = { correlationId, sentAt: this.now, fetchOffset: position.offset };
    if (this.pendingSnapshot) {
      this.send(target, { type: 'FetchSnapshot', correlationId, replicaId: this.nodeId, replicaEpoch: this.epochValue, snapshotId: this.pendingSnapshot });
      return;
    }
    this.send(target, {
      type: 'Fetch', correlationId, replicaId: this.nodeId, replicaEpoch: this.epochValue,
      fetchOffset: position.offset, lastFetchedEpoch: position.epoch,
    });
  }

  /** Shared checks for answers to our fetches; returns the fetch offset when the answer is current and from our leader. */
  private acceptFetchAnswer(from: number, r: { correlationId: number; errorCode: number; leaderId: number | null; leaderEpoch: number }): number | null {
    if (!this.inFlight || r.correlationId !== this.inFlight.correlationId) return null; // late or duplicated
    const { fetchOffset } = this.inFlight;
    this.inFlight = null;
    if (this.observeEpoch(r.leaderEpoch, r.leaderId)) return null;
    if (r.leaderEpoch < this.epochValue) return null;
    if (r.errorCode !== RAFT_ERRORS.NONE) {
      // An observer (or a lost follower) learns the leader from whoever it asked.
      if (r.leaderId !== null && r.leaderId !== this.leaderIdValue && r.leaderId !== this.nodeId && this.roleValue !== 'leader') {
        this.becomeFollower(r.leaderEpoch, r.leaderId);
      } else this.nextFetchAt = this.now + this.config.fetchMaxWaitMs;
      return null;
    }
    if (this.roleValue !== 'follower' || this.leaderIdValue !== from) {
      if (this.roleValue === 'leader') return null;
      this.becomeFollower(r.leaderEpoch, from);
      return null;
    }
    this.lastLeaderContactMs = this.now;
    this.resetElectionTimer();
    return fetchOffset;
  }

  private onFetchResponse(from: number, resp: FetchResponse): void {
    const fetchOffset = this.acceptFetchAnswer(from, resp);
    if (fetchOffset === null) return;
    this.nextFetchAt = this.now;
    if (resp.divergingEpoch) return this.truncateOnDivergence(resp.divergingEpoch);
    if (resp.snapshotId) {
      this.pendingSnapshot = resp.snapshotId;
      return this.maybeFetch();
    }
    const appended: RaftEntry[] = [];
    for (const r of resp.records) {
      if (r.offset < this.log.endOffset) {
        // Already held with the same epoch means the same entry (Log Matching); otherwise ours is stale.
        if (this.fetchOverride || this.log.epochAt(r.offset) === r.epoch) continue;
        this.truncate(r.offset);
      }
      if (r.offset !== this.log.endOffset) break;
      this.log.append(r);
      appended.push(r);
    }
    if (this.fetchOverride) {
      const last = resp.records[resp.records.length - 1];
      if (last) this.fetchOverride = { offset: last.offset + 1, epoch: last.epoch };
      if (this.fetchOverride.offset >= this.log.endOffset) this.fetchOverride = null;
    }
    if (appended.length > 0) this.emitAppend(appended);
    // No backoff after an empty answer: the leader held the fetch while it had nothing new (long poll).
    // A follower's HW is the leader's, capped by what this fetch proved we share with the leader.
    this.advanceHighWatermark(Math.min(resp.highWatermark, fetchOffset + resp.records.length));
    this.maybeFetch();
  }

  private truncateOnDivergence(div: { epoch: number; endOffset: number }): void {
    if (this.bugs.skipTruncation) {
      this.fetchOverride = { offset: div.endOffset, epoch: div.epoch };
      return this.maybeFetch();
    }
    // Truncate to the end of the leader's epoch, or earlier if our own log of that epoch ends sooner.
    const ours = this.log.endOffsetForEpoch(div.epoch);
    const to = Math.max(this.log.logStartOffset, Math.min(div.endOffset, ours?.endOffset ?? this.log.logStartOffset));
    this.truncate(to);
    this.maybeFetch();
  }

  private onFetchSnapshotResponse(resp: FetchSnapshotResponse): void {
    const fromLeader = this.leaderIdValue;
    // Whatever the answer, the next fetch asks the leader afresh: it may hold a newer snapshot now.
    if (this.inFlight?.correlationId === resp.correlationId) this.pendingSnapshot = null;
    if (fromLeader === null || this.acceptFetchAnswer(fromLeader, resp) === null) return;
    const id = resp.snapshotId;
    if (id.endOffset > this.appliedEnd) {
      // KIP-630: the snapshot replaces both the state machine and the log below its end offset.
      this.log.reset(id);
      this.fetchOverride = null;
      this.durability.installed(id.endOffset);
      this.snapshot = { id, data: resp.data };
      this.outputs.push({ kind: 'install-snapshot', snapshotId: id, data: resp.data });
      this.appliedEnd = id.endOffset;
      this.hw = Math.max(this.hw, id.endOffset);
    } else {
      // Our state machine is already past that snapshot, so the logs part above what we applied
      // (committed entries match the leader's): drop the uncommitted suffix and fetch from there.
      this.truncate(Math.max(this.log.logStartOffset, Math.min(this.hw, this.log.endOffset)));
    }
    this.maybeFetch();
  }

}
