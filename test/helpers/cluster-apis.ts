/** The APIs the cluster added (peer links, the metadata quorum, FindCoordinator, AlterPartition), for the wire and hostile-input tests. */
import type { ApiName } from '../../protocol/apis/index.js';

export const CLUSTER_APIS = [
  'FindCoordinator',
  'Vote',
  'BeginQuorumEpoch',
  'EndQuorumEpoch',
  'DescribeQuorum',
  'AlterPartition',
  'FetchSnapshot',
  'BrokerRegistration',
  'BrokerHeartbeat',
  'AllocateProducerIds',
  'PeerHello',
  'PeerProof',
] as const satisfies readonly ApiName[];
