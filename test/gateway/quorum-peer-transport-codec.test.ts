/**
 * QuorumPeerTransport without sockets: two transports joined by fake links that encode and decode
 * every body with the wire schemas, so each raft message makes the full trip. Round trips of each
 * kind, the inbound timeout, a hostile Fetch answer and a down link.
 */
import { describe, expect, it } from 'vitest';
import { QuorumPeerTransport, type QuorumPeerLinks } from '../../gateway/quorum-peer-transport.js';
import type { RaftMessage } from '../../node/controller/raft/raft-messages.js';
import { API_BY_KEY, Apis } from '../../protocol/apis/index.js';
import { EddyError, isEddyError } from '../../protocol/errors.js';
import { decode, encode } from '../../protocol/wire/schema.js';
import { captureLogger } from '../helpers/tmp.js';

const signal = new AbortController().signal;

/** Links from node `from` to `peer`, through the wire schemas; `tamper` may change the encoded answer body. */
function links(from: number, peer: () => QuorumPeerTransport, tamper?: (apiKey: number, resp: unknown) => unknown): QuorumPeerLinks {
  return {
    get: () => ({
      async request<T>(apiKey: number, version: number, body: unknown): Promise<T> {
        const schemas = API_BY_KEY.get(apiKey)!.versions[version]!;
        const req = decode(schemas.request, encode(schemas.request, body as never));
        const resp = await peer().handlers().get(apiKey)!(req, { peerNodeId: from, signal });
        const wire = decode(schemas.response, encode(schemas.response, resp as never));
        return (tamper ? tamper(apiKey, wire) : wire) as T;
      },
    }),
  };
}

function pair(tamper?: (apiKey: number, resp: unknown) => unknown) {
  const log = captureLogger();
  // eslint-disable-next-line prefer-const
  let b: QuorumPeerTransport;
  const a = new QuorumPeerTransport({ nodeId: 1, links: links(1, () => b, tamper), logger: log.logger, requestTimeoutMs: 200 });
  b = new QuorumPeerTransport({ nodeId: 2, links: links(2, () => a), logger: log.logger, requestTimeoutMs: 200 });
  const atA: RaftMessage[] = [];
  a.onMessage((_from, m) => atA.push(m));
  return { a, b, atA, log };
}

const until = async (cond: () => boolean) => {
  const end = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

const ENTRIES = [
  { offset: 5, epoch: 2, payload: new Uint8Array([1, 2, 3]) },
  { offset: 6, epoch: 3, control: true, payload: { leaderId: 2, voters: [1, 2, 3] } },
];

describe('QuorumPeerTransport messages', () => {
  it('carries Vote, Fetch (entries as batches) and FetchSnapshot and matches each answer to its request', async () => {
    const { a, b, atA } = pair();
    b.onMessage((from, m) => {
      if (m.type === 'Vote') b.send(from, { type: 'VoteResponse', errorCode: 0, leaderEpoch: m.candidateEpoch, leaderId: null, candidateEpoch: m.candidateEpoch, voteGranted: true, preVote: m.preVote });
      if (m.type === 'Fetch') {
        b.send(from, {
          type: 'FetchResponse', correlationId: m.correlationId, errorCode: 0, leaderId: 2, leaderEpoch: 3, highWatermark: 6, logStartOffset: 0,
          records: ENTRIES, divergingEpoch: { epoch: 1, endOffset: 4 },
        });
      }
      if (m.type === 'FetchSnapshot') b.send(from, { type: 'FetchSnapshotResponse', correlationId: m.correlationId, errorCode: 0, leaderId: 2, leaderEpoch: 3, snapshotId: m.snapshotId, data: new Uint8Array([9, 8, 7]) });
    });
    a.send(2, { type: 'Vote', candidateId: 1, candidateEpoch: 4, lastOffsetEpoch: 2, lastOffset: 5, preVote: true });
    a.send(2, { type: 'Fetch', correlationId: 42, replicaId: 1, replicaEpoch: 3, fetchOffset: 5, lastFetchedEpoch: 2 });
    a.send(2, { type: 'FetchSnapshot', correlationId: 7, replicaId: 1, replicaEpoch: 3, snapshotId: { endOffset: 5, epoch: 2 } });
    await until(() => atA.length === 3);
    expect(atA.find((m) => m.type === 'VoteResponse')).toEqual({ type: 'VoteResponse', errorCode: 0, leaderEpoch: 4, leaderId: null, candidateEpoch: 4, voteGranted: true, preVote: true });
    expect(atA.find((m) => m.type === 'FetchResponse')).toEqual({
      type: 'FetchResponse', correlationId: 42, errorCode: 0, leaderId: 2, leaderEpoch: 3, highWatermark: 6, logStartOffset: 0,
      records: ENTRIES, divergingEpoch: { epoch: 1, endOffset: 4 },
    });
    expect(atA.find((m) => m.type === 'FetchSnapshotResponse')).toEqual({ type: 'FetchSnapshotResponse', correlationId: 7, errorCode: 0, leaderId: 2, leaderEpoch: 3, snapshotId: { endOffset: 5, epoch: 2 }, data: new Uint8Array([9, 8, 7]) });
  });

  it('answers an inbound request the driver leaves unanswered with REQUEST_TIMED_OUT', async () => {
    const { b } = pair();
    b.onMessage(() => {});
    const err = await b.handlers().get(Apis.BeginQuorumEpoch.key)!({ clusterId: null, leaderId: 1, leaderEpoch: 2 }, { peerNodeId: 1, signal }).catch((e: unknown) => e);
    expect(isEddyError(err, 'REQUEST_TIMED_OUT')).toBe(true);
  });

  it('drops a Fetch answer whose batches are damaged, and a send to a down link, logging at debug', async () => {
    const { a, b, atA, log } = pair((key, resp) => {
      if (key !== Apis.Fetch.key) return resp;
      const r = resp as { topics: { partitions: { records: Uint8Array }[] }[] };
      const rec = r.topics[0]!.partitions[0]!.records;
      rec[rec.length - 1]! ^= 0xff; // breaks the CRC
      return r;
    });
    b.onMessage((from, m) => {
      if (m.type === 'Fetch') b.send(from, { type: 'FetchResponse', correlationId: m.correlationId, errorCode: 0, leaderId: 2, leaderEpoch: 3, highWatermark: 6, logStartOffset: 0, records: ENTRIES.slice(0, 1) });
    });
    a.send(2, { type: 'Fetch', correlationId: 1, replicaId: 1, replicaEpoch: 3, fetchOffset: 5, lastFetchedEpoch: 2 });
    await until(() => log.lines.some((l) => l.level === 'debug' && /Fetch to node 2 failed/.test(l.msg)));
    expect(atA).toHaveLength(0);

    const down = new QuorumPeerTransport({ nodeId: 1, logger: log.logger, links: { get: () => ({ request: () => Promise.reject(new EddyError('NETWORK_EXCEPTION', 'down')) }) } });
    expect(() => down.send(2, { type: 'BeginQuorumEpoch', leaderId: 1, leaderEpoch: 1 })).not.toThrow();
    await until(() => log.lines.some((l) => l.level === 'debug' && /BeginQuorumEpoch to node 2 failed: .*down/.test(l.msg)));
  });
});
