/**
 * Hostile input on the peer path: random, truncated and mutated PeerHello (v0 and v1, and
 * another FRAMES of v1 alone) / PeerProof frames and frames of the other peer APIs, before authentication (each connection is refused at its first
 * bad frame, so many connections) and after it (each authenticated link takes error responses,
 * or is closed for an unreadable header and authenticates again). The node must keep running,
 * keep its real peer link, and still answer a client's Metadata.
 */
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PeerRequestHandler } from '../../gateway/peer-server.js';
import { Apis, type ApiSpec } from '../../protocol/apis/index.js';
import { writeRequest } from '../../protocol/frame.js';
import { encode } from '../../protocol/wire/schema.js';
import { parseMetrics } from '../helpers/metrics.js';
import { peerNodes, peerUrl, rawPeer } from '../helpers/peers.js';
import { RawClient } from '../helpers/raw-client.js';
import { arbitraryOf } from '../helpers/schema-arbitrary.js';
import { mulberry32 } from '../sim/prng.js';

const FRAMES = 10_000;
const BATCH = 100;
const PEER_APIS = Object.values(Apis).filter((a) => a.scope === 'peer') as ApiSpec[];

/** Valid request frames of every peer API (and one client API), to mutate. */
function seeds(clusterId: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  let id = 1;
  const frame = (api: ApiSpec, body: unknown, version = 0) => writeRequest({ apiKey: api.key, apiVersion: version, correlationId: id++, clientId: 'fuzz' }, encode(api.versions[version]!.request, body as never));
  out.push(frame(Apis.PeerHello, { clusterId, nodeId: 2, nonce: randomBytes(32) }));
  out.push(frame(Apis.PeerHello, { clusterId, nodeId: 2, nonce: randomBytes(8) }));
  out.push(...helloV1Seeds(clusterId, () => id++));
  out.push(frame(Apis.PeerProof, { proof: randomBytes(32) }));
  out.push(frame(Apis.PeerProof, { proof: new Uint8Array(0) }));
  out.push(frame(Apis.Metadata, { topics: null }));
  for (const api of PEER_APIS) {
    api.versions.forEach((v, version) => {
      for (const body of fc.sample(arbitraryOf(v.request), { numRuns: 4, seed: api.key + version })) out.push(frame(api, body, version));
    });
  }
  return out;
}

/** PeerHello v1 frames: a voter and an observer with a voter list, and arbitrary ones. */
function helloV1Seeds(clusterId: string, nextId: () => number): Uint8Array[] {
  const v1 = Apis.PeerHello.versions[1]!.request;
  const frame = (body: unknown) => writeRequest({ apiKey: Apis.PeerHello.key, apiVersion: 1, correlationId: nextId(), clientId: 'fuzz' }, encode(v1, body as never));
  const voters = [{ id: 1, url: 'ws://127.0.0.1:1' }, { id: 2, url: 'ws://127.0.0.1:2' }];
  return [
    frame({ clusterId, nodeId: 2, nonce: randomBytes(32), role: 0, voters }),
    frame({ clusterId, nodeId: 7, nonce: randomBytes(32), role: 1, voters }),
    frame({ clusterId, nodeId: 7, nonce: randomBytes(32), role: 5, voters: [] }),
    ...fc.sample(arbitraryOf(v1), { numRuns: 8, seed: 0x1e11 }).map(frame),
  ];
}

/** Kinds 0, 1 and 3 may break the header (the link closes); 2, 4 and 5 keep it readable. */
const ANY = [0, 1, 2, 3, 4, 5];
const HEADER_KEPT = [2, 4, 5];

function mutate(seedFrames: Uint8Array[], rnd: () => number, kinds = ANY): Uint8Array {
  const pick = seedFrames[Math.floor(rnd() * seedFrames.length)]!;
  const f = Uint8Array.from(pick);
  switch (kinds[Math.floor(rnd() * kinds.length)]) {
    case 0: // random bytes
      return randomBytes(Math.floor(rnd() * 64));
    case 1: // truncated
      return f.subarray(0, Math.floor(rnd() * f.length));
    case 2: // flipped bytes in the body (the header stays readable)
      for (let i = 0; i < 1 + Math.floor(rnd() * 4); i++) if (f.length > 14) f[14 + Math.floor(rnd() * (f.length - 14))] = Math.floor(rnd() * 256);
      return f;
    case 3: // flipped bytes anywhere
      for (let i = 0; i < 1 + Math.floor(rnd() * 4); i++) f[Math.floor(rnd() * f.length)] = Math.floor(rnd() * 256);
      return f;
    case 4: // another peer API key or a wild version over this body
      new DataView(f.buffer).setInt16(0, rnd() < 0.5 ? PEER_APIS[Math.floor(rnd() * PEER_APIS.length)]!.key : Math.floor(rnd() * 65536) - 32768);
      if (rnd() < 0.3) new DataView(f.buffer).setInt16(2, Math.floor(rnd() * 5) - 1);
      return f;
    default: // junk appended, or a length field blown up
      if (rnd() < 0.5) return Uint8Array.from([...f, ...randomBytes(1 + Math.floor(rnd() * 16))]);
      if (f.length > 18) new DataView(f.buffer).setInt32(14, Math.floor(rnd() * 2 ** 31) * (rnd() < 0.5 ? -1 : 1));
      return f;
  }
}

describe('peer path under hostile input', () => {
  it(`survives ${FRAMES} fuzzed frames before authentication, ${FRAMES} PeerHello v1 frames, and ${FRAMES} after, and still serves clients`, { timeout: 90_000 }, async () => {
    let handled = 0;
    const ok: PeerRequestHandler = async () => (handled++, { errorCode: 0, errorMessage: null, leaderId: -1, leaderEpoch: 0, voteGranted: false });
    const boom: PeerRequestHandler = async () => {
      handled++;
      throw new Error('handler failure');
    };
    const { nodes, secret, clusterId } = await peerNodes(2, { options: () => ({ peerHandlers: new Map([[Apis.Vote.key, ok], [Apis.BeginQuorumEpoch.key, boom]]) }) });
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]];
    await b.peers.get(1)!.authenticated();
    const seedFrames = seeds(clusterId);
    const rnd = mulberry32(0x0edd1);

    // Before authentication: a batch of frames per connection; the first bad one closes it.
    let sent = 0;
    while (sent < FRAMES) {
      const c = await RawClient.connect(peerUrl(a));
      // Every other connection gets a true hello first, so PeerProof fuzz meets the second step.
      if (sent % (2 * BATCH) === 0) await c.send(Apis.PeerHello.key, encode(Apis.PeerHello.versions[0]!.request, { clusterId, nodeId: 2, nonce: randomBytes(32) }));
      for (let i = 0; i < BATCH; i++) c.sendRaw(mutate(seedFrames, rnd));
      sent += BATCH;
      const closed = await c.closed;
      expect([1002, 1003, 1008, 1009, 1006]).toContain(closed.code);
    }

    // PeerHello v1 on its own: another FRAMES frames mutated from v1 hellos only, before authentication.
    let v1Id = 1;
    const v1Frames = helloV1Seeds(clusterId, () => v1Id++);
    let v1Sent = 0;
    while (v1Sent < FRAMES) {
      const c = await RawClient.connect(peerUrl(a));
      for (let i = 0; i < BATCH; i++) c.sendRaw(mutate(v1Frames, rnd));
      v1Sent += BATCH;
      const closed = await c.closed;
      expect([1002, 1003, 1008, 1009, 1006]).toContain(closed.code);
    }

    // After authentication: most frames answered with an error, an unreadable header closes the link.
    sent = 0;
    let links = 0;
    while (sent < FRAMES) {
      const { client, proofError } = await rawPeer(a, { nodeId: 2, secret });
      expect(proofError.errorCode).toBe(0);
      links++;
      let open = true;
      void client.closed.then(() => (open = false));
      while (open && sent < FRAMES) {
        // Mostly frames with a readable header (answered, the link stays); a few that close it.
        for (let i = 0; i < BATCH; i++) client.sendRaw(mutate(seedFrames, rnd, rnd() < 0.01 ? ANY : HEADER_KEPT));
        sent += BATCH;
        // A request that always has an answer: when it comes, every frame before it was handled.
        // (Its code is not checked: a fuzzed frame may carry the same correlation id.)
        await Promise.race([client.send(Apis.Metadata.key, new Uint8Array(0)).catch(() => null), client.closed]);
      }
      client.close();
    }
    // Fuzzed frames did get past the header to the handlers (and some closed the link).
    expect(links).toBeGreaterThan(1);
    expect(handled).toBeGreaterThan(100);

    // Still up: a client's Metadata, and the real link from b.
    const client = await RawClient.connect(a.url);
    const meta = await client.call(Apis.Metadata.key, { topics: null });
    expect(meta.brokers.length).toBeGreaterThan(0);
    client.close();
    expect(b.peers.get(1)!.status().authenticated).toBe(true);
    const vote = await b.peers.get(1)!.request(Apis.Vote.key, 0, { clusterId: null, candidateEpoch: 1, candidateId: 2, lastOffsetEpoch: 0, lastOffset: 0, preVote: true });
    expect(vote).toMatchObject({ voteGranted: false });
    const scrape = parseMetrics(await a.metrics.text());
    expect((scrape.value('eddy_peer_auth_failures_total', { reason: 'MALFORMED_MESSAGE' }) ?? 0) + (scrape.value('eddy_peer_auth_failures_total', { reason: 'UNEXPECTED_MESSAGE' }) ?? 0)).toBeGreaterThan(50);
  });
});
