/**
 * The metadata quorum's transport over authenticated peer links (KIP-595 over Eddy's peer path).
 *
 * Design: request/response, as Kafka's KRaft does on its controller listener.
 * - Outbound: every raft *request* the local driver sends (Vote, BeginQuorumEpoch, EndQuorumEpoch,
 *   Fetch, FetchSnapshot) becomes one peer request on `PeerLinks.get(to)`; the peer's reply is
 *   turned back into the raft *response* message and handed to the local driver as if `to` had
 *   sent it. Response fields the wire lacks are taken from the request (Vote's candidateEpoch and
 *   preVote, Fetch's and FetchSnapshot's correlationId). A send to an unknown or down link, a
 *   timed-out request, or a reply that does not decode is dropped and logged at debug: Raft
 *   retries on its own schedule.
 * - Inbound: `handlers()` serves those APIs. Each request is turned into the raft message and
 *   injected into the local driver; the driver answers later through `send(from, response)`, which
 *   resolves the waiting peer request instead of going out. Pending inbound requests are keyed by
 *   (peer, kind, match key): Vote by candidateEpoch+preVote (echoed in VoteResponse), Fetch and
 *   FetchSnapshot by correlationId; BeginQuorumEpoch/EndQuorumEpoch responses carry no echo, so
 *   the next response of that kind to that peer answers the oldest waiting request (the core
 *   answers in order). A request the driver does not answer within `requestTimeoutMs` is answered
 *   REQUEST_TIMED_OUT (coded error; the sender's Raft retries).
 *
 * Encoding: the protocol/apis schemas. Raft Fetch is Fetch v2 on `__cluster_metadata`-0 (the
 * replicaId, currentLeaderEpoch = replicaEpoch, fetchOffset, lastFetchedEpoch fields); entries
 * travel as record batches, one per entry, exactly as metadata-log.ts stores them (batch
 * partitionLeaderEpoch = entry epoch, base offset = entry offset; LeaderChange control entries as
 * the `raft.control` header). Inbound batches are fully validated (CRC, lengths) before decoding,
 * and must be dense from fetchOffset. FetchSnapshot carries the whole snapshot in one answer
 * (position 0, size = length); an answer that is partial is dropped.
 *
 * Fetch is a client-scope API; the peer server admits it on the peer path too, for this.
 */
import { METADATA_PARTITION, METADATA_TOPIC, decodeEntries, encodeEntry } from '../node/controller/metadata-log.js';
import type { QuorumTransport } from '../node/controller/quorum-transport.js';
import type * as R from '../node/controller/raft/raft-messages.js';
import type { Logger } from '../node/logger.js';
import { Apis } from '../protocol/apis/index.js';
import type * as WB from '../protocol/apis/begin-quorum-epoch.js';
import type * as WE from '../protocol/apis/end-quorum-epoch.js';
import { NO_EPOCH, NO_NODE, NO_OFFSET } from '../protocol/apis/epoch-types.js';
import type * as WF from '../protocol/apis/fetch.js';
import type * as WS from '../protocol/apis/fetch-snapshot.js';
import type * as WV from '../protocol/apis/vote.js';
import { EddyError } from '../protocol/errors.js';
import { splitBatches, validateBatch } from '../protocol/record-batch.js';
import type { PeerRequestHandler } from './peer-server.js';
import { concatBytes } from '../protocol/concat-bytes.js';

/** What the transport needs of PeerLinks: a link per other voter. */
export interface QuorumPeerLinks {
  get(nodeId: number): { request<T = unknown>(apiKey: number, version: number, body: unknown, opts?: { timeoutMs?: number }): Promise<T> } | undefined;
}

export interface QuorumPeerTransportOptions {
  nodeId: number;
  links: QuorumPeerLinks;
  logger?: Logger;
  /** Outbound request timeout and how long an inbound request waits for the driver. Default 2 s. */
  requestTimeoutMs?: number;
  /** The cluster id put on outbound requests (null: not checked). */
  clusterId?: string | null;
}

const FETCH_VERSION = 2;
const MAX_BYTES = 0x7fffffff;
const MAX_BATCH_BYTES = 64 * 1024 * 1024;

type Kind = 'Vote' | 'BeginQuorumEpoch' | 'EndQuorumEpoch' | 'Fetch' | 'FetchSnapshot';

interface Waiter {
  resolve(response: R.RaftMessage): void;
  timer: NodeJS.Timeout;
}

const nodeOrNull = (id: number): number | null => (id < 0 ? null : id);
const nodeOrNone = (id: number | null): number => id ?? NO_NODE;

export class QuorumPeerTransport implements QuorumTransport {
  readonly #o: QuorumPeerTransportOptions;
  readonly #timeoutMs: number;
  #handler: ((from: number, message: R.RaftMessage) => void) | null = null;
  /** Inbound requests waiting for the driver's answer, by `${peer}/${kind}/${key}`, oldest first. */
  readonly #waiting = new Map<string, Waiter[]>();
  #closed = false;

  constructor(opts: QuorumPeerTransportOptions) {
    this.#o = opts;
    this.#timeoutMs = opts.requestTimeoutMs ?? 2_000;
  }

  onMessage(handler: (from: number, message: R.RaftMessage) => void): void {
    this.#handler = handler;
  }

  /** Stops sending and fails every inbound request still waiting. */
  close(): void {
    this.#closed = true;
    for (const list of this.#waiting.values()) for (const w of list) clearTimeout(w.timer);
    this.#waiting.clear();
  }

  send(to: number, message: R.RaftMessage): void {
    if (this.#closed) return;
    switch (message.type) {
      case 'VoteResponse':
        return this.#answer(to, 'Vote', `${message.candidateEpoch}:${message.preVote}`, message);
      case 'BeginQuorumEpochResponse':
        return this.#answer(to, 'BeginQuorumEpoch', '', message);
      case 'EndQuorumEpochResponse':
        return this.#answer(to, 'EndQuorumEpoch', '', message);
      case 'FetchResponse':
        return this.#answer(to, 'Fetch', String(message.correlationId), message);
      case 'FetchSnapshotResponse':
        return this.#answer(to, 'FetchSnapshot', String(message.correlationId), message);
      default:
        return this.#request(to, message);
    }
  }

  /** The peer API handlers that feed inbound raft requests to the local driver (a Map, so it can be merged into a registry). */
  handlers(): Map<number, PeerRequestHandler> {
    const h = new Map<number, PeerRequestHandler>();
    h.set(Apis.Vote.key, async (req, ctx) => {
      const r = req as WV.VoteRequest;
      const msg: R.VoteRequest = { type: 'Vote', candidateId: r.candidateId, candidateEpoch: r.candidateEpoch, lastOffsetEpoch: r.lastOffsetEpoch, lastOffset: r.lastOffset, preVote: r.preVote };
      const resp = (await this.#inject(ctx.peerNodeId, 'Vote', `${r.candidateEpoch}:${r.preVote}`, msg)) as R.VoteResponse;
      return { errorCode: resp.errorCode, errorMessage: null, leaderId: nodeOrNone(resp.leaderId), leaderEpoch: resp.leaderEpoch, voteGranted: resp.voteGranted } satisfies WV.VoteResponse;
    });
    h.set(Apis.BeginQuorumEpoch.key, async (req, ctx) => {
      const r = req as WB.BeginQuorumEpochRequest;
      const resp = (await this.#inject(ctx.peerNodeId, 'BeginQuorumEpoch', '', { type: 'BeginQuorumEpoch', leaderId: r.leaderId, leaderEpoch: r.leaderEpoch })) as R.BeginQuorumEpochResponse;
      return { errorCode: resp.errorCode, errorMessage: null, leaderId: nodeOrNone(resp.leaderId), leaderEpoch: resp.leaderEpoch } satisfies WB.BeginQuorumEpochResponse;
    });
    h.set(Apis.EndQuorumEpoch.key, async (req, ctx) => {
      const r = req as WE.EndQuorumEpochRequest;
      const msg: R.EndQuorumEpochRequest = { type: 'EndQuorumEpoch', leaderId: r.leaderId, leaderEpoch: r.leaderEpoch, preferredSuccessors: r.preferredSuccessors };
      const resp = (await this.#inject(ctx.peerNodeId, 'EndQuorumEpoch', '', msg)) as R.EndQuorumEpochResponse;
      return { errorCode: resp.errorCode, errorMessage: null, leaderId: nodeOrNone(resp.leaderId), leaderEpoch: resp.leaderEpoch } satisfies WE.EndQuorumEpochResponse;
    });
    let nextInboundFetch = 0;
    h.set(Apis.Fetch.key, async (req, ctx) => {
      const p = metadataPartition(req as WF.FetchRequest);
      // The wire has no raft correlation id (the frame's is the link's): number inbound fetches here.
      const correlationId = nextInboundFetch++;
      const msg: R.FetchRequest = { type: 'Fetch', correlationId, replicaId: (req as WF.FetchRequest).replicaId, replicaEpoch: p.currentLeaderEpoch, fetchOffset: p.fetchOffset, lastFetchedEpoch: p.lastFetchedEpoch };
      const resp = (await this.#inject(ctx.peerNodeId, 'Fetch', String(correlationId), msg)) as R.FetchResponse;
      return encodeFetchResponse(resp);
    });
    let nextInboundSnapshot = 0;
    h.set(Apis.FetchSnapshot.key, async (req, ctx) => {
      const r = req as WS.FetchSnapshotRequest;
      if (r.position !== 0) throw new EddyError('INVALID_REQUEST', 'FetchSnapshot: this node sends a snapshot whole; ask from position 0');
      const correlationId = nextInboundSnapshot++;
      const msg: R.FetchSnapshotRequest = { type: 'FetchSnapshot', correlationId, replicaId: r.replicaId, replicaEpoch: r.currentLeaderEpoch, snapshotId: { endOffset: r.snapshotId.endOffset, epoch: r.snapshotId.epoch } };
      const resp = (await this.#inject(ctx.peerNodeId, 'FetchSnapshot', String(correlationId), msg)) as R.FetchSnapshotResponse;
      const data = resp.data instanceof Uint8Array ? resp.data : new Uint8Array(0);
      return {
        errorCode: resp.errorCode, errorMessage: null, snapshotId: resp.snapshotId,
        currentLeader: { leaderId: nodeOrNone(resp.leaderId), leaderEpoch: resp.leaderEpoch },
        size: data.length, position: 0, unalignedRecords: data,
      } satisfies WS.FetchSnapshotResponse;
    });
    return h;
  }

  // ---- inbound -------------------------------------------------------------------------------

  #inject(from: number, kind: Kind, key: string, message: R.RaftMessage): Promise<R.RaftMessage> {
    const handler = this.#handler;
    if (!handler || this.#closed) return Promise.reject(new EddyError('NOT_LEADER_OR_FOLLOWER', `node ${this.#o.nodeId} runs no metadata quorum replica`));
    const k = `${from}/${kind}/${key}`;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          this.#remove(k, waiter);
          reject(new EddyError('REQUEST_TIMED_OUT', `the metadata quorum replica did not answer ${kind} from node ${from} within ${this.#timeoutMs} ms`));
        }, this.#timeoutMs),
      };
      const list = this.#waiting.get(k);
      if (list) list.push(waiter);
      else this.#waiting.set(k, [waiter]);
      handler(from, message);
    });
  }

  #remove(k: string, w: Waiter): void {
    const list = this.#waiting.get(k);
    if (!list) return;
    const i = list.indexOf(w);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#waiting.delete(k);
  }

  #answer(to: number, kind: Kind, key: string, message: R.RaftMessage): void {
    const k = `${to}/${kind}/${key}`;
    const w = this.#waiting.get(k)?.[0];
    if (!w) {
      this.#o.logger?.debug({ to, kind }, `metadata quorum: ${message.type} to node ${to} matches no waiting request; dropped`);
      return;
    }
    clearTimeout(w.timer);
    this.#remove(k, w);
    w.resolve(message);
  }

  // ---- outbound ------------------------------------------------------------------------------

  #request(to: number, message: R.RaftMessage): void {
    const link = this.#o.links.get(to);
    if (!link) {
      this.#o.logger?.debug({ to }, `metadata quorum: no peer link to node ${to}; ${message.type} dropped`);
      return;
    }
    const clusterId = this.#o.clusterId ?? null;
    const opts = { timeoutMs: this.#timeoutMs };
    let reply: Promise<R.RaftMessage>;
    switch (message.type) {
      case 'Vote': {
        const body: WV.VoteRequest = { clusterId, candidateEpoch: message.candidateEpoch, candidateId: message.candidateId, lastOffsetEpoch: message.lastOffsetEpoch, lastOffset: message.lastOffset, preVote: message.preVote };
        reply = link.request<WV.VoteResponse>(Apis.Vote.key, 0, body, opts).then((r) => ({
          type: 'VoteResponse', errorCode: r.errorCode, leaderEpoch: r.leaderEpoch, leaderId: nodeOrNull(r.leaderId),
          candidateEpoch: message.candidateEpoch, voteGranted: r.voteGranted, preVote: message.preVote,
        }));
        break;
      }
      case 'BeginQuorumEpoch': {
        const body: WB.BeginQuorumEpochRequest = { clusterId, leaderId: message.leaderId, leaderEpoch: message.leaderEpoch };
        reply = link.request<WB.BeginQuorumEpochResponse>(Apis.BeginQuorumEpoch.key, 0, body, opts).then((r) => ({
          type: 'BeginQuorumEpochResponse', errorCode: r.errorCode, leaderEpoch: r.leaderEpoch, leaderId: nodeOrNull(r.leaderId),
        }));
        break;
      }
      case 'EndQuorumEpoch': {
        const body: WE.EndQuorumEpochRequest = { clusterId, leaderId: message.leaderId, leaderEpoch: message.leaderEpoch, preferredSuccessors: [...message.preferredSuccessors] };
        reply = link.request<WE.EndQuorumEpochResponse>(Apis.EndQuorumEpoch.key, 0, body, opts).then((r) => ({
          type: 'EndQuorumEpochResponse', errorCode: r.errorCode, leaderEpoch: r.leaderEpoch, leaderId: nodeOrNull(r.leaderId),
        }));
        break;
      }
      case 'Fetch': {
        const body: WF.FetchRequest = {
          replicaId: message.replicaId, maxWaitMs: 0, minBytes: 0, maxBytes: MAX_BYTES, isolation: 0,
          topics: [{ name: METADATA_TOPIC, partitions: [{ partition: METADATA_PARTITION, currentLeaderEpoch: message.replicaEpoch, fetchOffset: message.fetchOffset, lastFetchedEpoch: message.lastFetchedEpoch, logStartOffset: NO_OFFSET, partitionMaxBytes: MAX_BYTES }] }],
        };
        reply = link.request<WF.FetchResponse>(Apis.Fetch.key, FETCH_VERSION, body, opts).then((r) => decodeFetchResponse(r, message));
        break;
      }
      case 'FetchSnapshot': {
        const body: WS.FetchSnapshotRequest = { clusterId, replicaId: message.replicaId, maxBytes: MAX_BYTES, currentLeaderEpoch: message.replicaEpoch, snapshotId: message.snapshotId, position: 0 };
        reply = link.request<WS.FetchSnapshotResponse>(Apis.FetchSnapshot.key, 0, body, opts).then((r) => {
          if (r.errorCode === 0 && (r.position !== 0 || r.size !== r.unalignedRecords.length)) throw new EddyError('CORRUPT_MESSAGE', `FetchSnapshot answer holds bytes ${r.position}..${r.position + r.unalignedRecords.length} of ${r.size}, not the whole snapshot`);
          return {
            type: 'FetchSnapshotResponse', correlationId: message.correlationId, errorCode: r.errorCode,
            leaderId: nodeOrNull(r.currentLeader.leaderId), leaderEpoch: r.currentLeader.leaderEpoch,
            snapshotId: { endOffset: r.snapshotId.endOffset, epoch: r.snapshotId.epoch },
            data: r.errorCode === 0 ? r.unalignedRecords : null,
          };
        });
        break;
      }
      default:
        return;
    }
    reply.then(
      (response) => {
        if (!this.#closed) this.#handler?.(to, response);
      },
      (err: unknown) => {
        this.#o.logger?.debug({ to, err: (err as Error)?.message }, `metadata quorum: ${message.type} to node ${to} failed: ${(err as Error)?.message ?? String(err)}`);
      },
    );
  }
}

/** The one partition of a raft Fetch; anything else is not a metadata quorum fetch. */
function metadataPartition(req: WF.FetchRequest): WF.FetchRequest['topics'][number]['partitions'][number] {
  const t = req.topics;
  if (t.length !== 1 || t[0]!.name !== METADATA_TOPIC || t[0]!.partitions.length !== 1 || t[0]!.partitions[0]!.partition !== METADATA_PARTITION) {
    throw new EddyError('INVALID_REQUEST', `a Fetch on the peer path must name exactly ${METADATA_TOPIC}-${METADATA_PARTITION}`);
  }
  return t[0]!.partitions[0]!;
}

function encodeFetchResponse(r: R.FetchResponse): WF.FetchResponse {
  const ts = Date.now();
  const records = concatBytes(r.records.map((e) => encodeEntry(e, ts)));
  const last = r.records[r.records.length - 1];
  return {
    topics: [{
      name: METADATA_TOPIC,
      partitions: [{
        partition: METADATA_PARTITION, errorCode: r.errorCode, errorMessage: null,
        highWatermark: r.highWatermark, logStartOffset: r.logStartOffset, logEndOffset: last ? last.offset + 1 : NO_OFFSET,
        divergingEpoch: r.divergingEpoch ?? { epoch: NO_EPOCH, endOffset: NO_OFFSET },
        currentLeader: { leaderId: nodeOrNone(r.leaderId), leaderEpoch: r.leaderEpoch },
        snapshotId: r.snapshotId ?? { endOffset: NO_OFFSET, epoch: NO_EPOCH },
        records,
      }],
    }],
  };
}

/** A Fetch v2 answer as the raft FetchResponse; throws (and the answer is dropped) on anything malformed. */
function decodeFetchResponse(r: WF.FetchResponse, req: R.FetchRequest): R.FetchResponse {
  const t = r.topics;
  if (t.length !== 1 || t[0]!.name !== METADATA_TOPIC || t[0]!.partitions.length !== 1 || t[0]!.partitions[0]!.partition !== METADATA_PARTITION) {
    throw new EddyError('CORRUPT_MESSAGE', `Fetch answer is not for ${METADATA_TOPIC}-${METADATA_PARTITION} alone`);
  }
  const p = t[0]!.partitions[0]!;
  const batches = splitBatches(p.records);
  if (batches.reduce((n, b) => n + b.length, 0) !== p.records.length) throw new EddyError('CORRUPT_MESSAGE', 'Fetch answer ends in a partial batch');
  const records: R.RaftEntry[] = [];
  for (const b of batches) {
    validateBatch(b, { maxBatchBytes: MAX_BATCH_BYTES, denseOffsets: true });
    for (const e of decodeEntries(b)) {
      if (e.offset !== req.fetchOffset + records.length) throw new EddyError('CORRUPT_MESSAGE', `Fetch answer entry at offset ${e.offset}, expected ${req.fetchOffset + records.length}`);
      records.push(e);
    }
  }
  const diverging = p.divergingEpoch.epoch >= 0 && p.divergingEpoch.endOffset >= 0 ? { divergingEpoch: { epoch: p.divergingEpoch.epoch, endOffset: p.divergingEpoch.endOffset } } : {};
  const snapshot = p.snapshotId.endOffset >= 0 && p.snapshotId.epoch >= 0 ? { snapshotId: { endOffset: p.snapshotId.endOffset, epoch: p.snapshotId.epoch } } : {};
  return {
    type: 'FetchResponse', correlationId: req.correlationId, errorCode: p.errorCode,
    leaderId: nodeOrNull(p.currentLeader.leaderId), leaderEpoch: p.currentLeader.leaderEpoch,
    highWatermark: p.highWatermark, logStartOffset: p.logStartOffset, records, ...diverging, ...snapshot,
  };
}
