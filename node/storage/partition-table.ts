/**
 * The SQLite table of one partition, `log_<id>`: its layout, migrations from earlier versions,
 * the prepared read statements and the SQL of every write the partition log makes. The partition
 * log keeps the offsets and positions; this file knows the rows.
 */
import type Database from 'better-sqlite3';
import type { EpochEntry } from './leader-epoch-cache.js';
import type { StoredBatchRow } from './recovery.js';
import type { PartitionStore, TxStep } from './store-types.js';

/** A stored batch without its bytes. */
export type Row = [baseOffset: number, lastOffset: number, runningMaxTs: number, position: number, length: number];

export function tableName(id: number): string {
  if (!Number.isSafeInteger(id) || id < 1) throw new RangeError(`bad partition table id ${id}`);
  return `log_${id}`;
}

/**
 * One row per batch. base_offset is the rowid, so a batch is one B-tree entry (its blob in
 * overflow pages) and reads by offset are rowid range scans. Small columns come before the
 * blob so that queries on them never touch the blob's pages. No secondary index: lookups by
 * time search the rowid B-tree (offset-search.ts), so an append rewrites one B-tree's pages.
 */
export function createTableSteps(id: number): TxStep[] {
  return [
    {
      sql: `CREATE TABLE IF NOT EXISTS ${tableName(id)} (
        base_offset INTEGER PRIMARY KEY,
        last_offset INTEGER NOT NULL,
        max_timestamp INTEGER NOT NULL,
        running_max_timestamp INTEGER NOT NULL,
        leader_epoch INTEGER NOT NULL,
        position INTEGER NOT NULL,
        producer_id INTEGER NOT NULL DEFAULT -1,
        producer_epoch INTEGER NOT NULL DEFAULT -1,
        base_sequence INTEGER NOT NULL DEFAULT -1,
        batch BLOB NOT NULL)`,
      args: [],
    },
  ];
}

export function dropTableSteps(id: number): TxStep[] {
  return [
    { sql: `DROP TABLE IF EXISTS ${tableName(id)}`, args: [] },
    { sql: 'DELETE FROM eddy_leader_epochs WHERE partition_id = ?', args: [id] },
    { sql: 'DELETE FROM eddy_partitions WHERE id = ?', args: [id] },
  ];
}

/**
 * ALTER TABLE steps adding the columns (`name DECLARATION`) that `table` lacks; none when the
 * table does not exist. Columns added this way go after the existing ones.
 */
export function addMissingColumnSteps(reader: Database.Database, table: string, columns: readonly [name: string, declaration: string][]): TxStep[] {
  const have = new Set((reader.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
  if (have.size === 0) return [];
  return columns.filter(([name]) => !have.has(name)).map(([name, declaration]) => ({ sql: `ALTER TABLE ${table} ADD COLUMN ${name} ${declaration}`, args: [] }));
}

/**
 * Brings tables made by earlier versions to the current layout, once: tables created before
 * idempotent producers get the producer columns; tables created with the running-max-timestamp
 * index lose it (time lookups no longer use it, and it cost a page write per append).
 */
export async function migrateTable(store: PartitionStore, id: number): Promise<void> {
  const t = tableName(id);
  const steps = addMissingColumnSteps(
    store.reader,
    t,
    ['producer_id', 'producer_epoch', 'base_sequence'].map((c) => [c, 'INTEGER NOT NULL DEFAULT -1'] as [string, string]),
  );
  const timeIndex = store.reader.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?`).get(`${t}_time`);
  if (timeIndex) steps.push({ sql: `DROP INDEX IF EXISTS ${t}_time`, args: [] });
  if (steps.length > 0) await store.submit(steps, { sync: true });
}

/** The read statements of one partition's table (on the store's reader) and its write SQL. */
export class PartitionTable {
  readonly name: string;
  readonly #reader: Database.Database;
  readonly #range: Database.Statement;
  readonly #floor: Database.Statement;
  readonly #first: Database.Statement;
  #count: Database.Statement | undefined;
  readonly insertSql: string;

  constructor(reader: Database.Database, id: number) {
    const t = (this.name = tableName(id));
    this.#reader = reader;
    this.#range = reader
      .prepare(
        `SELECT base_offset, last_offset, batch FROM ${t}
         WHERE base_offset >= coalesce((SELECT max(base_offset) FROM ${t} WHERE base_offset <= @from), @from)
           AND base_offset < @limit
         ORDER BY base_offset`,
      )
      .raw(true);
    this.#floor = reader
      .prepare(`SELECT base_offset, last_offset, running_max_timestamp, position, length(batch) FROM ${t} WHERE base_offset <= ? ORDER BY base_offset DESC LIMIT 1`)
      .raw(true);
    this.#first = reader.prepare(`SELECT base_offset, last_offset, running_max_timestamp, position, length(batch) FROM ${t} ORDER BY base_offset LIMIT 1`).raw(true);
    this.insertSql = `INSERT INTO ${t} (base_offset, last_offset, max_timestamp, running_max_timestamp, leader_epoch, position, producer_id, producer_epoch, base_sequence, batch)
                      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  }

  /** The stored batch with the largest base offset ≤ `offset`. */
  floor(offset: number): Row | undefined {
    return this.#floor.get(offset) as Row | undefined;
  }

  first(): Row | undefined {
    return this.#first.get() as Row | undefined;
  }

  last(): Row | undefined {
    return this.floor(Number.MAX_SAFE_INTEGER);
  }

  /** Whole batches from the one holding `from` (or the next after it) up to base offset `limit`. */
  range(from: number, limit: number): IterableIterator<[baseOffset: number, lastOffset: number, batch: Uint8Array]> {
    return this.#range.iterate({ from, limit }) as IterableIterator<[number, number, Uint8Array]>;
  }

  /** Stored batches with base offset in [from, to). */
  count(from: number, to: number): number {
    this.#count ??= this.#reader.prepare(`SELECT count(*) FROM ${this.name} WHERE base_offset >= ? AND base_offset < ?`).pluck();
    return this.#count.get(from, to) as number;
  }

  /**
   * Where a cut at `offset` falls when batches go whole: the base offset of the stored batch
   * holding `offset`, or `offset` itself when none does.
   */
  batchStartOf(offset: number): number {
    const holding = this.floor(offset);
    return holding && holding[1] >= offset ? holding[0] : offset;
  }

  /** Every row from base offset `from` on, with its bytes (recovery's tail check). */
  *rowsFrom(from: number): Generator<StoredBatchRow> {
    const rows = this.#reader
      .prepare(`SELECT base_offset, last_offset, position, batch FROM ${this.name} WHERE base_offset >= ? ORDER BY base_offset`)
      .raw(true)
      .iterate(from) as IterableIterator<[number, number, number, Uint8Array]>;
    for (const [baseOffset, lastOffset, position, batch] of rows) yield { baseOffset, lastOffset, position, batch };
  }

  /** Idempotent producers' batches from `from` on, without their bytes (producer state rebuild). */
  producerRows(from: number): IterableIterator<[baseOffset: number, lastOffset: number, producerId: number, epoch: number, baseSequence: number, maxTs: number]> {
    return this.#reader
      .prepare(
        `SELECT base_offset, last_offset, producer_id, producer_epoch, base_sequence, max_timestamp FROM ${this.name}
         WHERE base_offset >= ? AND producer_id >= 0 ORDER BY base_offset`,
      )
      .raw(true)
      .iterate(from) as IterableIterator<[number, number, number, number, number, number]>;
  }

  /** The leader epochs as the stored batches carry them: where each epoch first appears. */
  epochsFromBatches(): EpochEntry[] {
    const out: EpochEntry[] = [];
    const rows = this.#reader.prepare(`SELECT base_offset, leader_epoch FROM ${this.name} ORDER BY base_offset`).raw(true).iterate() as IterableIterator<[number, number]>;
    for (const [baseOffset, epoch] of rows) if (epoch > (out.at(-1)?.epoch ?? -1)) out.push({ epoch, startOffset: baseOffset });
    return out;
  }

  deleteFromStep(cut: number): TxStep {
    return { sql: `DELETE FROM ${this.name} WHERE base_offset >= ?`, args: [cut] };
  }

  deleteBelowStep(cut: number): TxStep {
    return { sql: `DELETE FROM ${this.name} WHERE base_offset < ?`, args: [cut] };
  }

  /** A step whose result is the byte position of the first stored batch (none: no rows). */
  firstPositionStep(): TxStep {
    return { sql: `SELECT position FROM ${this.name} ORDER BY base_offset LIMIT 1`, args: [] };
  }
}
