/**
 * The KRaft metadata quorum's vocabulary (KIP-595 Vote, BeginQuorumEpoch, EndQuorumEpoch,
 * Fetch, KIP-630 FetchSnapshot, KIP-996 pre-vote) as plain data. The core never encodes bytes:
 * the host that owns the sockets maps these to frames.
 */

/** One record of the metadata log. Offsets are dense from 0; `epoch` is the leader epoch that appended it. */
export interface RaftEntry {
  readonly offset: number;
  readonly epoch: number;
  /** Opaque to the quorum: the host state machine's record. */
  readonly payload: unknown;
  /** True for the LeaderChange control record a new leader appends in its epoch (Raft §5.4.2). */
  readonly control?: boolean;
}

/** A snapshot covers every offset below `endOffset`; `epoch` is the epoch of the entry at endOffset - 1. */
export interface SnapshotId {
  readonly endOffset: number;
  readonly epoch: number;
}

/** Durable quorum state (Kafka's quorum-state file): written before any vote is answered. */
export interface QuorumState {
  readonly epoch: number;
  readonly votedFor: number | null;
  readonly leaderId: number | null;
}

export interface VoteRequest {
  readonly type: 'Vote';
  readonly candidateId: number;
  readonly candidateEpoch: number;
  /** Epoch of the candidate's last entry. */
  readonly lastOffsetEpoch: number;
  /** The candidate's log end offset (next offset it would write). */
  readonly lastOffset: number;
  /** KIP-996: a pre-vote asks "would you vote for me?" without anyone bumping the epoch. */
  readonly preVote: boolean;
}

export interface VoteResponse {
  readonly type: 'VoteResponse';
  readonly errorCode: number;
  /** The responder's epoch and leader, so a stale candidate learns the current leader. */
  readonly leaderEpoch: number;
  readonly leaderId: number | null;
  /** Echo of the request's candidate epoch: matches the answer to the round that asked. */
  readonly candidateEpoch: number;
  readonly voteGranted: boolean;
  readonly preVote: boolean;
}

export interface BeginQuorumEpochRequest {
  readonly type: 'BeginQuorumEpoch';
  readonly leaderId: number;
  readonly leaderEpoch: number;
}

export interface BeginQuorumEpochResponse {
  readonly type: 'BeginQuorumEpochResponse';
  readonly errorCode: number;
  readonly leaderEpoch: number;
  readonly leaderId: number | null;
}

export interface EndQuorumEpochRequest {
  readonly type: 'EndQuorumEpoch';
  readonly leaderId: number;
  readonly leaderEpoch: number;
  /** Voters in the order the resigning leader prefers as successors (most caught up first). */
  readonly preferredSuccessors: readonly number[];
}

export interface EndQuorumEpochResponse {
  readonly type: 'EndQuorumEpochResponse';
  readonly errorCode: number;
  readonly leaderEpoch: number;
  readonly leaderId: number | null;
}

export interface FetchRequest {
  readonly type: 'Fetch';
  /** Matches the response to the one fetch in flight: a delayed or duplicated response is ignored. */
  readonly correlationId: number;
  readonly replicaId: number;
  /** The epoch the fetcher believes is current (Kafka CurrentLeaderEpoch). */
  readonly replicaEpoch: number;
  /** Log end offset the fetcher holds durably. */
  readonly fetchOffset: number;
  /** Epoch of the entry at fetchOffset - 1, for the leader's divergence check. */
  readonly lastFetchedEpoch: number;
}

export interface FetchResponse {
  readonly type: 'FetchResponse';
  readonly correlationId: number;
  readonly errorCode: number;
  readonly leaderId: number | null;
  readonly leaderEpoch: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  readonly records: readonly RaftEntry[];
  /** Set when the fetcher's log diverges: truncate to at most endOffset, then fetch again. */
  readonly divergingEpoch?: { readonly epoch: number; readonly endOffset: number };
  /** Set when the fetch offset is below the leader's log start: fetch this snapshot first. */
  readonly snapshotId?: SnapshotId;
}

export interface FetchSnapshotRequest {
  readonly type: 'FetchSnapshot';
  readonly correlationId: number;
  readonly replicaId: number;
  readonly replicaEpoch: number;
  readonly snapshotId: SnapshotId;
}

export interface FetchSnapshotResponse {
  readonly type: 'FetchSnapshotResponse';
  readonly correlationId: number;
  readonly errorCode: number;
  readonly leaderId: number | null;
  readonly leaderEpoch: number;
  readonly snapshotId: SnapshotId;
  /** The whole snapshot in one message; opaque to the quorum. */
  readonly data: unknown;
}

export type RaftMessage =
  | VoteRequest
  | VoteResponse
  | BeginQuorumEpochRequest
  | BeginQuorumEpochResponse
  | EndQuorumEpochRequest
  | EndQuorumEpochResponse
  | FetchRequest
  | FetchResponse
  | FetchSnapshotRequest
  | FetchSnapshotResponse;

/** What the node asks its host to do; drained with `RaftNode.takeOutputs()`, acted on in order. */
export type RaftOutput =
  | { readonly kind: 'send'; readonly to: number; readonly message: RaftMessage }
  /** Append to the durable log; acknowledge with `persisted(endOffset)` once synced. */
  | { readonly kind: 'append'; readonly entries: readonly RaftEntry[]; readonly endOffset: number }
  /** Remove every durable entry at or above `offset` (no acknowledgement: later appends order after it). */
  | { readonly kind: 'truncate'; readonly offset: number }
  /** Write the quorum state; acknowledge with `quorumStatePersisted()` once synced. */
  | { readonly kind: 'quorum-state'; readonly state: QuorumState }
  /** Entries below the high watermark, in offset order, each exactly once: apply them to the state machine. */
  | { readonly kind: 'commit'; readonly entries: readonly RaftEntry[]; readonly highWatermark: number }
  /**
   * Replace state machine and log with a snapshot from the leader (KIP-630). Persist it, drop the
   * local log, load the state; acknowledge with `persisted(snapshotId.endOffset)`.
   */
  | { readonly kind: 'install-snapshot'; readonly snapshotId: SnapshotId; readonly data: unknown }
  /** The committed log since the last snapshot has grown past `snapshotMinEntries`: take one when convenient. */
  | { readonly kind: 'snapshot-request'; readonly upToOffset: number };

/** Result of `propose`: the offsets assigned, or why this node cannot take it. */
export type ProposeResult =
  | { readonly ok: true; readonly offsets: readonly number[] }
  | { readonly ok: false; readonly errorCode: number; readonly leaderId: number | null; readonly leaderEpoch: number };
