/** The checks of NodeConfig's cluster settings that span fields (node/config.ts runs them). */
import { readClusterSecret, secretHowTo } from './cluster-secret.js';
import type { Voter } from './voters.js';

/**
 * The cluster settings that depend on each other: voters need this node's id, more than one
 * voter needs a secret (peer links refuse unauthenticated peers), and a secret file is read now
 * so a missing or short one stops the start, not the first peer link.
 */
export function checkClusterSettings(
  out: { controllerQuorumVoters?: unknown; clusterSecretFile?: unknown; clusterSecret?: unknown; clusterId?: unknown },
  /** Where each given setting came from (e.g. "--node-id"); absent: left at its default. */
  given: { nodeId?: string; controllerQuorumVoters?: string; clusterSecretFile?: string },
  problems: string[],
): void {
  const voters = out.controllerQuorumVoters as Voter[] | null | undefined;
  out.clusterSecret = null;
  if (voters && given.nodeId === undefined) {
    problems.push(
      `${given.controllerQuorumVoters} is set but --node-id is not (EDDY_NODE_ID): give this node's id, one of the voters (${voters.map((v) => v.id).join(', ')}), or an id of its own to run as an observer`,
    );
  }
  const secretFile = out.clusterSecretFile as string | null | undefined;
  if (voters && voters.length > 1 && secretFile === null) {
    problems.push(
      `${given.controllerQuorumVoters} lists ${voters.length} voters but --cluster-secret-file is not set (EDDY_CLUSTER_SECRET_FILE): peer nodes authenticate with a shared secret; ${secretHowTo()}`,
    );
  }
  if (typeof secretFile === 'string') {
    try {
      out.clusterSecret = readClusterSecret(secretFile);
    } catch (err) {
      problems.push(`${given.clusterSecretFile} = ${JSON.stringify(secretFile)}: ${(err as Error).message}`);
    }
  }
}
