/**
 * One PeerLink to each other voter of the cluster (a voter's or an observer's), started together
 * and closed together, plus links to observers once the metadata lists them (`ensure`); the Raft
 * driver and the node send through `get(nodeId)`. Each link's status is kept for `cluster describe`.
 */
import type { RefusalLog } from '../node/cluster/refusal-log.js';
import type { ClusterRole, Voter } from '../node/cluster/voters.js';
import type { Logger } from '../node/logger.js';
import { PeerLink, type PeerLinkOptions, type PeerLinkStatus } from './peer-link.js';

export interface PeerLinksOptions extends Pick<PeerLinkOptions, 'transport' | 'handshakeTimeoutMs' | 'initialBackoffMs' | 'maxBackoffMs' | 'random' | 'now'> {
  clusterId: string;
  nodeId: number;
  /** This node's role (an observer dials the voters too, KIP-595); default voter. */
  role?: ClusterRole;
  /** The voters to dial, which are also the voter list each link declares. */
  voters: readonly Voter[];
  peerPath: string;
  secret: Buffer;
  logger: Logger;
  refusals: RefusalLog;
}

export class PeerLinks {
  readonly #links = new Map<number, PeerLink>();
  readonly #opts: PeerLinksOptions;
  #started = false;
  #closed = false;

  constructor(opts: PeerLinksOptions) {
    this.#opts = opts;
    for (const v of opts.voters) if (v.id !== opts.nodeId) this.#add(v.id, v.url);
  }

  #add(nodeId: number, url: string): PeerLink {
    const { voters, ...common } = this.#opts;
    const link = new PeerLink({ ...common, voters, peerNodeId: nodeId, url });
    this.#links.set(nodeId, link);
    return link;
  }

  start(): void {
    this.#started = true;
    for (const l of this.#links.values()) l.start();
  }

  /**
   * A link to a node that is not a voter (an observer the metadata lists as a broker), so that
   * records for partitions it leads can be sent to it. Nothing if there is one already (or it is
   * this node, or the links are closed).
   */
  ensure(nodeId: number, url: string): void {
    if (this.#closed || nodeId === this.#opts.nodeId || this.#links.has(nodeId)) return;
    const link = this.#add(nodeId, url);
    if (this.#started) link.start();
  }

  /** The link to voter `nodeId`, or undefined if it is not another voter. */
  get(nodeId: number): PeerLink | undefined {
    return this.#links.get(nodeId);
  }

  /** Every link's state, by node id. */
  status(): PeerLinkStatus[] {
    return [...this.#links.values()].map((l) => l.status());
  }

  close(): void {
    this.#closed = true;
    for (const l of this.#links.values()) l.close();
  }
}
