/**
 * Error codes carried by the metadata quorum's messages (KIP-595). Numbers are Kafka's, so a
 * Kafka engineer reading a trace knows them; each is taken from `protocol/errors.ts`, the one
 * table of codes, names and hints, so the two cannot drift apart.
 */
import { ERRORS } from '../../../protocol/errors.js';

export const RAFT_ERRORS = {
  NONE: 0,
  /** The fetch offset is outside the log (Kafka OFFSET_OUT_OF_RANGE). */
  OFFSET_OUT_OF_RANGE: ERRORS.OFFSET_OUT_OF_RANGE.code,
  /** The receiver is not the leader (or no longer a voter that can answer). */
  NOT_LEADER_OR_FOLLOWER: ERRORS.NOT_LEADER_OR_FOLLOWER.code,
  /** The request carries an epoch older than the receiver's: the sender was fenced. */
  FENCED_LEADER_EPOCH: ERRORS.FENCED_LEADER_EPOCH.code,
  /** The request carries an epoch newer than the receiver knows of. */
  UNKNOWN_LEADER_EPOCH: ERRORS.UNKNOWN_LEADER_EPOCH.code,
  /** The sender (or the receiver) is not in the voter set, so it cannot vote or be voted for. */
  INCONSISTENT_VOTER_SET: ERRORS.INCONSISTENT_VOTER_SET.code,
  /** FetchSnapshot asked for a snapshot the leader no longer (or never) held. */
  SNAPSHOT_NOT_FOUND: ERRORS.SNAPSHOT_NOT_FOUND.code,
} as const;

export type RaftErrorName = keyof typeof RAFT_ERRORS;
export type RaftErrorCode = (typeof RAFT_ERRORS)[RaftErrorName];

/** The name of a raft error code, for logs and test failure messages. */
export function raftErrorName(code: number): RaftErrorName | 'UNKNOWN' {
  const hit = (Object.keys(RAFT_ERRORS) as RaftErrorName[]).find((k) => RAFT_ERRORS[k] === code);
  return hit ?? 'UNKNOWN';
}
