/**
 * The quorum's timing knobs (Kafka's controller.quorum.* settings) and the simulation-only
 * deliberate bugs, as one typed object validated once.
 */
export interface RaftConfig {
  /** controller.quorum.election.timeout.ms: base of the randomized election timeout. */
  readonly electionTimeoutMs: number;
  /** controller.quorum.fetch.timeout.ms: a leader without fetches from a majority this long resigns (check-quorum). */
  readonly fetchTimeoutMs: number;
  /** controller.quorum.election.backoff.max.ms: spread of retries after a lost election. */
  readonly electionBackoffMaxMs: number;
  /** The long poll: how long the leader holds a fetch that has nothing new (also a follower's pause after an error answer). */
  readonly fetchMaxWaitMs: number;
  /** controller.quorum.request.timeout.ms: a fetch without answer this long is retried. */
  readonly requestTimeoutMs: number;
  /** Most records in one fetch response. */
  readonly maxFetchRecords: number;
  /** Ask the host for a snapshot once this many committed entries follow the last one; 0 never asks. */
  readonly snapshotMinEntries: number;
}

/** Deliberate safety bugs, only for proving the simulation's checker has teeth. */
export interface RaftBugs {
  /** Grant a second vote in an epoch already voted in. */
  readonly doubleVote?: boolean;
  /** Advance the high watermark on the best single voter instead of a majority. */
  readonly minorityCommit?: boolean;
  /** On a diverging-epoch fetch response, keep the divergent suffix and fetch on from the leader's end offset. */
  readonly skipTruncation?: boolean;
}

export const DEFAULT_RAFT_CONFIG: RaftConfig = {
  electionTimeoutMs: 1000,
  fetchTimeoutMs: 2000,
  electionBackoffMaxMs: 1000,
  fetchMaxWaitMs: 500,
  requestTimeoutMs: 2000,
  maxFetchRecords: 100,
  snapshotMinEntries: 0,
};

/** Defaults filled in; throws naming each bad field. */
export function resolveRaftConfig(partial: Partial<RaftConfig> = {}): RaftConfig {
  const config = { ...DEFAULT_RAFT_CONFIG, ...partial };
  const bad = (Object.keys(config) as (keyof RaftConfig)[]).filter((k) => !Number.isInteger(config[k]) || config[k] < 0);
  if (bad.length > 0) throw new Error(`raft config: ${bad.map((k) => `${k} must be a non-negative integer`).join('; ')}`);
  if (config.electionTimeoutMs === 0) throw new Error('raft config: electionTimeoutMs must be > 0');
  if (config.maxFetchRecords === 0) throw new Error('raft config: maxFetchRecords must be > 0');
  return config;
}
