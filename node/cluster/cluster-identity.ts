/**
 * The node's cluster identity: the cluster id, its own node id and the voters, created once in
 * the data directory (cluster.json) and checked at every start, so a data directory is never
 * served by another node, or in another cluster, than the one that wrote it.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { CLUSTER_FILE, readClusterFile, writeClusterFile, type ClusterFile } from './cluster-file.js';
export { checkPeerIdentity, type PeerIdentity, type PeerIdentityProblem, type PeerIdentityRefusal } from './peer-identity.js';
import { formatVoters, roleOf, sameVoters, type ClusterRole, type Voter } from './voters.js';

/** What a running node knows of its cluster (RunningNode.cluster). */
export interface ClusterInfo {
  clusterId: string;
  nodeId: number;
  voters: Voter[];
  role: ClusterRole;
  /** True when no voters were configured: a one-voter cluster of this node alone. */
  singleNode: boolean;
}

export interface ClusterSettings {
  nodeId: number;
  /** The configured voters, or null: this node alone, at its own URL. */
  voters: Voter[] | null;
  /** --cluster-id: a new data dir takes it, an existing one must hold it; null: not given. */
  clusterId?: string | null;
  /** The id a new data dir takes when clusterId is not given (derivedClusterId); null: a random one. */
  newClusterId?: string | null;
}

/**
 * The cluster id a new data dir of a several-voter cluster takes when --cluster-id is not given:
 * HMAC-SHA256(secret, "eddy cluster id" + the voter list), as 22 characters of base64url. Every
 * node started with the same secret and voters derives the same id, so three gateways form one
 * cluster with no extra step; another secret or voter list is another cluster, refused as such.
 */
export function derivedClusterId(secret: Buffer, voters: readonly Voter[]): string {
  return createHmac('sha256', secret).update(`eddy cluster id\n${formatVoters([...voters].sort((a, b) => a.id - b.id))}`).digest().subarray(0, 16).toString('base64url');
}

/** A new cluster id: 16 random bytes as 22 characters of base64url (Kafka's Uuid form). */
export function newClusterId(random: (n: number) => Buffer = randomBytes): string {
  return random(16).toString('base64url');
}

/** Why this data directory refuses the configured identity; null when it fits. */
export function identityMismatch(stored: ClusterFile, settings: ClusterSettings, where: string): string | null {
  if (settings.clusterId && stored.clusterId !== settings.clusterId) {
    return (
      `this data directory belongs to cluster ${stored.clusterId}, you started node ${settings.nodeId} with --cluster-id ${settings.clusterId}: ` +
      `start it with --cluster-id ${stored.clusterId}, or give it an empty data directory to join cluster ${settings.clusterId}. (${where})`
    );
  }
  if (stored.nodeId !== settings.nodeId) {
    return (
      `this data directory belongs to node ${stored.nodeId}, you started node ${settings.nodeId}: ` +
      `start it with --node-id ${stored.nodeId}, or give node ${settings.nodeId} a data directory of its own (--data-dir). ` +
      `(${where}, cluster ${stored.clusterId})`
    );
  }
  if (settings.voters === null) {
    // This node alone: its own URL follows the listener (port 0, a new --port), so only the ids count.
    const alone = stored.voters.length === 1 && stored.voters[0]!.id === settings.nodeId;
    if (alone) return null;
  } else if (sameVoters(stored.voters, settings.voters)) {
    return null;
  }
  const now = settings.voters === null ? `none (this node alone)` : formatVoters(settings.voters);
  return (
    `the controller quorum voters differ from the ones this data directory was created with: ` +
    `stored ${formatVoters(stored.voters)}, configured ${now}. ` +
    `Start with --controller-quorum-voters ${formatVoters(stored.voters)}; changing the voters of an existing cluster is not supported yet. ` +
    `(${where}, cluster ${stored.clusterId})`
  );
}

/** Raised when the data directory belongs to another node or voter set; the node does not start. */
export class ClusterIdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterIdentityError';
  }
}

/**
 * Checks cluster.json against the settings before anything else opens the data directory;
 * `finish(selfUrl)` then creates the file if there was none (a new directory, or one written by
 * a single-node version: its data is not touched) and returns the identity. Split in two
 * because the node's own URL is known only once its listener is up (port 0).
 */
export function openClusterIdentity(
  dataDir: string,
  settings: ClusterSettings,
  random: (n: number) => Buffer = randomBytes,
): { stored: ClusterFile | null; finish(selfUrl: string): ClusterInfo } {
  const stored = readClusterFile(dataDir);
  if (stored) {
    const why = identityMismatch(stored, settings, `${dataDir}/${CLUSTER_FILE}`);
    if (why) throw new ClusterIdentityError(why);
  }
  return {
    stored,
    finish(selfUrl) {
      const voters = settings.voters ?? [{ id: settings.nodeId, url: selfUrl }];
      let file: ClusterFile;
      if (stored === null) {
        file = { clusterId: settings.clusterId ?? settings.newClusterId ?? newClusterId(random), nodeId: settings.nodeId, voters };
        writeClusterFile(dataDir, file);
      } else {
        file = { ...stored, voters };
        // This node alone at a new URL: the file follows, so peers later read where it is.
        if (!sameVoters(stored.voters, voters)) writeClusterFile(dataDir, file);
      }
      return { clusterId: file.clusterId, nodeId: file.nodeId, voters: file.voters, role: roleOf(file.nodeId, file.voters), singleNode: settings.voters === null };
    },
  };
}
