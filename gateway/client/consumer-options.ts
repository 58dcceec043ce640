/** What a Consumer is configured with (see consumer.ts). */
import type { OffsetSpec } from './list-offsets.js';
import type { ReconnectOptions } from './backoff.js';
import type { SocketFactory } from './socket.js';
import type { ServerList } from './bootstrap.js';

export interface ConsumerOptions extends ReconnectOptions {
  /**
   * The bootstrap list: `ws://host:port` of one node, or several (`'ws://a:9400,ws://b:9400'` or
   * an array). Fetches then go to each partition's leader, group requests to the coordinator.
   */
  server: ServerList;
  /** Partition leaders are refreshed when older than this (Kafka's metadata.max.age.ms). Default 5 min. */
  metadataMaxAgeMs?: number;
  clientId?: string;
  /** Where to start a partition with no position, or whose position fell out of the log. Default 'latest'. */
  autoOffsetReset?: 'earliest' | 'latest';
  /** How long the node may hold a fetch waiting for minBytes. Default 500 ms. */
  maxWaitMs?: number;
  /** The node answers a fetch as soon as this many bytes are available. Default 1. */
  minBytes?: number;
  /** Upper bound on one fetch response (the first batch is always returned whole). Default 50 MiB. */
  maxBytes?: number;
  /** Upper bound per partition in one fetch response. Default 1 MiB. */
  partitionMaxBytes?: number;
  /**
   * Kafka's isolation.level: 'read_committed' reads up to the last stable offset,
   * 'read_uncommitted' (default, as in Kafka) up to the high watermark. The node has no
   * transactions yet, so the two read the same records; neither sees past the high watermark.
   */
  isolationLevel?: 'read_uncommitted' | 'read_committed';
  /** Per request, on top of maxWaitMs for fetches. Default 30 s. */
  requestTimeoutMs?: number;
  /** Pause after a retriable error before fetching again. Default 100 ms. */
  retryBackoffMs?: number;
  /** Verify each batch's CRC before decoding it. Default true. */
  checkCrcs?: boolean;
  /** The transport; defaults to the `ws` package. */
  socketFactory?: SocketFactory;
  /** Consumer group to join on `subscribe` (Kafka's group.id). */
  groupId?: string;
  /** The node removes a member it has not heard from for this long. Default 45 s (500 ms to 30 min). */
  sessionTimeoutMs?: number;
  /** Longest the application may hold records of a revoked partition before it is removed. Default 5 min. */
  rebalanceTimeoutMs?: number;
  /** The group's partition assignor, run by the node: 'range', 'roundrobin' or 'sticky' (default). */
  groupAssignor?: 'range' | 'roundrobin' | 'sticky';
  /** Commit processed positions every autoCommitIntervalMs and on rebalance/close. Default true. */
  autoCommit?: boolean;
  /** Default 5 s. */
  autoCommitIntervalMs?: number;
}

/** An offset to commit: the next offset to consume in that partition. */
export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
  metadata?: string | null;
}

/** A position to seek to: an offset, the log start, the high watermark, or the first record at/after a time. */
export type SeekTarget = number | OffsetSpec;
