/**
 * The one table of error codes that crosses a wire or an API boundary.
 *
 * Codes and names are Kafka's where Kafka has one (same numbers), so a Kafka engineer reads them
 * without a lookup. Callers branch on `retriable` or `name`, never on message text.
 */
export interface ErrorSpec {
  readonly code: number;
  readonly retriable: boolean;
  /** What it means, for an operator reading a log line. */
  readonly message: string;
  /** What to do about it. */
  readonly hint: string;
}

export const ERRORS = {
  UNKNOWN_SERVER_ERROR: {
    code: -1,
    retriable: false,
    message: 'The server hit an unexpected error.',
    hint: 'Check the node log for the stack trace and report it.',
  },
  OFFSET_OUT_OF_RANGE: {
    code: 1,
    retriable: false,
    message: 'The requested offset is outside the range the partition holds.',
    hint: 'Seek to a valid offset (earliest or latest) and fetch again.',
  },
  CORRUPT_MESSAGE: {
    code: 2,
    retriable: true,
    message: 'The record batch failed its integrity check (CRC, length or layout).',
    hint: 'The bytes were damaged or mis-encoded; re-encode and resend the batch.',
  },
  UNKNOWN_TOPIC_OR_PARTITION: {
    code: 3,
    retriable: true,
    message: 'This node does not host that topic or partition.',
    hint: 'Create the topic first, or refresh metadata and retry.',
  },
  LEADER_NOT_AVAILABLE: {
    code: 5,
    retriable: true,
    message: 'The partition has no leader right now (its node is down or fenced, or an election is under way).',
    hint: 'Retry after a metadata refresh; if it persists, start the node that holds the partition (eddy cluster describe shows fenced brokers).',
  },
  NOT_LEADER_OR_FOLLOWER: {
    code: 6,
    retriable: true,
    message: 'This node is not the leader for that partition.',
    hint: 'Refresh metadata and send to the current leader.',
  },
  REQUEST_TIMED_OUT: {
    code: 7,
    retriable: true,
    message: 'The request timed out.',
    hint: 'Retry; if it persists, check the node load and disk.',
  },
  NETWORK_EXCEPTION: {
    code: 13,
    retriable: true,
    message: 'The connection to the other node closed (or was never up) before the answer came.',
    hint: 'Retry: the link reconnects by itself; if it persists, check that the peer runs and is reachable.',
  },
  MESSAGE_TOO_LARGE: {
    code: 10,
    retriable: false,
    message: 'The record batch is larger than the configured maximum.',
    hint: 'Send smaller batches, or raise max.message.bytes on the topic.',
  },
  OFFSET_METADATA_TOO_LARGE: {
    code: 12,
    retriable: false,
    message: 'The metadata string of an offset commit is longer than the node accepts.',
    hint: 'Keep commit metadata under 4096 characters.',
  },
  COORDINATOR_NOT_AVAILABLE: {
    code: 15,
    retriable: true,
    message: 'No node coordinates this group right now (its offsets partition has no leader).',
    hint: 'Retry: the client asks again with FindCoordinator once a leader for the group\'s offsets partition is elected.',
  },
  NOT_COORDINATOR: {
    code: 16,
    retriable: true,
    message: 'This node is not the coordinator of the group.',
    hint: 'Ask any node with FindCoordinator (key 10) which node coordinates the group, and send group requests there.',
  },
  INVALID_TOPIC_EXCEPTION: {
    code: 17,
    retriable: false,
    message: 'The topic name is not valid, or the operation is not allowed on this topic.',
    hint: 'Use 1-249 characters from [a-zA-Z0-9._-], not "." or ".."; topics whose names start with "__" are internal and managed by the node.',
  },
  CLUSTER_AUTHORIZATION_FAILED: {
    code: 31,
    retriable: false,
    message: 'This API is for nodes of the cluster, over an authenticated peer link, not for clients.',
    hint: 'Clients use the client APIs; nodes reach each other at the peer path (--peer-path) with the cluster secret.',
  },
  INVALID_GROUP_ID: {
    code: 24,
    retriable: false,
    message: 'The consumer group id is empty or too long.',
    hint: 'Use a group id of 1 to 255 characters.',
  },
  UNKNOWN_MEMBER_ID: {
    code: 25,
    retriable: false,
    message: 'The group coordinator does not know this member (it left, timed out, or the node restarted).',
    hint: 'The member has lost its partitions; rejoin with member epoch 0 (the client does this itself).',
  },
  INVALID_SESSION_TIMEOUT: {
    code: 26,
    retriable: false,
    message: 'The session timeout is outside the range the node accepts.',
    hint: 'Use a session timeout between 500 ms and 30 minutes.',
  },
  INVALID_REQUIRED_ACKS: {
    code: 21,
    retriable: false,
    message: 'acks must be 0, 1 or -1 (all).',
    hint: 'Fix the producer acks setting.',
  },
  NOT_ENOUGH_REPLICAS: {
    code: 19,
    retriable: true,
    message: 'Fewer in-sync replicas than min.insync.replicas.',
    hint: 'Wait for followers to catch up, or lower acks/min.insync.replicas.',
  },
  INVALID_TIMESTAMP: {
    code: 32,
    retriable: false,
    message: 'A record timestamp is out of the accepted range.',
    hint: 'Check the producer clock.',
  },
  UNSUPPORTED_VERSION: {
    code: 35,
    retriable: false,
    message: 'The request or format version is not supported.',
    hint: 'Upgrade the client or the node so that both speak a common version.',
  },
  TOPIC_ALREADY_EXISTS: {
    code: 36,
    retriable: false,
    message: 'The topic already exists.',
    hint: 'Use the existing topic or pick another name.',
  },
  INVALID_PARTITIONS: {
    code: 37,
    retriable: false,
    message: 'The number of partitions is not valid.',
    hint: 'Use at least 1 partition (and at most the node limit).',
  },
  INVALID_REPLICATION_FACTOR: {
    code: 38,
    retriable: false,
    message: 'The replication factor is not valid.',
    hint: 'Use replication factor 1 (or -1 for the default): partitions are not replicated yet.',
  },
  INVALID_CONFIG: {
    code: 40,
    retriable: false,
    message: 'A configuration name or value is not valid.',
    hint: 'Check the config name and its allowed values (see the README).',
  },
  NOT_CONTROLLER: {
    code: 41,
    retriable: true,
    message: 'This node is not the active controller, or the metadata quorum has no leader right now.',
    hint: 'Retry: any node forwards admin requests to the active controller once one is elected; if it persists, check that a majority of the controller quorum voters are up (eddy cluster describe).',
  },
  INVALID_REQUEST: {
    code: 42,
    retriable: false,
    message: 'The request is malformed or violates the protocol.',
    hint: 'Fix the client; see docs for the expected request layout.',
  },
  OUT_OF_ORDER_SEQUENCE_NUMBER: {
    code: 45,
    retriable: false,
    message: 'An idempotent producer skipped a sequence number: a batch before this one was not written.',
    hint: 'The client resends the missing batch first (it does this itself); if it persists, restart the producer.',
  },
  DUPLICATE_SEQUENCE_NUMBER: {
    code: 46,
    retriable: false,
    message: 'An idempotent producer resent a batch that was written long ago (beyond the last 16 the node remembers per producer and partition).',
    hint: 'Nothing to do: the batch is stored once; the client treats this as success.',
  },
  KAFKA_STORAGE_ERROR: {
    code: 56,
    retriable: true,
    message: 'The node could not write to or read from its log storage.',
    hint: 'Check free disk space and the disk itself; the write was not applied, so retry.',
  },
  UNSUPPORTED_COMPRESSION_TYPE: {
    code: 76,
    retriable: false,
    message: 'The batch uses a compression codec this node does not support.',
    hint: 'Use none, gzip or lz4.',
  },
  NON_EMPTY_GROUP: {
    code: 68,
    retriable: false,
    message: 'The consumer group still has active members.',
    hint: 'Stop the group\'s consumers (eddy groups describe shows them), then retry.',
  },
  GROUP_ID_NOT_FOUND: {
    code: 69,
    retriable: false,
    message: 'No consumer group with this id exists (no members and no committed offsets).',
    hint: 'Check the name with eddy groups list.',
  },
  FENCED_LEADER_EPOCH: {
    code: 74,
    retriable: true,
    message: 'The request carries a leader epoch older than the one this node knows: its sender was fenced by a newer leader.',
    hint: 'Refresh metadata (or, for a quorum peer, follow the newer leader) and retry.',
  },
  UNKNOWN_LEADER_EPOCH: {
    code: 75,
    retriable: true,
    message: 'The request carries a leader epoch newer than any this node knows yet.',
    hint: 'Retry: this node learns the new epoch from the leader shortly.',
  },
  STALE_BROKER_EPOCH: {
    code: 77,
    retriable: false,
    message: 'The broker epoch is not the one the controller gave this broker at its registration.',
    hint: 'The broker registered again since; it must use its new epoch (a restart does this).',
  },
  GROUP_MAX_SIZE_REACHED: {
    code: 81,
    retriable: false,
    message: 'The consumer group has as many members as the node allows.',
    hint: 'Use fewer consumers per group (more members than partitions leave some idle anyway).',
  },
  INVALID_RECORD: {
    code: 87,
    retriable: false,
    message: 'The batch is well-formed but its records are not valid for this append.',
    hint: 'Fix the producer: record count, offset deltas and flags must agree.',
  },
  PRODUCER_FENCED: {
    code: 90,
    retriable: false,
    message: 'A newer instance of this producer (a higher producer epoch) has taken over.',
    hint: 'Close this producer: another one with the same id is writing now.',
  },
  INCONSISTENT_VOTER_SET: {
    code: 94,
    retriable: false,
    message: 'The sender or the receiver is not a voter of the metadata quorum, so it cannot vote or be voted for.',
    hint: 'Give every node the same --controller-quorum-voters; a node not listed runs as an observer.',
  },
  INVALID_UPDATE_VERSION: {
    code: 95,
    retriable: false,
    message: 'The partition change was made from a stale view of the partition: its partition epoch is not the current one (KIP-497).',
    hint: 'The leader must learn the partition\'s current state from the metadata log, then ask again from that view (the node does this itself).',
  },
  SNAPSHOT_NOT_FOUND: {
    code: 98,
    retriable: true,
    message: 'The metadata leader no longer holds the snapshot asked for.',
    hint: 'Retry: the follower fetches again and is offered the leader\'s newest snapshot.',
  },
  UNKNOWN_TOPIC_ID: {
    code: 100,
    retriable: true,
    message: 'No topic has this topic id in the cluster metadata.',
    hint: 'Refresh metadata: the topic may have been deleted, or created after this request was built.',
  },
  DUPLICATE_BROKER_REGISTRATION: {
    code: 101,
    retriable: false,
    message: 'Another live broker process is registered with this broker id.',
    hint: 'Give each node its own node id, or wait for the old process to be fenced.',
  },
  BROKER_ID_NOT_REGISTERED: {
    code: 102,
    retriable: false,
    message: 'The controller has no registration for this broker id.',
    hint: 'Register the broker (restart it) before it heartbeats or asks for producer ids.',
  },
  INCONSISTENT_CLUSTER_ID: {
    code: 104,
    retriable: false,
    message: 'The cluster id does not match the one in the cluster metadata.',
    hint: 'The node belongs to another cluster, or its data dir was formatted for one; use the right data dir.',
  },
  INELIGIBLE_REPLICA: {
    code: 107,
    retriable: false,
    message: 'The new ISR adds a replica that may not join it: its broker is fenced or not registered.',
    hint: 'Only unfenced brokers join the ISR; the replica rejoins once its node heartbeats the controller again (eddy cluster describe shows fenced brokers).',
  },
  FENCED_MEMBER_EPOCH: {
    code: 110,
    retriable: false,
    message: 'The member epoch is not one the group coordinator issued to this member; the member is fenced.',
    hint: 'The member has lost its partitions; rejoin with member epoch 0 (the client does this itself).',
  },
  UNSUPPORTED_ASSIGNOR: {
    code: 112,
    retriable: false,
    message: 'The partition assignor named by the member is not one the node has.',
    hint: 'Use range, roundrobin or sticky.',
  },
  STALE_MEMBER_EPOCH: {
    code: 113,
    retriable: false,
    message: 'The member does not own this partition at its current epoch (it was reassigned).',
    hint: 'Do not commit it; drop its records. Its new owner resumes from the last committed offset.',
  },
  INVALID_REGULAR_EXPRESSION: {
    code: 128,
    retriable: false,
    message: 'The subscription regular expression does not compile.',
    hint: 'Fix the pattern; it must match whole topic names (JavaScript RegExp syntax).',
  },
  // Eddy's own codes start at 1000, clear of Kafka's (as its API keys do).
  PEER_AUTHENTICATION_FAILED: {
    code: 1000,
    retriable: false,
    message: 'The peer link was refused: the handshake failed or the peer is not one this node links with.',
    hint: 'Give every node the same --cluster-secret-file, cluster id and --controller-quorum-voters; the message names the check that failed.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorName = keyof typeof ERRORS;

const BY_CODE = new Map<number, ErrorName>(
  (Object.keys(ERRORS) as ErrorName[]).map((name) => [ERRORS[name].code, name]),
);

/** The error name for a wire code; unknown codes map to UNKNOWN_SERVER_ERROR. */
export function errorNameForCode(code: number): ErrorName {
  return BY_CODE.get(code) ?? 'UNKNOWN_SERVER_ERROR';
}

/**
 * An error with a stable code. `detail` says what happened in this instance; the table's
 * hint says what to do. `message` joins them for logs: "NAME: detail. hint".
 */
export class EddyError extends Error {
  readonly errorName: ErrorName;
  readonly code: number;
  readonly retriable: boolean;
  readonly detail: string;

  constructor(name: ErrorName, detail: string, options?: { cause?: unknown }) {
    const spec: ErrorSpec = ERRORS[name];
    super(`${name}: ${detail}. ${spec.hint}`, options);
    this.name = 'EddyError';
    this.errorName = name;
    this.code = spec.code;
    this.retriable = spec.retriable;
    this.detail = detail;
  }
}

export function isEddyError(err: unknown, name?: ErrorName): err is EddyError {
  return err instanceof EddyError && (name === undefined || err.errorName === name);
}
