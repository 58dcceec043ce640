/** Fetch's wire encoding pinned byte for byte: v1 (replicaId first) and v0, read as v1. */
import { describe, expect, it } from 'vitest';
import { Apis, decodeRequest } from '../../protocol/apis/index.js';
import { CONSUMER_REPLICA_ID, FetchRequestV0, FetchRequestV1, IsolationLevel, type FetchRequest } from '../../protocol/apis/fetch.js';
import { encodeRequest } from '../../protocol/frame.js';
import { encode, WireError } from '../../protocol/wire/schema.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const request: FetchRequest = {
  replicaId: CONSUMER_REPLICA_ID,
  maxWaitMs: 500,
  minBytes: 1,
  maxBytes: 1 << 20,
  isolation: IsolationLevel.READ_COMMITTED,
  topics: [{ name: 't', partitions: [{ partition: 2, fetchOffset: 5, partitionMaxBytes: 65536 }] }],
};

/** The body after replicaId: v0's whole body. */
const V0_BODY =
  '000001f4' + // maxWaitMs 500
  '00000001' + // minBytes 1
  '00100000' + // maxBytes 1 MiB
  '01' + // isolation 1 (read_committed)
  '00000001' + // 1 topic
  '000174' + // name "t"
  '00000001' + // 1 partition
  '00000002' + // partition 2
  '0000000000000005' + // fetchOffset 5
  '00010000'; // partitionMaxBytes 64 KiB

describe('Fetch wire format', () => {
  it('is at v1 in the API table, and v1 is what the SDK sends', () => {
    expect(Apis.Fetch.versions.length).toBe(2);
    expect(Apis.Fetch.newest.version).toBe(1);
    expect(Apis.Fetch.newest.request).toBe(FetchRequestV1);
  });

  it('writes a v1 request frame golden bytes: header with apiVersion 1, then replicaId, then the v0 fields', () => {
    const frame = encodeRequest({ apiKey: Apis.Fetch.key, apiVersion: 1, correlationId: 7, clientId: 'cli' }, FetchRequestV1, request);
    expect(hex(frame)).toBe('0001' + '0001' + '00000007' + '0003636c69' + 'ffffffff' + V0_BODY);
  });

  it('writes a follower fetch with its node id as replicaId', () => {
    expect(hex(encode(FetchRequestV1, { ...request, replicaId: 3 }))).toBe('00000003' + V0_BODY);
  });

  it('decodes v1 as sent, and v0 (old clients) as v1 with replicaId −1', () => {
    expect(decodeRequest(Apis.Fetch, 1, Buffer.from('ffffffff' + V0_BODY, 'hex'))).toEqual(request);
    const { replicaId: _, ...v0 } = request;
    expect(hex(encode(FetchRequestV0, v0))).toBe(V0_BODY);
    expect(decodeRequest(Apis.Fetch, 0, Buffer.from(V0_BODY, 'hex'))).toEqual(request);
  });

  it('refuses a v0 body sent as v1, and a v1 body sent as v0, with WireError', () => {
    expect(() => decodeRequest(Apis.Fetch, 1, Buffer.from(V0_BODY, 'hex'))).toThrow(WireError);
    expect(() => decodeRequest(Apis.Fetch, 0, Buffer.from('ffffffff' + V0_BODY, 'hex'))).toThrow(WireError);
  });
});
