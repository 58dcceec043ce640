/** Fetch's wire encoding pinned byte for byte: v2 (epoch fields), v1 (replicaId first) and v0, each read as v2. */
import { describe, expect, it } from 'vitest';
import { Apis, decodeRequest } from '../../protocol/apis/index.js';
import {
  CONSUMER_PARTITION_EPOCHS,
  CONSUMER_REPLICA_ID,
  FetchRequestV0,
  FetchRequestV1,
  FetchRequestV2,
  FetchResponseV0,
  FetchResponseV2,
  IsolationLevel,
  NO_FETCH_EPOCHS,
  type FetchRequest,
  type FetchResponse,
} from '../../protocol/apis/fetch.js';
import { encodeRequest } from '../../protocol/frame.js';
import { decode, encode, WireError } from '../../protocol/wire/schema.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const request: FetchRequest = {
  replicaId: CONSUMER_REPLICA_ID,
  maxWaitMs: 500,
  minBytes: 1,
  maxBytes: 1 << 20,
  isolation: IsolationLevel.READ_COMMITTED,
  topics: [{ name: 't', partitions: [{ partition: 2, fetchOffset: 5, partitionMaxBytes: 65536, ...CONSUMER_PARTITION_EPOCHS }] }],
};

/** The request as v1 had it: no per-partition epoch fields. */
const requestV1 = { ...request, topics: [{ name: 't', partitions: [{ partition: 2, fetchOffset: 5, partitionMaxBytes: 65536 }] }] };

const HEAD = '000001f4' + '00000001' + '00100000' + '01' + '00000001' + '000174' + '00000001'; // maxWaitMs 500, minBytes 1, maxBytes 1 MiB, isolation 1, 1 topic "t", 1 partition

/** The body after replicaId: v0's whole body. */
const V0_BODY =
  HEAD +
  '00000002' + // partition 2
  '0000000000000005' + // fetchOffset 5
  '00010000'; // partitionMaxBytes 64 KiB

/** v2's body after replicaId: Kafka's order, currentLeaderEpoch before fetchOffset. */
const V2_BODY =
  HEAD +
  '00000002' + // partition 2
  'ffffffff' + // currentLeaderEpoch −1
  '0000000000000005' + // fetchOffset 5
  'ffffffff' + // lastFetchedEpoch −1
  'ffffffffffffffff' + // logStartOffset −1
  '00010000'; // partitionMaxBytes 64 KiB

describe('Fetch wire format', () => {
  it('is at v2 in the API table, and v2 is what the SDK sends', () => {
    expect(Apis.Fetch.versions.length).toBe(3);
    expect(Apis.Fetch.newest.version).toBe(2);
    expect(Apis.Fetch.newest.request).toBe(FetchRequestV2);
  });

  it('writes a v2 request frame golden bytes: header with apiVersion 2, replicaId, then the epoch fields per partition', () => {
    const frame = encodeRequest({ apiKey: Apis.Fetch.key, apiVersion: 2, correlationId: 7, clientId: 'cli' }, FetchRequestV2, request);
    expect(hex(frame)).toBe('0001' + '0002' + '00000007' + '0003636c69' + 'ffffffff' + V2_BODY);
  });

  it('writes a follower fetch with its node id, leader epoch, last fetched epoch and log start', () => {
    const follower = { ...request, replicaId: 3, topics: [{ name: 't', partitions: [{ partition: 2, currentLeaderEpoch: 4, fetchOffset: 5, lastFetchedEpoch: 3, logStartOffset: 1, partitionMaxBytes: 65536 }] }] };
    expect(hex(encode(FetchRequestV2, follower))).toBe('00000003' + HEAD + '00000002' + '00000004' + '0000000000000005' + '00000003' + '0000000000000001' + '00010000');
  });

  it('decodes v2 as sent, and v1 and v0 (old clients) as v2 with the consumer values (−1)', () => {
    expect(decodeRequest(Apis.Fetch, 2, Buffer.from('ffffffff' + V2_BODY, 'hex'))).toEqual(request);
    expect(hex(encode(FetchRequestV1, requestV1))).toBe('ffffffff' + V0_BODY);
    expect(decodeRequest(Apis.Fetch, 1, Buffer.from('ffffffff' + V0_BODY, 'hex'))).toEqual(request);
    const { replicaId: _, ...v0 } = requestV1;
    expect(hex(encode(FetchRequestV0, v0))).toBe(V0_BODY);
    expect(decodeRequest(Apis.Fetch, 0, Buffer.from(V0_BODY, 'hex'))).toEqual(request);
  });

  it('refuses a body of one version sent as another, with WireError', () => {
    expect(() => decodeRequest(Apis.Fetch, 1, Buffer.from(V0_BODY, 'hex'))).toThrow(WireError);
    expect(() => decodeRequest(Apis.Fetch, 0, Buffer.from('ffffffff' + V0_BODY, 'hex'))).toThrow(WireError);
    expect(() => decodeRequest(Apis.Fetch, 2, Buffer.from('ffffffff' + V0_BODY, 'hex'))).toThrow(WireError);
    expect(() => decodeRequest(Apis.Fetch, 1, Buffer.from('ffffffff' + V2_BODY, 'hex'))).toThrow(WireError);
  });

  const response: FetchResponse = {
    topics: [{ name: 't', partitions: [{ partition: 2, errorCode: 0, errorMessage: null, highWatermark: 9, logStartOffset: 1, logEndOffset: 10, ...NO_FETCH_EPOCHS, records: Uint8Array.of(0xab) }] }],
  };
  const RESPONSE_HEAD = '00000001' + '000174' + '00000001' + '00000002' + '0000' + 'ffff' + '0000000000000009' + '0000000000000001' + '000000000000000a';

  it('writes a v2 response golden bytes: divergingEpoch, currentLeader, snapshotId (−1s: none) before records', () => {
    const v2 = RESPONSE_HEAD + 'ffffffff' + 'ffffffffffffffff' + 'ffffffff' + 'ffffffff' + 'ffffffffffffffff' + 'ffffffff' + '00000001ab';
    expect(hex(encode(FetchResponseV2, response))).toBe(v2);
    expect(decode(FetchResponseV2, new Uint8Array(Buffer.from(v2, 'hex')))).toEqual(response);
    const diverged = { ...response.topics[0]!.partitions[0]!, divergingEpoch: { epoch: 3, endOffset: 7 }, currentLeader: { leaderId: 2, leaderEpoch: 4 }, snapshotId: { endOffset: 6, epoch: 2 } };
    expect(hex(encode(FetchResponseV2, { topics: [{ name: 't', partitions: [diverged] }] }))).toBe(
      RESPONSE_HEAD + '00000003' + '0000000000000007' + '00000002' + '00000004' + '0000000000000006' + '00000002' + '00000001ab',
    );
  });

  it('answers v0 and v1 with the v2 answer encoded without the new fields: what old clients read', () => {
    expect(hex(encode(FetchResponseV0, response))).toBe(RESPONSE_HEAD + '00000001ab');
    expect(Apis.Fetch.versions[1]!.response).toBe(FetchResponseV0);
  });
});
