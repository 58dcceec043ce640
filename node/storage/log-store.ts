/**
 * One SQLite file holding the logs of many partitions, written by one writer thread with group
 * commit, read on the calling thread through a second connection (WAL lets readers run while
 * the writer commits). Layout and the measurement behind it: STORAGE.md.
 */
import '../../protocol/crc32c-native.js'; // hardware CRC-32C in Node (see crc32c-native.ts)
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { EddyError } from '../../protocol/errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { tpKey } from '../../protocol/topic-partition.js';
import { LEADER_EPOCHS_TABLE_SQL } from './leader-epoch-cache.js';
import { PartitionLog } from './partition-log.js';
import { addMissingColumnSteps, createTableSteps, dropTableSteps } from './partition-table.js';
import { DEFAULT_PARTITION_CONFIG, type PartitionConfig, type PartitionIdentity } from './partition-types.js';
import type { PartitionStore, SubmitOptions, TxResult, TxStep } from './store-types.js';
import { SYNC_ALWAYS, type SyncPolicy } from './sync-policy.js';
import { sqliteAddonPath, sqliteOptions, startWriterThread } from './writer-thread.js';

export type { SqlArg, SubmitOptions, TxResult, TxStep } from './store-types.js';

export interface LogStoreOptions {
  /** Path of the SQLite file; its directory is created if missing. */
  path: string;
  sync?: SyncPolicy;
  logger?: Logger;
  /** SQLite page size, used only when the file is created. */
  pageSize?: number;
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
  opts: SubmitOptions;
  resolve(r: TxResult): void;
  reject(e: Error): void;
}

type Outcome =
  | { id: number; ok: true; results: unknown[] }
  | { id: number; ok: false; skipped?: boolean; error?: { message: string; code?: string } };

interface WorkerReply {
  type: 'ready' | 'group' | 'closed' | 'checkpoint';
  ok: boolean;
  /** checkpoint: its request id, and whether it copied and truncated everything. */
  id?: number;
  complete?: boolean;
  committed?: boolean;
  synced?: boolean;
  episode?: number;
  error?: { message: string; code?: string };
  outcomes?: Outcome[];
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
      high_watermark INTEGER NOT NULL DEFAULT -1,
      UNIQUE (topic, partition))`,
    args: [],
  },
  { sql: "INSERT OR IGNORE INTO eddy_meta (key, value) VALUES ('format', '1')", args: [] },
  { sql: "SELECT value FROM eddy_meta WHERE key = 'clean_shutdown'", args: [] },
  { sql: "INSERT OR REPLACE INTO eddy_meta (key, value) VALUES ('clean_shutdown', '0')", args: [] },
  { sql: LEADER_EPOCHS_TABLE_SQL, args: [] },
];

export function storageError(e: { message: string; code?: string | undefined }, what: string): EddyError {
  const full = e.code === 'SQLITE_FULL' ? ' (the disk is full)' : '';
  return new EddyError('KAFKA_STORAGE_ERROR', `${what} failed: ${e.code ?? 'error'} ${e.message}${full}`);
}

/** Pages returned to the file system per transaction by releaseFreePages (8 MiB at 4 KiB pages). */
const RELEASE_CHUNK_PAGES = 2048;

export class LogStore implements PartitionStore {
  readonly path: string;
  readonly syncPolicy: SyncPolicy;
  readonly logger: Logger;
  /** Read connection on the calling thread; PartitionLog prepares its read statements here. */
  readonly reader: Database.Database;
  /** False when the previous process did not close the store cleanly (crash, kill -9). */
  readonly cleanStart: boolean;
  readonly stats: StoreStats = { groupCommits: 0, transactions: 0, syncedGroups: 0 };

  readonly #worker: Worker;
  readonly #partitionDefaults: PartitionConfig;
  /** Posted to the writer and not yet settled, in id (= posting) order. */
  #pending = new Map<number, PendingTx>();
  #nextTxId = 1;
  #failure: EddyError | null = null;
  /** Set when close() starts: no new writes, then the writer closes after what was posted. */
  #closed = false;
  #dirty = false;
  #timers: NodeJS.Timeout[] = [];
  #partitions = new Map<string, PartitionLog>();
  #opening = new Map<string, Promise<PartitionLog>>();
  #nextPartitionId: number;
  #closeWaiter: ((reply: WorkerReply) => void) | null = null;
  #checkpoints = new Map<number, { resolve(complete: boolean): void; reject(e: Error): void }>();
  #nextCheckpointId = 1;

  private constructor(
    options: LogStoreOptions,
    worker: Worker,
    reader: Database.Database,
    cleanStart: boolean,
  ) {
    this.path = options.path;
    this.syncPolicy = options.sync ?? SYNC_ALWAYS;
    this.logger = options.logger ?? silentLogger;
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
    const nativeBinding = sqliteAddonPath(options.nativeBinding);
    const worker = startWriterThread({
      path: options.path,
      pageSize,
      syncAlways: (options.sync ?? SYNC_ALWAYS).kind === 'always',
      maxPageCount: options.maxDatabaseBytes ? Math.max(1, Math.floor(options.maxDatabaseBytes / pageSize)) : undefined,
      nativeBinding,
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
    worker.postMessage({ type: 'tx', id: 0, sync: true, buffer: null, steps: SCHEMA });
    const reply = await bootstrap;
    const outcome = reply.outcomes?.[0];
    if (!outcome || !outcome.ok) {
      await worker.terminate();
      throw storageError((outcome && !outcome.ok && outcome.error) || { message: 'no reply' }, `initialising the log store at ${options.path}`);
    }
    const prev = outcome.results[3] as string[][];
    const cleanStart = prev.length === 0 || prev[0]![0] === '1';
    const reader = new Database(options.path, sqliteOptions(nativeBinding));
    reader.pragma('busy_timeout = 5000');
    reader.pragma('query_only = 1');
    // Consumers mostly read each recent page once, and the kernel's page cache keeps the file
    // anyway: 4 MB instead of better-sqlite3's 16 MB default keeps resident memory down.
    reader.pragma('cache_size = -4096');
    const store = new LogStore(options, worker, reader, cleanStart);
    store.#start();
    await store.#migrate();
    return store;
  }

  /**
   * Stores written before replication existed have no high-watermark checkpoint: the column comes
   * with -1 (never checkpointed), which opens at the log end, as a single replica's log is all
   * committed.
   */
  async #migrate(): Promise<void> {
    const steps = addMissingColumnSteps(this.reader, 'eddy_partitions', [['high_watermark', 'INTEGER NOT NULL DEFAULT -1']]);
    if (steps.length > 0) await this.submit(steps, { sync: true });
  }

  #start(): void {
    this.#worker.on('message', (reply: WorkerReply) => this.#onReply(reply));
    this.#worker.on('error', (err) => this.#fail(storageError({ message: err.message }, 'the writer thread')));
    this.#worker.on('exit', (code) => {
      if (!this.#closed) this.#fail(storageError({ message: `exited with code ${code}` }, 'the writer thread'));
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
    const points = [...this.#partitions.values()].map((p) => p.checkpointStep()).filter((s) => s !== null);
    if (points.length + extra.length === 0) return;
    await this.submit([...points.map((p) => p.step), ...extra], {
      sync: true,
      onCommit: () => points.forEach((p) => p.committed()),
    });
  }

  /**
   * Posts a transaction to the writer. Transactions that reach the writer while it commits form
   * its next group: one SQLite transaction, one sync. Resolves once committed (and synced if
   * `sync` or the policy is `always`); rejects with KAFKA_STORAGE_ERROR if it was not applied.
   */
  submit(steps: TxStep[], opts: SubmitOptions = {}): Promise<TxResult> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) {
      return Promise.reject(new EddyError('KAFKA_STORAGE_ERROR', `the log store at ${this.path} is closed`));
    }
    let bytes = 0;
    for (const s of steps) for (const a of s.args) if (a instanceof Uint8Array) bytes += a.length;
    // One transferable buffer per transaction: blobs are copied once into it and the writer
    // reads them as views. The copy also frees callers to reuse their buffers at once.
    const buffer = bytes > 0 ? new ArrayBuffer(bytes) : null;
    const arena = buffer ? new Uint8Array(buffer) : null;
    let at = 0;
    const wireSteps = steps.map((s) => ({
      sql: s.sql,
      exec: s.exec ?? false,
      args: s.args.map((a) => {
        if (!(a instanceof Uint8Array)) return a;
        arena!.set(a, at);
        const ref = { blob: [at, a.length] };
        at += a.length;
        return ref;
      }),
    }));
    const id = this.#nextTxId++;
    return new Promise<TxResult>((resolve, reject) => {
      this.#pending.set(id, { opts, resolve, reject });
      this.#worker.postMessage({ type: 'tx', id, sync: opts.sync ?? false, steps: wireSteps, buffer }, buffer ? [buffer] : []);
    });
  }

  /** Resolves once everything submitted before it has committed. */
  async flush(): Promise<void> {
    await this.submit([]);
  }

  /**
   * Why the store refuses every write until the node restarts (its writer thread died or failed),
   * or null while it works. A failed single write does not set it: the writer goes on after one.
   */
  get failure(): EddyError | null {
    return this.#failure;
  }

  /** Transactions posted to the writer and not yet settled. */
  get pendingTransactions(): number {
    return this.#pending.size;
  }

  #onReply(reply: WorkerReply): void {
    if (reply.type === 'closed') {
      this.#closeWaiter?.(reply);
      return;
    }
    if (reply.type === 'checkpoint') {
      const waiter = this.#checkpoints.get(reply.id!);
      this.#checkpoints.delete(reply.id!);
      if (reply.ok) waiter?.resolve(reply.complete === true);
      else waiter?.reject(storageError(reply.error ?? { message: 'failed' }, 'a WAL checkpoint'));
      return;
    }
    if (reply.committed) {
      this.stats.groupCommits++;
      this.stats.transactions += reply.outcomes!.filter((o) => o.ok).length;
      if (reply.synced) this.stats.syncedGroups++;
      this.#dirty = !reply.synced;
    }
    const settle: (() => void)[] = [];
    let failedAt: number | null = null;
    let cause: { message: string; code?: string } | undefined;
    for (const o of reply.outcomes!) {
      const tx = this.#pending.get(o.id);
      if (!tx) continue; // already failed with an earlier episode
      if (o.ok) {
        const result = { results: o.results, synced: reply.synced === true };
        this.#pending.delete(o.id);
        tx.opts.onCommit?.(result);
        settle.push(() => tx.resolve(result));
      } else {
        failedAt = o.id;
        cause = o.error;
        break;
      }
    }
    if (failedAt !== null) {
      // Everything posted from the failed transaction on was sequenced assuming it would
      // succeed: fail it all now, rewind (onFail) before any new append is sequenced, and only
      // then let the writer accept transactions again.
      const first = storageError(cause ?? { message: 'not applied' }, 'a log write');
      const behind = new EddyError('KAFKA_STORAGE_ERROR', `not written: an earlier write failed (${first.detail})`);
      this.logger.error(
        { path: this.path, error: cause, refused: this.#pending.size },
        'a write to the log store failed; it and every write queued behind it were refused, nothing of them is stored',
      );
      for (const [id, tx] of this.#pending) {
        if (id < failedAt) continue;
        this.#pending.delete(id);
        tx.opts.onFail?.();
        const err = id === failedAt ? first : behind;
        settle.push(() => tx.reject(err));
      }
      this.#worker.postMessage({ type: 'resume', episode: reply.episode });
    }
    for (const s of settle) s();
  }

  #fail(err: EddyError): void {
    if (this.#failure) return;
    this.#failure = err;
    this.logger.error({ path: this.path, err: err.message }, 'log store writer failed; the store refuses writes until restarted');
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const c of this.#checkpoints.values()) c.reject(err);
    this.#checkpoints.clear();
    for (const tx of all) {
      tx.opts.onFail?.();
      tx.reject(err);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Partitions
  // -------------------------------------------------------------------------------------------

  /** Opens a partition's log, creating it if missing; recovery runs on first open. */
  partition(topic: string, partition: number, config: Partial<PartitionConfig> = {}): Promise<PartitionLog> {
    const key = tpKey(topic, partition);
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
      .prepare('SELECT id, topic, partition, log_start_offset, recovery_point, high_watermark FROM eddy_partitions WHERE topic = ? AND partition = ?')
      .get(topic, partition) as PartitionIdentity | undefined;
    if (!row) {
      const id = this.#nextPartitionId++;
      await this.submit(
        [
          { sql: 'INSERT INTO eddy_partitions (id, topic, partition) VALUES (?, ?, ?)', args: [id, topic, partition] },
          ...createTableSteps(id),
        ],
        { sync: true },
      );
      row = { id, topic, partition, log_start_offset: 0, recovery_point: 0, high_watermark: 0 };
    }
    const log = await PartitionLog.open(this, row, config);
    this.#partitions.set(tpKey(topic, partition), log);
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
    this.#partitions.delete(tpKey(topic, partition));
    log.markDropped();
    await this.submit(
      dropTableSteps(log.id),
      { sync: true },
    );
  }

  /**
   * Returns the free pages to the file system (auto_vacuum = INCREMENTAL), 2048 pages (8 MiB) per
   * transaction so that appends interleave with a big release; stops early when `stop()` says so
   * or when the free list stops shrinking (pages freed meanwhile: the next call takes them).
   * Resolves to the number of pages released. The file shrinks at the next checkpoint.
   */
  async releaseFreePages(stop: () => boolean = () => false): Promise<number> {
    let released = 0;
    for (let left = this.pageCounts().free; left > 0 && !stop(); ) {
      await this.submit([{ sql: `PRAGMA incremental_vacuum(${Math.min(left, RELEASE_CHUNK_PAGES)})`, args: [], exec: true }]);
      const now = this.pageCounts().free;
      if (now >= left) break;
      released += left - now;
      left = now;
    }
    return released;
  }

  /**
   * Pages of the database as committed (the file reaches this size at the next checkpoint),
   * those on its free list (reused before it grows; releaseFreePages returns them), and the page size.
   */
  pageCounts(): { total: number; free: number; pageSize: number } {
    return {
      total: this.reader.pragma('page_count', { simple: true }) as number,
      free: this.reader.pragma('freelist_count', { simple: true }) as number,
      pageSize: this.reader.pragma('page_size', { simple: true }) as number,
    };
  }

  /**
   * Checkpoints the WAL into the file and truncates both (wal_checkpoint(TRUNCATE)), on the writer
   * thread between groups. In WAL mode the file shrinks only at a checkpoint, so after
   * releaseFreePages this is what returns the space to the disk. Resolves false if a reader kept
   * it from completing (the next checkpoint finishes the job).
   */
  checkpoint(): Promise<boolean> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new EddyError('KAFKA_STORAGE_ERROR', `the log store at ${this.path} is closed`));
    const id = this.#nextCheckpointId++;
    return new Promise<boolean>((resolve, reject) => {
      this.#checkpoints.set(id, { resolve, reject });
      this.#worker.postMessage({ type: 'checkpoint', id });
    });
  }

  /**
   * Waits for pending writes, persists recovery points and the clean-shutdown mark, and closes
   * both connections. A store that is not closed (crash) verifies its unsynced tail on next open.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    for (const t of this.#timers) clearInterval(t);
    if (!this.#failure) {
      await this.flush().catch(() => {});
      await this.#persistRecoveryPoints([
        { sql: "INSERT OR REPLACE INTO eddy_meta (key, value) VALUES ('clean_shutdown', '1')", args: [] },
      ]).catch((err: Error) => this.logger.warn({ err: err.message }, 'could not mark a clean shutdown; the next start will verify the log tail'));
    }
    this.#closed = true;
    for (const p of this.#partitions.values()) p.markDropped();
    this.#partitions.clear();
    if (!this.#failure) {
      const closed = new Promise<WorkerReply>((resolve) => (this.#closeWaiter = resolve));
      this.#worker.postMessage({ type: 'close' });
      await closed;
    }
    await this.#worker.terminate();
    this.reader.close();
  }
}

const SYNC_MARK_SQL = "INSERT OR REPLACE INTO eddy_meta (key, value) VALUES ('last_sync', ?)";
