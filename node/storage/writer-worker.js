// @ts-check
/**
 * The writer thread of a LogStore: the only connection that writes to its SQLite file.
 *
 * Why a thread: with synchronous=FULL every commit waits for fsync, which takes milliseconds on
 * an SD card. Doing that on the main thread would stall every socket the node serves. Here the
 * main thread keeps validating and sequencing while this thread commits.
 *
 * Group commit: the main thread sends everything that queued up while the previous group was
 * committing as one message; it becomes one transaction and one sync. Each caller's work runs in
 * its own SAVEPOINT, so a failing write is rolled back alone and the writes before it still
 * commit; a failing COMMIT (disk full, I/O error) fails the whole group and writes nothing.
 *
 * Plain JavaScript on purpose: worker threads cannot load TypeScript without a loader, and this
 * file is small and generic (it runs SQL it is given; all log logic stays in TypeScript).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

if (!parentPort) throw new Error('writer-worker.js must run as a worker thread');
const port = parentPort;

/** @type {{ path: string, pageSize: number, maxPageCount?: number, nativeBinding?: string }} */
const config = workerData;

/** @type {import('better-sqlite3').Database} */
let db;
/** @type {Map<string, import('better-sqlite3').Statement>} */
const statements = new Map();
/** @type {'FULL' | 'NORMAL' | null} */
let syncMode = null;

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

function describe(/** @type {any} */ err) {
  return { message: String(err && err.message), code: err && typeof err.code === 'string' ? err.code : undefined };
}

function open() {
  const options = config.nativeBinding ? { nativeBinding: config.nativeBinding } : {};
  db = new Database(config.path, options);
  // page_size and auto_vacuum only take effect before the first table exists.
  db.pragma(`page_size = ${config.pageSize}`);
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  // Bound the WAL file after checkpoints so that a burst does not leave a huge file behind.
  db.pragma('journal_size_limit = 67108864');
  // A hard cap on the file: past it SQLite fails the write with SQLITE_FULL, as a full disk does.
  if (config.maxPageCount) db.pragma(`max_page_count = ${config.maxPageCount}`);
  setSync(true);
}

/**
 * @param {{ steps: { sql: string, args: any[] }[] }} tx
 * @param {Buffer | null} blob
 */
function runTx(tx, blob) {
  /** @type {unknown[]} */
  const results = [];
  for (const step of tx.steps) {
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

/** @param {any} msg */
function onGroup(msg) {
  const blob = msg.buffer ? Buffer.from(msg.buffer) : null;
  /** @type {any[]} */
  const outcomes = [];
  try {
    setSync(msg.sync);
    db.exec('BEGIN IMMEDIATE');
    try {
      // Offsets are assigned before commit, so a write after a failed one would leave a hole:
      // the first failure ends the group; later transactions are reported as not applied.
      let failed = false;
      for (const tx of msg.txs) {
        if (failed) {
          outcomes.push({ ok: false, skipped: true, error: { message: 'not applied: an earlier write in the same group commit failed' } });
          continue;
        }
        db.exec('SAVEPOINT tx');
        try {
          outcomes.push({ ok: true, results: runTx(tx, blob) });
          db.exec('RELEASE tx');
        } catch (err) {
          // On SQLITE_FULL or an I/O error SQLite may have rolled back the whole transaction;
          // then the group is lost and the original error is what the caller must see.
          if (!db.inTransaction) throw err;
          db.exec('ROLLBACK TO tx');
          db.exec('RELEASE tx');
          outcomes.push({ ok: false, error: describe(err) });
          failed = true;
        }
      }
      db.exec('COMMIT');
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw err;
    }
    port.postMessage({ type: 'group', id: msg.id, ok: true, synced: msg.sync, outcomes });
  } catch (err) {
    port.postMessage({ type: 'group', id: msg.id, ok: false, error: describe(err) });
  }
}

port.on('message', (msg) => {
  if (msg.type === 'group') {
    onGroup(msg);
  } else if (msg.type === 'close') {
    try {
      db.close();
      port.postMessage({ type: 'closed', id: msg.id, ok: true });
    } catch (err) {
      port.postMessage({ type: 'closed', id: msg.id, ok: false, error: describe(err) });
    }
    port.close();
  }
});

try {
  open();
  port.postMessage({ type: 'ready', ok: true });
} catch (err) {
  port.postMessage({ type: 'ready', ok: false, error: describe(err) });
}
