// @ts-check
/**
 * The writer thread of a LogStore: the only connection that writes to its SQLite file.
 *
 * Why a thread: with synchronous=FULL every commit waits for fsync, which takes milliseconds on
 * an SD card. Doing that on the main thread would stall every socket the node serves. Here the
 * main thread keeps validating and sequencing while this thread commits.
 *
 * Group commit: the main thread posts each transaction as soon as it is sequenced. Whenever this
 * thread is free it drains its whole inbox (receiveMessageOnPort) and commits everything found
 * there as one SQLite transaction with one sync. It never waits for the main thread to form a
 * group, so a main thread busy validating cannot leave the disk idle.
 *
 * Failures: each transaction runs in its own SAVEPOINT, so a failing one is rolled back alone
 * and those before it still commit. Offsets were assigned before commit, so nothing sequenced
 * after a failure may be written (it would sit above a hole): the thread turns "poisoned" and
 * refuses every transaction until the main thread, having rewound its sequencers, sends
 * `resume` for that failure episode. Messages are ordered, so everything refused was sequenced
 * before the main thread learnt of the failure.
 *
 * Plain JavaScript on purpose: worker threads cannot load TypeScript without a loader, and this
 * file is small and generic (it runs SQL it is given; all log logic stays in TypeScript).
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

if (!parentPort) throw new Error('writer-worker.js must run as a worker thread');
const port = parentPort;

/** @type {{ path: string, pageSize: number, syncAlways: boolean, maxPageCount?: number, nativeBinding?: string }} */
const config = workerData;

/** @type {import('better-sqlite3').Database} */
let db;
/** @type {Map<string, import('better-sqlite3').Statement>} */
const statements = new Map();
/** @type {'FULL' | 'NORMAL' | null} */
let syncMode = null;
let poisoned = false;
let episode = 0;

function prepare(/** @type {string} */ sql) {
  let stmt = statements.get(sql);
  if (!stmt) {
    stmt = db.prepare(sql);
    statements.set(sql, stmt);
  }
  return stmt;
}

function setSync(/** @type {boolean} */ full) {
  const want = full ? 'FULL' : 'NORMAL';
  if (syncMode !== want) {
    db.pragma(`synchronous = ${want}`);
    syncMode = want;
  }
}

/**
 * Opens a native addon by path. Not require(): in the packaged executable this script runs as an
 * eval'd worker whose require() only knows Node's built-ins.
 */
function loadAddon(/** @type {string} */ path) {
  const module = { exports: {} };
  process.dlopen(module, path);
  return /** @type {any} */ (module.exports);
}

function describe(/** @type {any} */ err) {
  return { message: String(err && err.message), code: err && typeof err.code === 'string' ? err.code : undefined };
}

function open() {
  // better-sqlite3 takes a loaded addon object as nativeBinding (its typings only admit a path).
  /** @type {any} */
  const options = config.nativeBinding ? { nativeBinding: loadAddon(config.nativeBinding) } : {};
  db = new Database(config.path, options);
  // page_size and auto_vacuum only take effect before the first table exists.
  db.pragma(`page_size = ${config.pageSize}`);
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  // Bound the WAL file after checkpoints so that a burst does not leave a huge file behind.
  db.pragma('journal_size_limit = 67108864');
  // A small page cache: this connection appends, touching the last leaf and interior pages of
  // each partition and writing overflow pages once; better-sqlite3's build default (16 MB per
  // connection) only held pages it would never read again, as resident memory.
  db.pragma('cache_size = -2048');
  // A hard cap on the file: past it SQLite fails the write with SQLITE_FULL, as a full disk does.
  if (config.maxPageCount) db.pragma(`max_page_count = ${config.maxPageCount}`);
  setSync(true);
}

/**
 * @typedef {{ type: 'tx', id: number, sync: boolean, steps: { sql: string, args: any[], exec?: boolean }[], buffer: ArrayBuffer | null }} TxMessage
 */

/** @param {TxMessage} tx */
function runTx(tx) {
  const blob = tx.buffer ? Buffer.from(tx.buffer) : null;
  /** @type {unknown[]} */
  const results = [];
  for (const step of tx.steps) {
    if (step.exec) {
      // Run to completion: some statements (PRAGMA incremental_vacuum) do one unit of work per step.
      db.exec(step.sql);
      results.push(0);
      continue;
    }
    const args = step.args.map((a) =>
      a !== null && typeof a === 'object' && Array.isArray(a.blob) && blob
        ? blob.subarray(a.blob[0], a.blob[0] + a.blob[1])
        : a,
    );
    const stmt = prepare(step.sql);
    results.push(stmt.reader ? stmt.raw(true).all(...args) : stmt.run(...args).changes);
  }
  return results;
}

/**
 * Frees a transaction's blob buffer at once; its statements have run, so SQLite holds its own
 * copy of the bytes. Left to this isolate's garbage collector, which runs seldom because this
 * thread allocates little JavaScript, the buffers of thousands of transactions (allocated by
 * the main thread, in its malloc arena) stayed resident: about 13 MB of the node's [heap] under
 * `npm run bench -- edge`. Detaching (ArrayBuffer.prototype.transfer, Node 21+) releases the
 * backing store now; on older runtimes this is a no-op and the collector frees it as before.
 */
function release(/** @type {ArrayBuffer | null} */ buffer) {
  const b = /** @type {any} */ (buffer);
  if (b && typeof b.transfer === 'function') b.transfer(0);
}

/** Commits `txs` as one group (see commitTxs), then frees their blob buffers, whatever happened. */
function commitGroup(/** @type {TxMessage[]} */ txs) {
  try {
    commitTxs(txs);
  } finally {
    for (const tx of txs) release(tx.buffer);
  }
}

/** Commits `txs` as one transaction and replies with one outcome per transaction, in order. */
function commitTxs(/** @type {TxMessage[]} */ txs) {
  if (poisoned) {
    const outcomes = txs.map((tx) => ({ id: tx.id, ok: false, skipped: true }));
    port.postMessage({ type: 'group', ok: false, committed: false, episode, outcomes });
    return;
  }
  const sync = config.syncAlways || txs.some((tx) => tx.sync);
  /** @type {any[]} */
  const outcomes = [];
  let failed = false;
  try {
    setSync(sync);
    db.exec('BEGIN IMMEDIATE');
    for (const tx of txs) {
      if (failed) {
        outcomes.push({ id: tx.id, ok: false, skipped: true });
        continue;
      }
      db.exec('SAVEPOINT tx');
      try {
        outcomes.push({ id: tx.id, ok: true, results: runTx(tx) });
        db.exec('RELEASE tx');
      } catch (err) {
        // On SQLITE_FULL or an I/O error SQLite may have rolled back the whole transaction;
        // then the group is lost and the original error is what the caller must see.
        if (!db.inTransaction) throw err;
        db.exec('ROLLBACK TO tx');
        db.exec('RELEASE tx');
        outcomes.push({ id: tx.id, ok: false, error: describe(err) });
        failed = true;
      }
    }
    db.exec('COMMIT');
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    poisoned = true;
    episode++;
    const error = describe(err);
    port.postMessage({ type: 'group', ok: false, committed: false, episode, outcomes: txs.map((tx) => ({ id: tx.id, ok: false, error })) });
    return;
  }
  if (failed) {
    poisoned = true;
    episode++;
  }
  port.postMessage({ type: 'group', ok: !failed, committed: true, synced: sync, episode, outcomes });
}

/** Handles everything in the inbox: transactions in runs, control messages in their place. */
function drain(/** @type {any} */ first) {
  const items = [first];
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) items.push(m.message);
  /** @type {TxMessage[]} */
  let run = [];
  for (const item of items) {
    if (item.type === 'tx') {
      run.push(item);
      continue;
    }
    if (run.length > 0) commitGroup(run);
    run = [];
    if (item.type === 'resume') {
      if (item.episode === episode) poisoned = false;
    } else if (item.type === 'checkpoint') {
      // Outside any transaction (SQLite refuses a checkpoint inside one). TRUNCATE copies the
      // WAL into the file, truncates the file to the database size (so pages freed by
      // incremental_vacuum leave the disk now) and empties the WAL.
      try {
        const row = /** @type {{ busy: number }[]} */ (db.pragma('wal_checkpoint(TRUNCATE)'))[0];
        port.postMessage({ type: 'checkpoint', id: item.id, ok: true, complete: row !== undefined && row.busy === 0 });
      } catch (err) {
        port.postMessage({ type: 'checkpoint', id: item.id, ok: false, error: describe(err) });
      }
    } else if (item.type === 'close') {
      try {
        db.close();
        port.postMessage({ type: 'closed', ok: true });
      } catch (err) {
        port.postMessage({ type: 'closed', ok: false, error: describe(err) });
      }
      port.close();
      return;
    }
  }
  if (run.length > 0) commitGroup(run);
}

port.on('message', drain);

try {
  open();
  port.postMessage({ type: 'ready', ok: true });
} catch (err) {
  port.postMessage({ type: 'ready', ok: false, error: describe(err) });
}
