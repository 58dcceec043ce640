/**
 * Producer ids for idempotent producers (InitProducerId), unique for the life of the data dir.
 * Ids are reserved in blocks: the end of the block is persisted (synced) before any id of it is
 * handed out, so a restart — clean or kill -9 — never reuses one; unused ids of a block are
 * skipped.
 */
import type { LogStore } from './log-store.js';

export const PRODUCER_ID_BLOCK = 1000;
const MAX_EPOCH = 32767;

export class ProducerIdManager {
  readonly #store: LogStore;
  #next: number;
  #blockEnd: number;
  #reserving: Promise<void> | null = null;

  private constructor(store: LogStore, next: number) {
    this.#store = store;
    this.#next = next;
    this.#blockEnd = next;
  }

  static async open(store: LogStore): Promise<ProducerIdManager> {
    await store.submit(
      [
        { sql: 'CREATE TABLE IF NOT EXISTS eddy_producer_ids (id INTEGER PRIMARY KEY CHECK (id = 0), next_id INTEGER NOT NULL)', args: [] },
        { sql: 'INSERT OR IGNORE INTO eddy_producer_ids (id, next_id) VALUES (0, 0)', args: [] },
      ],
      { sync: true },
    );
    const row = store.reader.prepare('SELECT next_id FROM eddy_producer_ids WHERE id = 0').get() as { next_id: number };
    return new ProducerIdManager(store, row.next_id);
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
    const end = this.#blockEnd + PRODUCER_ID_BLOCK;
    await this.#store.submit([{ sql: 'UPDATE eddy_producer_ids SET next_id = ? WHERE id = 0', args: [end] }], { sync: true });
    this.#blockEnd = end;
  }
}
