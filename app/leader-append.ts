/**
 * MQTT records for a partition another node leads go to that leader over the peer link, as a
 * Produce with acks=all: the device is acknowledged only once the leader has the record durable.
 * Every failure is a coded, retriable-or-not error the ingest already handles (no PUBACK, so the
 * device sends again): the leader unknown or down, the link down, the leader's own refusal.
 */
import type { PeerLink } from '../gateway/peer-link.js';
import { leaderFor, type MetadataImage } from '../node/controller/metadata/index.js';
import { Apis } from '../protocol/apis/index.js';
import type { ProduceResponse } from '../protocol/apis/produce.js';
import { EddyError, errorNameForCode, isEddyError } from '../protocol/errors.js';

const PRODUCE_TIMEOUT_MS = 10_000;

export function leaderAppend(o: {
  nodeId: number;
  image: () => MetadataImage;
  links: { get(nodeId: number): PeerLink | undefined };
}): (topic: string, partition: number, batch: Uint8Array) => Promise<void> {
  return async (topic, partition, batch) => {
    const tp = `${topic}-${partition}`;
    const leader = leaderFor(o.image(), topic, partition);
    if (leader === undefined) throw new EddyError('UNKNOWN_TOPIC_OR_PARTITION', `partition ${tp} is not in this node's cluster metadata`);
    if (leader < 0) throw new EddyError('LEADER_NOT_AVAILABLE', `partition ${tp} has no leader now (its node is down or fenced)`);
    if (leader === o.nodeId) throw new EddyError('NOT_LEADER_OR_FOLLOWER', `this node leads ${tp} in the metadata but has not opened it yet; the device's retry lands once it has`);
    const link = o.links.get(leader);
    if (!link) throw new EddyError('LEADER_NOT_AVAILABLE', `node ${o.nodeId} has no peer link to node ${leader}, the leader of ${tp}`);
    let res: ProduceResponse;
    try {
      res = await link.request<ProduceResponse>(
        Apis.Produce.key,
        Apis.Produce.versions.length - 1,
        { acks: -1, timeoutMs: PRODUCE_TIMEOUT_MS, topics: [{ name: topic, partitions: [{ partition, records: batch }] }] },
        { timeoutMs: PRODUCE_TIMEOUT_MS + 2_000 },
      );
    } catch (err) {
      if (isEddyError(err, 'NETWORK_EXCEPTION')) throw new EddyError('LEADER_NOT_AVAILABLE', `node ${leader}, the leader of ${tp}, is unreachable: ${err.detail}`);
      throw err;
    }
    const p = res.topics[0]?.partitions[0];
    if (!p) throw new EddyError('UNKNOWN_SERVER_ERROR', `node ${leader} answered the produce to ${tp} without that partition`);
    if (p.errorCode !== 0) throw new EddyError(errorNameForCode(p.errorCode), `node ${leader}, the leader of ${tp}: ${p.errorMessage ?? 'refused the record'}`);
  };
}
