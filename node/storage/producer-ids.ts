/**
 * Producer ids for idempotent producers (InitProducerId), unique across the cluster.
 *
 * Ids come in blocks. In a running node the active controller hands them out (`allocate`:
 * AllocateProducerIds, KIP-730), each block committed to the metadata log before it is given,
 * so no two nodes, and no restart, ever get the same one. Without `allocate` (the storage layer
 * alone, in tests) the block's end is persisted here (synced) before any id of it is handed out.
 * Unused ids of a block are skipped. Ids below the local table's mark (a data dir of the
 * single-node version handed those out) are never given again.
 */
import type { LogStore } from './log-store.js';

export const PRODUCER_ID_BLOCK = 1000;
const MAX_EPOCH = 32767;

/** A block of ids: firstProducerId to firstProducerId + size - 1. */
export type ProducerIdAllocator = () => Promise<{ firstProducerId: number; size: number }>;

export class ProducerIdManager {
  readonly #store: LogStore;
  readonly #allocate: ProducerIdAllocator | null;
  /** Ids below it were handed out by this data dir's local blocks. */
  readonly #floor: number;
  #next: number;
  #blockEnd: number;
  #reserving: Promise<void> | null = null;

  private constructor(store: LogStore, next: number, allocate: ProducerIdAllocator | null) {
    this.#store = store;
    this.#next = next;
    this.#blockEnd = next;
    this.#floor = next;
    this.#allocate = allocate;
  }

  /** The highest id the local table has handed out, plus one (for the controller's import). */
  get localFloor(): number {
    return this.#floor;
  }

  static async open(store: LogStore, opts: { allocate?: ProducerIdAllocator } = {}): Promise<ProducerIdManager> {
    await store.submit(
      [
        { sql: 'CREATE TABLE IF NOT EXISTS eddy_producer_ids (id INTEGER PRIMARY KEY CHECK (id = 0), next_id INTEGER NOT NULL)', args: [] },
        { sql: 'INSERT OR IGNORE INTO eddy_producer_ids (id, next_id) VALUES (0, 0)', args: [] },
      ],
      { sync: true },
    );
    const row = store.reader.prepare('SELECT next_id FROM eddy_producer_ids WHERE id = 0').get() as { next_id: number };
    return new ProducerIdManager(store, row.next_id, opts.allocate ?? null);
  }

  /** A new producer id with epoch 0. */
  async newProducer(): Promise<{ producerId: number; producerEpoch: number }> {
    while (this.#next >= this.#blockEnd) {
      this.#reserving ??= this.#reserveBlock().finally(() => (this.#reserving = null));
      await this.#reserving;
    }
    return { producerId: this.#next++, producerEpoch: 0 };
  }

  /**
   * The next epoch of an existing producer (a producer re-initialising after an error, KIP-360):
   * partitions then fence the old epoch. Past the largest epoch it gets a new id instead.
   */
  async bumpEpoch(producerId: number, producerEpoch: number): Promise<{ producerId: number; producerEpoch: number }> {
    if (producerEpoch >= MAX_EPOCH) return this.newProducer();
    return { producerId, producerEpoch: producerEpoch + 1 };
  }

  async #reserveBlock(): Promise<void> {
    if (this.#allocate) {
      const block = await this.#allocate();
      const end = block.firstProducerId + block.size;
      if (end <= this.#floor) return; // all below the local mark: ask again
      this.#next = Math.max(block.firstProducerId, this.#floor);
      this.#blockEnd = end;
      return;
    }
    const end = this.#blockEnd + PRODUCER_ID_BLOCK;
    await this.#store.submit([{ sql: 'UPDATE eddy_producer_ids SET next_id = ? WHERE id = 0', args: [end] }], { sync: true });
    this.#blockEnd = end;
  }
}
