/**
 * What the client knows of the cluster, from its last Metadata answers: the brokers (node id →
 * URL), each known topic's partition leaders, and how old that knowledge is. Pure: answers are
 * fed in with the time they arrived, nothing here does I/O.
 */
import type { MetadataResponse } from '../../protocol/apis/metadata.js';
import { brokerUrl } from './bootstrap.js';

/** Kafka's "no leader": an election is under way or the leader's node is down. */
export const NO_LEADER = -1;

export interface PartitionLeader {
  leader: number;
  leaderEpoch: number;
}

export class ClusterMetadata {
  readonly #brokers = new Map<number, string>();
  readonly #topics = new Map<string, PartitionLeader[]>();
  #updatedAt = -Infinity;
  #controllerId = -1;

  /** Takes in a Metadata answer that came through bootstrap/broker URL `via` at time `now`. */
  update(res: MetadataResponse, via: string, now: number): void {
    if (res.brokers.length > 0) {
      this.#brokers.clear();
      for (const b of res.brokers) this.#brokers.set(b.nodeId, brokerUrl(b.host, b.port, via));
    }
    this.#controllerId = res.controllerId;
    for (const t of res.topics) {
      if (t.errorCode !== 0) {
        this.#topics.delete(t.name);
        continue;
      }
      const leaders: PartitionLeader[] = [];
      for (const p of t.partitions) leaders[p.partition] = { leader: p.errorCode === 0 || p.leader >= 0 ? p.leader : NO_LEADER, leaderEpoch: p.leaderEpoch };
      this.#topics.set(t.name, leaders);
    }
    this.#updatedAt = now;
  }

  /** node id → URL of every broker of the last answer. */
  get brokers(): ReadonlyMap<number, string> {
    return this.#brokers;
  }

  get controllerId(): number {
    return this.#controllerId;
  }

  /** When the last answer arrived (−Infinity before the first). */
  get updatedAt(): number {
    return this.#updatedAt;
  }

  /** The partition's leader as last heard, or undefined when the topic or partition is unknown. */
  leader(topic: string, partition: number): PartitionLeader | undefined {
    return this.#topics.get(topic)?.[partition];
  }

  /** The number of partitions of a topic in the last answer that listed it. */
  partitionCount(topic: string): number | undefined {
    return this.#topics.get(topic)?.length;
  }

  /** Topics whose leaders are known (so that a refresh asks for all of them again). */
  get topics(): string[] {
    return [...this.#topics.keys()];
  }

  /** Forgets a topic (it was deleted or recreated). */
  forget(topic: string): void {
    this.#topics.delete(topic);
  }
}
