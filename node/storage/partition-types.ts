/**
 * The shapes a partition log takes and returns: its config, append options and results, read
 * options and results, and its row in eddy_partitions.
 */
import { DEFAULT_PRODUCER_ID_EXPIRATION_MS } from './producer-state.js';

export interface PartitionConfig {
  /** Largest accepted batch in bytes (Kafka's max.message.bytes; default 1 MiB + overhead). */
  maxBatchBytes: number;
  /** Bound on a compressed batch's decompressed size. */
  maxDecompressedBytes: number;
  /** An idempotent producer idle this long is forgotten (Kafka's producer.id.expiration.ms). */
  producerIdExpirationMs: number;
  /**
   * True when replication owns the high watermark from the start, so it opens at its checkpoint;
   * false (a single replica): it follows the log end offset. PartitionLog.setReplicated changes
   * it afterwards.
   */
  replicated: boolean;
}

export const DEFAULT_PARTITION_CONFIG: PartitionConfig = {
  maxBatchBytes: 1_048_588,
  maxDecompressedBytes: 64 * 1024 * 1024,
  producerIdExpirationMs: DEFAULT_PRODUCER_ID_EXPIRATION_MS,
  replicated: false,
};

export interface AppendOptions {
  /** Force (true) or skip (false) the fsync of this append; default: the store's policy. */
  sync?: boolean;
  /** Leader epoch stamped into the batches (leader appends). */
  leaderEpoch?: number;
  /** Refuse records without a key with INVALID_RECORD (compacted topics). */
  requireKeys?: boolean;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** True if the commit that made these batches visible was fsynced. */
  synced: boolean;
  batches: { baseOffset: number; lastOffset: number }[];
  /** True for an idempotent producer's retry of a batch already stored: nothing new was written. */
  duplicate?: boolean;
}

/** Kafka's FetchIsolation: FetchHighWatermark or FetchLogEnd (replica fetches). */
export type ReadLimit = 'high-watermark' | 'log-end';

export interface ReadOptions {
  /**
   * How far a read may go, as Kafka's FetchIsolation: `high-watermark` (default; every consumer,
   * whatever its isolation level, since there are no transactions yet) or `log-end` (replicas
   * copying the log, and the node's own loaders of internal topics).
   */
  upTo?: ReadLimit;
  /**
   * Never exceed maxBytes, not even with the first batch. A fetch spanning partitions sets it
   * once it has returned something: only the response's first batch may be oversized (KIP-74).
   */
  strictMaxBytes?: boolean;
}

export interface ReadResult {
  /** Whole stored batches, bytes as appended. The first may start before the fetch offset. */
  batches: Uint8Array[];
  bytes: number;
  /** Offset after the last returned batch (the next fetch offset), or the fetch offset if none. */
  nextOffset: number;
  logStartOffset: number;
  highWatermark: number;
  logEndOffset: number;
}

/** The partition's row in eddy_partitions. */
export interface PartitionIdentity {
  id: number;
  topic: string;
  partition: number;
  log_start_offset: number;
  recovery_point: number;
  /** The last checkpointed high watermark; -1 when never checkpointed (written before replication existed). */
  high_watermark: number;
}
