/**
 * The cluster APIs' wire encoding pinned byte for byte (one request and one response each), and
 * round-trip properties over every message their schemas can hold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Apis, decodeRequest } from '../../protocol/apis/index.js';
import { CLUSTER_APIS } from '../helpers/cluster-apis.js';
import { encodeRequest } from '../../protocol/frame.js';
import { decode, encode } from '../../protocol/wire/schema.js';
import { arbitraryOf } from '../helpers/schema-arbitrary.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));


interface Golden {
  request: unknown;
  requestHex: string;
  response: unknown;
  responseHex: string;
}

const C1 = '0002' + '6331'; // string "c1"
const NONE = '0000' + 'ffff'; // errorCode 0, errorMessage null
/** A topic id: bytes 01..10 on the wire, base64url in memory. */
const TOPIC_ID = 'AQIDBAUGBwgJCgsMDQ4PEA';
const TOPIC_ID_HEX = '0102030405060708090a0b0c0d0e0f10';

const GOLDEN: Record<(typeof CLUSTER_APIS)[number], Golden> = {
  FindCoordinator: {
    request: { key: 'g', keyType: 0 },
    requestHex: '000167' + '00', // key "g", keyType 0 (group)
    response: { errorCode: 0, errorMessage: null, nodeId: 1, host: 'h', port: 9400 },
    responseHex: NONE + '00000001' + '000168' + '000024b8', // nodeId 1, host "h", port 9400
  },
  Vote: {
    request: { clusterId: 'c1', candidateEpoch: 5, candidateId: 2, lastOffsetEpoch: 4, lastOffset: 100, preVote: true },
    requestHex: C1 + '00000005' + '00000002' + '00000004' + '0000000000000064' + '01',
    response: { errorCode: 0, errorMessage: null, leaderId: -1, leaderEpoch: 5, voteGranted: true },
    responseHex: NONE + 'ffffffff' + '00000005' + '01',
  },
  BeginQuorumEpoch: {
    request: { clusterId: null, leaderId: 2, leaderEpoch: 6 },
    requestHex: 'ffff' + '00000002' + '00000006',
    response: { errorCode: 0, errorMessage: null, leaderId: 2, leaderEpoch: 6 },
    responseHex: NONE + '00000002' + '00000006',
  },
  EndQuorumEpoch: {
    request: { clusterId: 'c1', leaderId: 2, leaderEpoch: 6, preferredSuccessors: [3, 1] },
    requestHex: C1 + '00000002' + '00000006' + '00000002' + '00000003' + '00000001',
    response: { errorCode: 6, errorMessage: 'x', leaderId: 3, leaderEpoch: 7 },
    responseHex: '0006' + '000178' + '00000003' + '00000007', // NOT_LEADER_OR_FOLLOWER "x"
  },
  DescribeQuorum: {
    request: {},
    requestHex: '', // empty body
    response: {
      errorCode: 0,
      errorMessage: null,
      leaderId: 1,
      leaderEpoch: 3,
      highWatermark: 42,
      currentVoters: [{ replicaId: 1, logEndOffset: 42, lastFetchTimestamp: 1_700_000_000_000, lastCaughtUpTimestamp: -1 }],
      observers: [],
    },
    responseHex:
      NONE +
      '00000001' + // leaderId
      '00000003' + // leaderEpoch
      '000000000000002a' + // highWatermark 42
      '00000001' + // 1 voter
      '00000001' + // replicaId
      '000000000000002a' + // logEndOffset
      '0000018bcfe56800' + // lastFetchTimestamp 1 700 000 000 000
      'ffffffffffffffff' + // lastCaughtUpTimestamp −1
      '00000000', // no observers
  },
  AlterPartition: {
    request: { brokerId: 2, brokerEpoch: 17, topics: [{ topicId: TOPIC_ID, partitions: [{ partitionIndex: 0, leaderEpoch: 3, newIsr: [2, 1], partitionEpoch: 7 }] }] },
    requestHex:
      '00000002' + // brokerId
      '0000000000000011' + // brokerEpoch 17
      '00000001' + TOPIC_ID_HEX + // 1 topic: its id (16 bytes)
      '00000001' + '00000000' + '00000003' + '00000002' + '00000002' + '00000001' + '00000007', // 1 partition: 0, leaderEpoch 3, newIsr [2, 1], partitionEpoch 7
    response: {
      errorCode: 0,
      errorMessage: null,
      topics: [
        {
          topicId: TOPIC_ID,
          partitions: [
            { partitionIndex: 0, errorCode: 0, errorMessage: null, leaderId: 2, leaderEpoch: 3, isr: [2, 1], partitionEpoch: 8 },
            { partitionIndex: 1, errorCode: 95, errorMessage: 'x', leaderId: 1, leaderEpoch: 4, isr: [1], partitionEpoch: 9 },
          ],
        },
      ],
    },
    responseHex:
      NONE +
      '00000001' + TOPIC_ID_HEX +
      '00000002' + // 2 partitions
      '00000000' + NONE + '00000002' + '00000003' + '00000002' + '00000002' + '00000001' + '00000008' + // 0: leader 2, epoch 3, isr [2, 1], partitionEpoch 8
      '00000001' + '005f' + '000178' + '00000001' + '00000004' + '00000001' + '00000001' + '00000009', // 1: INVALID_UPDATE_VERSION "x", leader 1, epoch 4, isr [1], partitionEpoch 9
  },
  FetchSnapshot: {
    request: { clusterId: null, replicaId: 3, maxBytes: 1 << 20, currentLeaderEpoch: 6, snapshotId: { endOffset: 100, epoch: 5 }, position: 0 },
    requestHex: 'ffff' + '00000003' + '00100000' + '00000006' + '0000000000000064' + '00000005' + '0000000000000000',
    response: {
      errorCode: 0,
      errorMessage: null,
      snapshotId: { endOffset: 100, epoch: 5 },
      currentLeader: { leaderId: 1, leaderEpoch: 6 },
      size: 3,
      position: 0,
      unalignedRecords: Uint8Array.of(1, 2, 3),
    },
    responseHex: NONE + '0000000000000064' + '00000005' + '00000001' + '00000006' + '0000000000000003' + '0000000000000000' + '00000003' + '010203',
  },
  BrokerRegistration: {
    request: {
      brokerId: 2,
      clusterId: 'c1',
      incarnationId: 'u',
      listeners: [{ name: 'peer', host: 'h', port: 9401 }],
      features: [{ name: 'mv', minSupportedVersion: 0, maxSupportedVersion: 1 }],
      rack: null,
      previousBrokerEpoch: -1,
    },
    requestHex:
      '00000002' + // brokerId
      C1 +
      '000175' + // incarnationId "u"
      '00000001' + '000470656572' + '000168' + '000024b9' + // 1 listener: "peer", "h", 9401
      '00000001' + '00026d76' + '0000' + '0001' + // 1 feature: "mv" 0..1
      'ffff' + // rack null
      'ffffffffffffffff', // previousBrokerEpoch −1
    response: { errorCode: 0, errorMessage: null, brokerEpoch: 17 },
    responseHex: NONE + '0000000000000011',
  },
  BrokerHeartbeat: {
    request: { brokerId: 2, brokerEpoch: 17, currentMetadataOffset: 99, wantFence: false, wantShutDown: true },
    requestHex: '00000002' + '0000000000000011' + '0000000000000063' + '00' + '01',
    response: { errorCode: 0, errorMessage: null, isCaughtUp: true, isFenced: false, shouldShutDown: false },
    responseHex: NONE + '01' + '00' + '00',
  },
  AllocateProducerIds: {
    request: { brokerId: 2, brokerEpoch: 17 },
    requestHex: '00000002' + '0000000000000011',
    response: { errorCode: 0, errorMessage: null, producerIdStart: 1000, producerIdLen: 1000 },
    responseHex: NONE + '00000000000003e8' + '000003e8',
  },
  PeerHello: {
    request: { clusterId: 'c1', nodeId: 2, nonce: Uint8Array.of(0xaa, 0xbb) },
    requestHex: C1 + '00000002' + '00000002aabb',
    response: { errorCode: 0, errorMessage: null, clusterId: 'c1', nodeId: 1, nonce: Uint8Array.of(0xcc), proof: Uint8Array.of(0xdd, 0xee) },
    responseHex: NONE + C1 + '00000001' + '00000001cc' + '00000002ddee',
  },
  PeerProof: {
    request: { proof: Uint8Array.of(1) },
    requestHex: '0000000101',
    response: { errorCode: 0, errorMessage: null },
    responseHex: NONE,
  },
};

/** PeerHello v1: an observer (role 1), node 4, declaring one voter. */
const PEER_HELLO_V1 = {
  request: { clusterId: 'c1', nodeId: 4, nonce: Uint8Array.of(0xaa, 0xbb), role: 1, voters: [{ id: 1, url: 'ws://a:1' }] },
  requestHex: C1 + '00000004' + '00000002aabb' + '01' + '00000001' + '00000001' + '0008' + Buffer.from('ws://a:1').toString('hex'),
};

describe('cluster API table', () => {
  it("uses Kafka's keys, Eddy's own from 1000, one key per API", () => {
    expect(Object.fromEntries(CLUSTER_APIS.map((n) => [n, Apis[n].key]))).toEqual({
      FindCoordinator: 10,
      Vote: 52,
      BeginQuorumEpoch: 53,
      EndQuorumEpoch: 54,
      DescribeQuorum: 55,
      AlterPartition: 56,
      FetchSnapshot: 59,
      BrokerRegistration: 62,
      BrokerHeartbeat: 63,
      AllocateProducerIds: 67,
      PeerHello: 1000,
      PeerProof: 1001,
    });
    const keys = Object.values(Apis).map((a) => a.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('marks the node-to-node APIs peer only, and the ones clients and the CLI send as client', () => {
    const peer = Object.values(Apis).filter((a) => a.scope === 'peer').map((a) => a.name);
    expect(peer.sort()).toEqual(['AllocateProducerIds', 'AlterPartition', 'BeginQuorumEpoch', 'BrokerHeartbeat', 'BrokerRegistration', 'EndQuorumEpoch', 'FetchSnapshot', 'PeerHello', 'PeerProof', 'Vote']);
    for (const a of [Apis.Fetch, Apis.FindCoordinator, Apis.DescribeQuorum, Apis.Produce]) expect(a.scope).toBe('client');
  });
});

describe('cluster API golden bytes', () => {
  for (const name of CLUSTER_APIS) {
    const api = Apis[name];
    const g = GOLDEN[name];
    it(`${name} request and response`, () => {
      const v = api.versions[0]!;
      expect(hex(encode(v.request, g.request as never))).toBe(g.requestHex);
      expect(decode(v.request, unhex(g.requestHex))).toEqual(g.request);
      // What a handler receives: the v0 request in the newest shape.
      const upgrade = (v as { upgrade?: (r: never) => unknown }).upgrade;
      expect(decodeRequest(api, 0, unhex(g.requestHex))).toEqual(upgrade ? upgrade(g.request as never) : g.request);
      expect(hex(encode(v.response, g.response as never))).toBe(g.responseHex);
      expect(decode(v.response, unhex(g.responseHex))).toEqual(g.response);
    });
  }

  it('frames a peer request under the request header: apiKey 52 (Vote), PeerHello as 1000', () => {
    const header = { apiVersion: 0, correlationId: 7, clientId: 'cli' };
    expect(hex(encodeRequest({ ...header, apiKey: Apis.Vote.key }, Apis.Vote.newest.request, GOLDEN.Vote.request as never))).toBe('0034' + '0000' + '00000007' + '0003636c69' + GOLDEN.Vote.requestHex);
    expect(hex(encodeRequest({ ...header, apiKey: Apis.PeerHello.key }, Apis.PeerHello.versions[0]!.request, GOLDEN.PeerHello.request as never))).toBe('03e8' + '0000' + '00000007' + '0003636c69' + GOLDEN.PeerHello.requestHex);
    expect(hex(encodeRequest({ ...header, apiVersion: 1, apiKey: Apis.PeerHello.key }, Apis.PeerHello.newest.request, PEER_HELLO_V1.request))).toBe('03e8' + '0001' + '00000007' + '0003636c69' + PEER_HELLO_V1.requestHex);
  });

  it('PeerHello v1 request: v0 then role and voters; the response is v0\'s; v0 reads as a voter with no declared voters', () => {
    const v1 = Apis.PeerHello.versions[1]!;
    expect(Apis.PeerHello.newest.version).toBe(1);
    expect(hex(encode(v1.request, PEER_HELLO_V1.request))).toBe(PEER_HELLO_V1.requestHex);
    expect(decodeRequest(Apis.PeerHello, 1, unhex(PEER_HELLO_V1.requestHex))).toEqual(PEER_HELLO_V1.request);
    expect(hex(encode(v1.response, GOLDEN.PeerHello.response as never))).toBe(GOLDEN.PeerHello.responseHex);
    expect(decodeRequest(Apis.PeerHello, 0, unhex(GOLDEN.PeerHello.requestHex))).toEqual({ ...(GOLDEN.PeerHello.request as object), role: 0, voters: [] });
  });
});

describe('cluster API round trips', () => {
  for (const name of [...CLUSTER_APIS, 'Fetch'] as const) {
    const api = Apis[name];
    api.versions.forEach((v, version) => {
      it(`${name} v${version}: every request and response decodes to what was encoded`, () => {
        fc.assert(
          fc.property(arbitraryOf(v.request), arbitraryOf(v.response), (req, res) => {
            expect(decode(v.request, encode(v.request, req))).toEqual(req);
            expect(decode(v.response, encode(v.response, res))).toEqual(res);
            // What a handler receives (upgraded to the newest shape) encodes as the newest version.
            const upgraded = decodeRequest(api, version, encode(v.request, req));
            expect(decode(api.newest.request, encode(api.newest.request, upgraded as never))).toEqual(upgraded);
          }),
          { numRuns: 200 },
        );
      });
    });
  }
});
