/**
 * One SQLite file holding the logs of many partitions, written by one writer thread with group
 * commit, read on the calling thread through a second connection (WAL lets readers run while
 * the writer commits). Layout and the measurement behind it: STORAGE.md.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { EddyError } from '../protocol/errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { PartitionLog, type PartitionConfig, DEFAULT_PARTITION_CONFIG } from './partition-log.js';
import { SYNC_ALWAYS, type SyncPolicy } from './sync-policy.js';

export type SqlArg = number | string | null | Uint8Array;

/** One SQL statement for the writer; Uint8Array arguments travel as blobs. */
export interface TxStep {
  sql: string;
  args: SqlArg[];
}

export interface TxResult {
  /** Per step: the number of changed rows, or the rows (arrays) of a SELECT/RETURNING. */
  results: unknown[];
  /** True when the group this transaction committed in was fsynced before it resolved. */
  synced: boolean;
}

export interface LogStoreOptions {
  /** Path of the SQLite file; its directory is created if missing. */
  path: string;
  sync?: SyncPolicy;
  logger?: Logger;
  /** SQLite page size, used only when the file is created. */
  pageSize?: number;
  /** Upper bound on the blob bytes in one group commit. */
  maxGroupBytes?: number;
  /** How often recovery points (offsets known synced and verified) are persisted. */
  recoveryPointIntervalMs?: number;
  /** Defaults for partitions opened without their own config. */
  partitionDefaults?: Partial<PartitionConfig>;
  /** Hard cap on the SQLite file size; writes past it fail with KAFKA_STORAGE_ERROR (disk full). */
  maxDatabaseBytes?: number;
  /** Path to better_sqlite3.node, for packaged executables. */
  nativeBinding?: string;
}

export interface StoreStats {
  groupCommits: number;
  transactions: number;
  syncedGroups: number;
}

interface PendingTx {
  steps: TxStep[];
  sync: boolean;
  bytes: number;
  resolve(r: TxResult): void;
  reject(e: Error): void;
}

interface WorkerReply {
  type: 'ready' | 'group' | 'closed';
  id?: number;
  ok: boolean;
  synced?: boolean;
  error?: { message: string; code?: string };
  outcomes?: ({ ok: true; results: unknown[] } | { ok: false; error: { message: string; code?: string } })[];
}

interface PartitionRow {
  id: number;
  topic: string;
  partition: number;
  log_start_offset: number;
  recovery_point: number;
}

const SCHEMA: TxStep[] = [
  { sql: 'CREATE TABLE IF NOT EXISTS eddy_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)', args: [] },
  {
    sql: `CREATE TABLE IF NOT EXISTS eddy_partitions (
      id INTEGER PRIMARY KEY,
      topic TEXT NOT NULL,
      partition INTEGER NOT NULL,
      log_start_offset INTEGER NOT NULL DEFAULT 0,
      recovery_point INTEGER NOT NULL DEFAULT 0,
      UNIQUE (topic, partition))`,
    args: [],
  },
  { sql: "INSERT OR IGNORE INTO eddy_meta (key, value) VALUES ('format', '1')", args: [] },
  { sql: "SELECT value FROM eddy_meta WHERE key = 'clean_shutdown'", args: [] },
  { sql: "INSERT OR REPLACE INTO eddy_meta (key, value) VALUES ('clean_shutdown', '0')", args: [] },
];

export function storageError(e: { message: string; code?: string | undefined }, what: string): EddyError {
  const full = e.code === 'SQLITE_FULL' ? ' (the disk is full)' : '';
  return new EddyError('KAFKA_STORAGE_ERROR', `${what} failed: ${e.code ?? 'error'} ${e.message}${full}`);
}

export class LogStore {
  readonly path: string;
  readonly syncPolicy: SyncPolicy;
  readonly logger: Logger;
  /** Read connection on the calling thread; PartitionLog prepares its read statements here. */
  readonly reader: Database.Database;
  /** False when the previous process did not close the store cleanly (crash, kill -9). */
  readonly cleanStart: boolean;
  readonly stats: StoreStats = { groupCommits: 0, transactions: 0, syncedGroups: 0 };

  readonly #worker: Worker;
  readonly #maxGroupBytes: number;
  readonly #partitionDefaults: PartitionConfig;
  #queue: PendingTx[] = [];
  #inFlight: PendingTx[] | null = null;
  #groupId = 0;
  #failure: EddyError | null = null;
  #closing = false;
  #dirty = false;
  #timers: NodeJS.Timeout[] = [];
  #partitions = new Map<string, PartitionLog>();
  #opening = new Map<string, Promise<PartitionLog>>();
  #nextPartitionId: number;
  #closeWaiter: ((reply: WorkerReply) => void) | null = null;

  private constructor(
    options: LogStoreOptions,
    worker: Worker,
    reader: Database.Database,
    cleanStart: boolean,
  ) {
    this.path = options.path;
    this.syncPolicy = options.sync ?? SYNC_ALWAYS;
    this.logger = options.logger ?? silentLogger;
    this.#maxGroupBytes = options.maxGroupBytes ?? 16 * 1024 * 1024;
    this.#partitionDefaults = { ...DEFAULT_PARTITION_CONFIG, ...options.partitionDefaults };
    this.#worker = worker;
    this.reader = reader;
    this.cleanStart = cleanStart;
    const maxId = reader.prepare('SELECT coalesce(max(id), 0) AS m FROM eddy_partitions').get() as { m: number };
    this.#nextPartitionId = maxId.m + 1;
  }

  /** Opens (creating if needed) the store at `options.path`. */
  static async open(options: LogStoreOptions): Promise<LogStore> {
    mkdirSync(dirname(options.path), { recursive: true });
    const pageSize = options.pageSize ?? 4096;
    const worker = new Worker(new URL('./writer-worker.js', import.meta.url), {
      workerData: {
        path: options.path,
        pageSize,
        maxPageCount: options.maxDatabaseBytes ? Math.max(1, Math.floor(options.maxDatabaseBytes / pageSize)) : undefined,
        nativeBinding: options.nativeBinding,
      },
    });
    const ready = await new Promise<WorkerReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (!ready.ok) {
      await worker.terminate();
      throw storageError(ready.error!, `opening the log store at ${options.path}`);
    }
    // The schema goes through the same group-commit path as everything else.
    const bootstrap = new Promise<WorkerReply>((resolve) => worker.once('message', resolve));
    worker.postMessage({ type: 'group', id: 0, sync: true, buffer: null, txs: [{ steps: SCHEMA }] });
    const reply = await bootstrap;
    const outcome = reply.outcomes?.[0];
    if (!reply.ok || !outcome || !outcome.ok) {
      await worker.terminate();
      const err = !reply.ok ? reply.error! : outcome && !outcome.ok ? outcome.error : { message: 'no reply' };
      throw storageError(err, `initialising the log store at ${options.path}`);
    }
    const prev = outcome.results[3] as string[][];
    const cleanStart = prev.length === 0 || prev[0]![0] === '1';
    const reader = new Database(options.path, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {});
    reader.pragma('busy_timeout = 5000');
    reader.pragma('query_only = 1');
    const store = new LogStore(options, worker, reader, cleanStart);
    store.#start();
    return store;
  }

  #start(): void {
    this.#worker.on('message', (reply: WorkerReply) => this.#onReply(reply));
    this.#worker.on('error', (err) => this.#fail(storageError({ message: err.message }, 'the writer thread')));
    this.#worker.on('exit', (code) => {
      if (!this.#closing) this.#fail(storageError({ message: `exited with code ${code}` }, 'the writer thread'));
    });
    if (this.syncPolicy.kind === 'interval') {
      this.#every(this.syncPolicy.ms, () => {
        if (this.#dirty) this.submit([{ sql: SYNC_MARK_SQL, args: [Date.now()] }], { sync: true }).catch(() => {});
      });
    }
  }

  #every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.#timers.push(t);
  }

  /** Starts persisting recovery points every `ms`; called by the owner (node start-up, tests). */
  persistRecoveryPointsEvery(ms: number): void {
    this.#every(ms, () => {
      this.#persistRecoveryPoints().catch((err: Error) =>
        this.logger.warn({ err: err.message }, 'could not persist recovery points; will retry'),
      );
    });
  }

  async #persistRecoveryPoints(extra: TxStep[] = []): Promise<void> {
    const steps = [...this.#partitions.values()].map((p) => p.recoveryPointStep()).filter((s) => s !== null);
    if (steps.length + extra.length > 0) await this.submit([...steps, ...extra], { sync: true });
  }

  /**
   * Queues a transaction for the writer. Transactions queued while a group is committing form
   * the next group: one SQLite transaction, one sync. Resolves once committed (and synced if
   * `sync` or the policy is `always`); rejects with KAFKA_STORAGE_ERROR if it was not applied.
   */
  submit(steps: TxStep[], opts: { sync?: boolean } = {}): Promise<TxResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closing && !opts.sync) {
      return Promise.reject(new EddyError('KAFKA_STORAGE_ERROR', `the log store at ${this.path} is closing`));
    }
    let bytes = 0;
    for (const s of steps) for (const a of s.args) if (a instanceof Uint8Array) bytes += a.length;
    return new Promise<TxResult>((resolve, reject) => {
      this.#queue.push({ steps, sync: opts.sync ?? false, bytes, resolve, reject });
      this.#pump();
    });
  }

  /** Resolves once everything submitted before it has committed. */
  async flush(): Promise<void> {
    await this.submit([], {});
  }

  /** Transactions waiting for or in the current group commit. */
  get pendingTransactions(): number {
    return this.#queue.length + (this.#inFlight?.length ?? 0);
  }

  #pump(): void {
    if (this.#inFlight || this.#queue.length === 0 || this.#failure) return;
    let take = 0;
    let bytes = 0;
    while (take < this.#queue.length && (take === 0 || bytes + this.#queue[take]!.bytes <= this.#maxGroupBytes)) {
      bytes += this.#queue[take]!.bytes;
      take++;
    }
    const group = this.#queue.splice(0, take);
    // One transferable buffer per group: blobs are copied once into it, and the writer reads
    // them as views. Copying also frees callers to reuse their buffers at once.
    const buffer = bytes > 0 ? new ArrayBuffer(bytes) : null;
    const arena = buffer ? new Uint8Array(buffer) : null;
    let at = 0;
    let sync = this.syncPolicy.kind === 'always';
    const txs = group.map((tx) => {
      if (tx.sync) sync = true;
      return {
        steps: tx.steps.map((s) => ({
          sql: s.sql,
          args: s.args.map((a) => {
            if (!(a instanceof Uint8Array)) return a;
            arena!.set(a, at);
            const ref = { blob: [at, a.length] };
            at += a.length;
            return ref;
          }),
        })),
      };
    });
    this.#inFlight = group;
    this.#worker.postMessage({ type: 'group', id: ++this.#groupId, sync, buffer, txs }, buffer ? [buffer] : []);
  }

  #onReply(reply: WorkerReply): void {
    if (reply.type === 'closed') {
      this.#closeWaiter?.(reply);
      return;
    }
    const group = this.#inFlight ?? [];
    this.#inFlight = null;
    this.stats.groupCommits++;
    this.stats.transactions += group.length;
    if (!reply.ok) {
      const err = storageError(reply.error!, 'committing to the log store');
      this.logger.error({ path: this.path, error: reply.error }, 'group commit failed; its appends were not written');
      for (const tx of group) tx.reject(err);
      this.#rejectQueued(err);
    } else {
      const synced = reply.synced === true;
      if (synced) {
        this.stats.syncedGroups++;
        this.#dirty = false;
      } else {
        this.#dirty = true;
      }
      let firstError: EddyError | null = null;
      group.forEach((tx, i) => {
        const o = reply.outcomes![i]!;
        if (o.ok) {
          tx.resolve({ results: o.results, synced });
        } else {
          const err = storageError(o.error, 'a log write');
          firstError ??= err;
          tx.reject(err);
        }
      });
      if (firstError) this.#rejectQueued(firstError);
    }
    this.#pump();
  }

  /**
   * After a failed write, everything queued behind it was sequenced (offsets assigned) on the
   * assumption that it would succeed. Those transactions are refused, not committed above a
   * hole; their callers rewind and retry.
   */
  #rejectQueued(cause: EddyError): void {
    const queued = this.#queue;
    this.#queue = [];
    const err = new EddyError('KAFKA_STORAGE_ERROR', `not written: an earlier write failed (${cause.detail})`);
    for (const tx of queued) tx.reject(err);
  }

  #fail(err: EddyError): void {
    if (this.#failure) return;
    this.#failure = err;
    this.logger.error({ path: this.path, err: err.message }, 'log store writer failed; the store refuses writes until restarted');
    const all = [...(this.#inFlight ?? []), ...this.#queue];
    this.#inFlight = null;
    this.#queue = [];
    for (const tx of all) tx.reject(err);
  }

  // -------------------------------------------------------------------------------------------
  // Partitions
  // -------------------------------------------------------------------------------------------

  /** Opens a partition's log, creating it if missing; recovery runs on first open. */
  partition(topic: string, partition: number, config: Partial<PartitionConfig> = {}): Promise<PartitionLog> {
    const key = `${topic}\u0000${partition}`;
    const open = this.#partitions.get(key);
    if (open) return Promise.resolve(open);
    let pending = this.#opening.get(key);
    if (!pending) {
      pending = this.#openPartition(topic, partition, { ...this.#partitionDefaults, ...config }).finally(() =>
        this.#opening.delete(key),
      );
      this.#opening.set(key, pending);
    }
    return pending;
  }

  async #openPartition(topic: string, partition: number, config: PartitionConfig): Promise<PartitionLog> {
    let row = this.reader
      .prepare('SELECT id, topic, partition, log_start_offset, recovery_point FROM eddy_partitions WHERE topic = ? AND partition = ?')
      .get(topic, partition) as PartitionRow | undefined;
    if (!row) {
      const id = this.#nextPartitionId++;
      await this.submit(
        [
          { sql: 'INSERT INTO eddy_partitions (id, topic, partition) VALUES (?, ?, ?)', args: [id, topic, partition] },
          ...PartitionLog.createTableSteps(id),
        ],
        { sync: true },
      );
      row = { id, topic, partition, log_start_offset: 0, recovery_point: 0 };
    }
    const log = await PartitionLog.open(this, row, config);
    this.#partitions.set(`${topic}\u0000${partition}`, log);
    return log;
  }

  /** Partitions that exist in this store, opened or not. */
  listPartitions(): { topic: string; partition: number }[] {
    return this.reader.prepare('SELECT topic, partition FROM eddy_partitions ORDER BY topic, partition').all() as {
      topic: string;
      partition: number;
    }[];
  }

  /** Deletes a partition's log and its bookkeeping. */
  async dropPartition(topic: string, partition: number): Promise<void> {
    const log = await this.partition(topic, partition);
    this.#partitions.delete(`${topic}\u0000${partition}`);
    log.markDropped();
    await this.submit(
      [
        { sql: `DROP TABLE IF EXISTS ${PartitionLog.tableName(log.id)}`, args: [] },
        { sql: 'DELETE FROM eddy_partitions WHERE id = ?', args: [log.id] },
      ],
      { sync: true },
    );
  }

  /** Returns freed pages to the file system (auto_vacuum = INCREMENTAL). */
  async releaseFreePages(maxPages = 1000): Promise<void> {
    await this.submit([{ sql: `PRAGMA incremental_vacuum(${Math.max(1, Math.floor(maxPages))})`, args: [] }]);
  }

  /**
   * Waits for pending writes, persists recovery points and the clean-shutdown mark, and closes
   * both connections. A store that is not closed (crash) verifies its unsynced tail on next open.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    for (const t of this.#timers) clearInterval(t);
    if (!this.#failure) {
      await this.flush().catch(() => {});
      this.#closing = true;
      await this.#persistRecoveryPoints([
        { sql: "INSERT OR REPLACE INTO eddy_meta (key, value) VALUES ('clean_shutdown', '1')", args: [] },
      ]).catch((err: Error) => this.logger.warn({ err: err.message }, 'could not mark a clean shutdown'));
    }
    this.#closing = true;
    for (const p of this.#partitions.values()) p.markDropped();
    this.#partitions.clear();
    if (!this.#failure) {
      const closed = new Promise<WorkerReply>((resolve) => (this.#closeWaiter = resolve));
      this.#worker.postMessage({ type: 'close', id: 0 });
      await closed;
    }
    await this.#worker.terminate();
    this.reader.close();
  }
}

const SYNC_MARK_SQL = "INSERT OR REPLACE INTO eddy_meta (key, value) VALUES ('last_sync', ?)";
