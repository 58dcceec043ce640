/**
 * The producer: accumulates records per partition, sends a batch when it is full or its linger
 * has passed, and resolves each send with the record's offset. One Produce request carries the
 * ready batches of several partitions (at most one batch per partition).
 *
 * Idempotent by default (acks 'all'), as Kafka ≥ 3: retriable failures (a lost connection, a node
 * restarting, a full disk) are retried until deliveryTimeoutMs, and each record is stored once,
 * in order (see sender.ts). Errors that retrying cannot fix surface as EddyError at once.
 */
import { Apis } from '../../protocol/apis/index.js';
import { Compression, type CompressionId } from '../../protocol/compression.js';
import { EddyError } from '../../protocol/errors.js';
import type { RecordHeader, RecordInput } from '../../protocol/record-batch.js';
import { IDEMPOTENT_MAX_IN_FLIGHT as MAX_CACHED_BATCHES } from '../../protocol/apis/init-producer-id.js';
import { RecordAccumulator, type Batch } from './accumulator.js';
import { toBytes, type BytesLike } from './bytes.js';
import { ClientClosedError } from './client-errors.js';
import { BrokerConnections } from './broker-connections.js';
import type { ServerList } from './bootstrap.js';
import { PartitionCounts } from './partition-counts.js';
import { partitionForKey, StickyPartitioner, type Partitioner } from './partitioner.js';
import { Sender } from './sender.js';
import { reconnectBackoff, type ReconnectOptions } from './backoff.js';
import type { SocketFactory } from './socket.js';

export type Acks = 0 | 1 | 'all';

export interface ProducerOptions extends ReconnectOptions {
  /**
   * The bootstrap list: `ws://host:port` of one node, or several (`'ws://a:9400,ws://b:9400'` or
   * an array), tried in turn for the first metadata. Batches then go to each partition's leader.
   */
  server: ServerList;
  clientId?: string;
  /** 0: do not wait; 1: the leader has it durably; 'all' (default): every in-sync replica has it. */
  acks?: Acks;
  /** How long a batch waits for more records before it is sent. Default 5 ms. */
  lingerMs?: number;
  /** A partition's batch is sent as soon as it reaches this many bytes. Default 16384. */
  batchSizeBytes?: number;
  /**
   * Codec of the record batches. 'lz4' (Kafka's LZ4 frame) compresses several times faster than
   * 'gzip' but less tightly; see `npm run bench -- compression`. Default 'none'.
   */
  compression?: 'none' | 'gzip' | 'lz4';
  /** Replaces the default key-hash / sticky choice for every record without an explicit partition. */
  partitioner?: Partitioner;
  /** Per request, including any wait for a connection. Default 30 s. */
  requestTimeoutMs?: number;
  /** How long partition counts and leaders are cached (Kafka's metadata.max.age.ms). Default 5 min. */
  metadataMaxAgeMs?: number;
  /** The transport; defaults to the `ws` package. */
  socketFactory?: SocketFactory;
  /** For tests of the unkeyed-record spread. */
  random?: () => number;
  /**
   * Store each record once, in order, even when sends are retried (producer ids and sequence
   * numbers). Default true with acks 'all'; needs acks 'all'.
   */
  idempotent?: boolean;
  /** Retriable failures are retried until this long after the record's batch was created. Default 2 min. */
  deliveryTimeoutMs?: number;
  /** First retry delay, doubling up to retryBackoffMaxMs. Defaults 100 ms and 1 s. */
  retryBackoffMs?: number;
  retryBackoffMaxMs?: number;
  /**
   * Batches of one partition in flight at once. Default 16, the most an idempotent producer may
   * have (the node remembers a producer's last 16 batches per partition; Kafka's limit is 5).
   */
  maxInFlightPerPartition?: number;
}

export type ProducerHeaders =
  | Readonly<Record<string, BytesLike | null>>
  | readonly { key: string; value: BytesLike | null }[];

export interface ProducerRecord {
  topic: string;
  key?: BytesLike | null;
  value: BytesLike | null;
  headers?: ProducerHeaders;
  /** Send to this partition instead of letting the partitioner choose. */
  partition?: number;
  /** Milliseconds since the epoch; defaults to now. */
  timestamp?: number;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** The record's offset; -1 with acks=0, where the node does not answer. */
  offset: number;
}

/** Where a run of records from one `sendBatch` call landed: `count` records from `baseOffset`. */
export interface BatchMetadata {
  topic: string;
  partition: number;
  /** -1 with acks=0. */
  baseOffset: number;
  count: number;
}

/**
 * What a queued record settles when its batch completes. Consecutive records of one batch that
 * share a ticket are settled as one run, so a `sendBatch` of thousands of records costs one
 * promise and a few result objects, not one of each per record.
 */
interface Ticket {
  complete(topic: string, partition: number, baseOffset: number, count: number): void;
  fail(err: unknown): void;
}

function recordTicket(resolve: (m: RecordMetadata) => void, reject: (e: unknown) => void): Ticket {
  return {
    complete: (topic, partition, offset) => resolve({ topic, partition, offset }),
    fail: reject,
  };
}

function groupTicket(expected: number, resolve: (m: BatchMetadata[]) => void, reject: (e: unknown) => void): Ticket {
  const landed: BatchMetadata[] = [];
  let remaining = expected;
  let failed = false;
  return {
    complete(topic, partition, baseOffset, count) {
      if (failed) return;
      landed.push({ topic, partition, baseOffset, count });
      remaining -= count;
      if (remaining === 0) resolve(landed);
    },
    fail(err) {
      if (failed) return;
      failed = true;
      reject(err);
    },
  };
}

const ACKS_ON_WIRE = { 0: 0, 1: 1, all: -1 } as const;

const NO_HEADERS: RecordHeader[] = [];

function toHeaders(h: ProducerHeaders | undefined): RecordHeader[] {
  if (!h) return NO_HEADERS;
  const list = Array.isArray(h)
    ? (h as readonly { key: string; value: BytesLike | null }[])
    : Object.entries(h as Readonly<Record<string, BytesLike | null>>).map(([key, value]) => ({ key, value }));
  return list.map(({ key, value }) => ({ key, value: toBytes(value) }));
}

/** Sends records to a node. Create one per application and share it; it batches across callers. */
export class Producer {
  readonly #brokers: BrokerConnections;
  readonly #compression: CompressionId;
  readonly #sender: Sender;
  readonly #lingerMs: number;
  readonly #partitioner: Partitioner | undefined;
  readonly #sticky: StickyPartitioner;
  readonly #counts: PartitionCounts;
  readonly #acc: RecordAccumulator<Ticket>;
  /** Sends still waiting for their partition count, so that flush() can include them. */
  readonly #appending = new Set<Promise<void>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #closed = false;

  constructor(options: ProducerOptions) {
    const acks = options.acks ?? 'all';
    if (!(acks in ACKS_ON_WIRE)) throw new TypeError(`acks must be 0, 1 or 'all', got ${String(acks)}`);
    const idempotent = options.idempotent ?? acks === 'all';
    if (idempotent && acks !== 'all') throw new TypeError(`an idempotent producer needs acks 'all' (got ${String(acks)}); set idempotent: false to use it`);
    const maxInFlight = options.maxInFlightPerPartition ?? MAX_CACHED_BATCHES;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1 || (idempotent && maxInFlight > MAX_CACHED_BATCHES)) {
      throw new TypeError(`maxInFlightPerPartition must be a whole number from 1${idempotent ? ` to ${MAX_CACHED_BATCHES} for an idempotent producer` : ''}, got ${maxInFlight}`);
    }
    const compression = options.compression ?? 'none';
    if (compression !== 'none' && compression !== 'gzip' && compression !== 'lz4') {
      throw new TypeError(`compression must be 'none', 'gzip' or 'lz4', got ${String(compression)}`);
    }
    this.#compression = Compression[compression];
    const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#lingerMs = options.lingerMs ?? 5;
    const batchSizeBytes = options.batchSizeBytes ?? 16_384;
    if (!(this.#lingerMs >= 0)) throw new TypeError(`lingerMs must be ≥ 0, got ${this.#lingerMs}`);
    if (!(batchSizeBytes > 0)) throw new TypeError(`batchSizeBytes must be > 0, got ${batchSizeBytes}`);
    this.#partitioner = options.partitioner;
    this.#sticky = new StickyPartitioner(options.random);
    this.#brokers = new BrokerConnections({
      servers: options.server,
      connection: {
        clientId: options.clientId ?? 'eddy-producer',
        requestTimeoutMs,
        ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
        reconnectBackoff: reconnectBackoff(options),
      },
      metadataMaxAgeMs: options.metadataMaxAgeMs ?? 300_000,
    });
    this.#sender = new Sender(this.#brokers, {
      acks: ACKS_ON_WIRE[acks],
      idempotent,
      requestTimeoutMs,
      deliveryTimeoutMs: options.deliveryTimeoutMs ?? 120_000,
      retryBackoffMs: options.retryBackoffMs ?? 100,
      retryBackoffMaxMs: options.retryBackoffMaxMs ?? 1000,
      maxInFlightPerPartition: maxInFlight,
      complete: (batch, baseOffset) => completeBatch(batch as Batch<Ticket>, baseOffset),
      fail: (batch, err) => failBatch(batch as Batch<Ticket>, err),
      onCapacity: () => this.#sendReady(false),
      onUnknownPartition: (topic) => this.#counts.invalidate(topic),
    });
    this.#counts = new PartitionCounts(this.#brokers, {
      maxAgeMs: options.metadataMaxAgeMs ?? 300_000,
      retryBackoffMs: 100,
      now: Date.now,
    });
    this.#acc = new RecordAccumulator<Ticket>({ batchSizeBytes, lingerMs: this.#lingerMs, compression: this.#compression });
  }

  /**
   * Queues one record and resolves once the node has it at the configured acks (at once with
   * acks=0). Rejects with EddyError, e.g. UNKNOWN_TOPIC_OR_PARTITION for a topic that does not
   * exist, or with the error the node returned for the record's batch.
   */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    if (this.#closed) return Promise.reject(new ClientClosedError('producer'));
    return new Promise<RecordMetadata>((resolve, reject) => this.#enqueue(record, recordTicket(resolve, reject), Date.now()));
  }

  /**
   * Queues many records at once (like KafkaJS's `send({ messages })`) and resolves when all of
   * them are stored, with one entry per run of records that landed together; rejects with the
   * first error (records of the call in other batches may still have been stored). Cheaper per
   * record than `send`: one promise for the whole call.
   */
  sendBatch(records: readonly ProducerRecord[]): Promise<BatchMetadata[]> {
    if (this.#closed) return Promise.reject(new ClientClosedError('producer'));
    if (records.length === 0) return Promise.resolve([]);
    return new Promise<BatchMetadata[]>((resolve, reject) => {
      const ticket = groupTicket(records.length, resolve, reject);
      const now = Date.now(); // one clock read for the call: the records' default timestamp
      for (const r of records) this.#enqueue(r, ticket, now);
    });
  }

  #enqueue(record: ProducerRecord, ticket: Ticket, now: number): void {
    const { topic } = record;
    const key = toBytes(record.key);
    const input: RecordInput = {
      key,
      value: toBytes(record.value),
      headers: toHeaders(record.headers),
      timestamp: record.timestamp ?? now,
    };
    // Hot path: the partition count is known and no earlier send is still waiting for one
    // (so this one cannot overtake it): append now, with no promise chain per record.
    const known = this.#appending.size === 0 ? this.#counts.peek(topic, now) : undefined;
    if (known !== undefined) {
      try {
        this.#append(topic, this.#choosePartition(record, key, known), input, ticket, now);
      } catch (err) {
        ticket.fail(err);
      }
      return;
    }
    const step = this.#counts.get(topic).then(
      (count) => {
        try {
          this.#append(topic, this.#choosePartition(record, key, count), input, ticket, Date.now());
        } catch (err) {
          ticket.fail(err);
        }
      },
      (err: unknown) => ticket.fail(err),
    );
    this.#appending.add(step);
    void step.finally(() => this.#appending.delete(step));
  }

  /** Sends everything queued so far, without waiting for linger, and waits for the answers. */
  async flush(): Promise<void> {
    while (this.#appending.size > 0) await Promise.all(this.#appending);
    for (;;) {
      this.#sendReady(true);
      await this.#sender.idle();
      if (this.#acc.recordCount === 0) return; // else: held back for ordering; send it now
    }
  }

  /** Flushes, then closes the connection. Later sends reject with ClientClosedError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.flush();
    } finally {
      clearTimeout(this.#timer);
      await this.#brokers.close();
    }
  }

  #choosePartition(record: ProducerRecord, key: Uint8Array | null, count: number): number {
    const explicit = record.partition;
    const partition =
      explicit !== undefined
        ? explicit
        : this.#partitioner
          ? this.#partitioner(key, count, record.topic)
          : key !== null
            ? partitionForKey(key, count)
            : this.#sticky.partition(record.topic, count);
    if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
      const who = explicit !== undefined ? 'requested' : 'chosen by the partitioner';
      throw new EddyError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        `partition ${partition} ${who} does not exist: topic ${record.topic} has ${count} partitions`,
      );
    }
    return partition;
  }

  #append(topic: string, partition: number, record: RecordInput, ticket: Ticket, now: number): void {
    const { batchClosed, batchOpened } = this.#acc.append(topic, partition, record, ticket, now);
    if (batchClosed) {
      this.#sticky.batchCompleted(topic, partition);
      this.#sendReady(false);
    } else if (batchOpened) {
      // Only a new batch can bring the earliest linger deadline forward.
      this.#armTimer();
    }
  }

  /** Keeps one timer, set for the earliest batch deadline. */
  #armTimer(): void {
    const at = this.#acc.nextReadyAt((topic, partition) => this.#sender.room(topic, partition));
    if (at === undefined || at >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timerAt = Infinity;
        this.#sendReady(false);
      },
      Math.max(0, at - Date.now()),
    );
  }

  #sendReady(force: boolean): void {
    const batches = this.#acc.drain(Date.now(), force, (topic, partition) => this.#sender.room(topic, partition));
    for (const b of batches) this.#sticky.batchCompleted(b.topic, b.partition);
    if (batches.length > 0) this.#sender.send(batches);
    if (this.#acc.recordCount > 0) this.#armTimer();
  }
}

/** Settles the batch's tickets, one call per run of consecutive records sharing a ticket. */
function forEachRun(batch: Batch<Ticket>, fn: (ticket: Ticket, first: number, count: number) => void): void {
  const t = batch.tickets;
  for (let i = 0; i < t.length; ) {
    let j = i + 1;
    while (j < t.length && t[j] === t[i]) j++;
    fn(t[i]!, i, j - i);
    i = j;
  }
}

function completeBatch(batch: Batch<Ticket>, baseOffset: number): void {
  forEachRun(batch, (ticket, first, count) => ticket.complete(batch.topic, batch.partition, baseOffset < 0 ? -1 : baseOffset + first, count));
}

function failBatch(batch: Batch<Ticket>, err: unknown): void {
  forEachRun(batch, (ticket) => ticket.fail(err));
}
