/**
 * One PeerLink to each other voter of the cluster (a voter's or an observer's), started together
 * and closed together; the Raft driver will send through `get(nodeId)`. Each link's status is kept for `cluster describe`.
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

  constructor(opts: PeerLinksOptions) {
    const { voters, ...common } = opts;
    for (const v of voters) {
      if (v.id === opts.nodeId) continue;
      this.#links.set(v.id, new PeerLink({ ...common, voters, peerNodeId: v.id, url: v.url }));
    }
  }

  start(): void {
    for (const l of this.#links.values()) l.start();
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
    for (const l of this.#links.values()) l.close();
  }
}
