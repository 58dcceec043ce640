/**
 * How a node that is not the active controller sends it an admin request: over its peer link to
 * the quorum leader, in the API's newest version. Nothing to send to (no leader known, no link)
 * or a link that fails is NOT_CONTROLLER, retriable, saying which.
 */
import type { ControllerForwarder } from '../node/broker/context.js';
import type { QuorumDriver } from '../node/controller/quorum-driver.js';
import { API_BY_KEY } from '../protocol/apis/index.js';
import { EddyError, isEddyError } from '../protocol/errors.js';
import type { PeerLink } from '../gateway/peer-link.js';

const FORWARD_TIMEOUT_MS = 10_000;

export function controllerForwarder(quorum: Pick<QuorumDriver, 'nodeId' | 'leaderId' | 'epoch'>, links: { get(nodeId: number): PeerLink | undefined }): ControllerForwarder {
  return async (apiKey, request) => {
    const leader = quorum.leaderId;
    if (leader === null) throw new EddyError('NOT_CONTROLLER', `no active controller: the metadata quorum has no leader in epoch ${quorum.epoch} (is a majority of the voters up?)`);
    if (leader === quorum.nodeId) throw new EddyError('NOT_CONTROLLER', `node ${leader} is just becoming the active controller; retry`);
    const link = links.get(leader);
    if (!link) throw new EddyError('NOT_CONTROLLER', `node ${quorum.nodeId} has no peer link to the active controller, node ${leader}`);
    const api = API_BY_KEY.get(apiKey)!;
    try {
      return await link.request(apiKey, api.versions.length - 1, request, { timeoutMs: FORWARD_TIMEOUT_MS });
    } catch (err) {
      if (isEddyError(err) && err.errorName === 'NETWORK_EXCEPTION') throw new EddyError('NOT_CONTROLLER', `the active controller, node ${leader}, is unreachable: ${err.detail}`);
      throw err;
    }
  };
}
