/**
 * What a partition log needs of the store that holds it: the read connection, the writer's
 * transactions, and where to log. LogStore implements it; PartitionLog depends only on this, so
 * the store can open partitions without the two modules importing each other.
 */
import type Database from 'better-sqlite3';
import type { Logger } from '../logger.js';

export type SqlArg = number | string | null | Uint8Array;

/** One SQL statement for the writer; Uint8Array arguments travel as blobs. */
export interface TxStep {
  sql: string;
  args: SqlArg[];
  /** Run with exec (to completion, no arguments) rather than as a prepared statement. */
  exec?: boolean;
}

export interface TxResult {
  /** Per step: the number of changed rows, or the rows (arrays) of a SELECT/RETURNING. */
  results: unknown[];
  /** True when the group this transaction committed in was fsynced before it resolved. */
  synced: boolean;
}

export interface SubmitOptions {
  /** Force an fsync for this transaction's group (the policy `always` syncs every group). */
  sync?: boolean;
  /**
   * Called synchronously when the transaction has committed, before any promise settles and
   * before any failure of a later transaction is handled: sequencers update here so that a
   * rewind after a later failure starts from the right place.
   */
  onCommit?: (result: TxResult) => void;
  /** Called synchronously when the transaction is known not to be written. */
  onFail?: () => void;
}

export interface PartitionStore {
  /** Read connection on the calling thread; partitions prepare their read statements here. */
  readonly reader: Database.Database;
  readonly logger: Logger;
  /** False when the previous process did not close the store cleanly (crash, kill -9). */
  readonly cleanStart: boolean;
  /** Posts a transaction to the writer (group commit); resolves once committed. */
  submit(steps: TxStep[], opts?: SubmitOptions): Promise<TxResult>;
  /** Resolves once everything submitted before it has committed. */
  flush(): Promise<void>;
}
