/** The bootstrap list, broker URLs and the cached cluster view: pure parsing and bookkeeping. */
import { describe, expect, it } from 'vitest';
import { bootstrapUrls, brokerUrl } from '../../gateway/client/bootstrap.js';
import { ClusterMetadata, NO_LEADER } from '../../gateway/client/cluster-metadata.js';
import { carriesErrorCode } from '../../gateway/client/client-errors.js';
import { serverUrl } from '../../cli/server-option.js';
import { failureOf } from '../helpers/failure.js';

describe('bootstrap list', () => {
  it('takes one URL, a comma-separated list or an array; trims; drops empties and duplicates, keeping order', () => {
    expect(bootstrapUrls('ws://a:9400')).toEqual(['ws://a:9400']);
    expect(bootstrapUrls(' ws://a:9400 , ws://b:9400,,ws://a:9400')).toEqual(['ws://a:9400', 'ws://b:9400']);
    expect(bootstrapUrls(['ws://b:1', 'wss://c:2,ws://b:1'])).toEqual(['ws://b:1', 'wss://c:2']);
  });

  it('refuses an empty list and names the bad entry', () => {
    expect(failureOf(() => bootstrapUrls(' , '))).toMatch(/at least one ws:\/\/ or wss:\/\/ URL/);
    expect(failureOf(() => bootstrapUrls('ws://a:1,http://b:2'))).toMatch(/server must be a ws:\/\/ or wss:\/\/ URL, got http:\/\/b:2/);
    expect(failureOf(() => bootstrapUrls(['ws://a:1', 'nope']))).toMatch(/server entry "nope" is not a URL/);
  });

  it('builds a broker URL in the scheme and path it was learned through; brackets IPv6 hosts', () => {
    expect(brokerUrl('10.0.0.7', 9400, 'ws://seed:9400')).toBe('ws://10.0.0.7:9400');
    expect(brokerUrl('::1', 9401, 'wss://seed:9400/eddy')).toBe('wss://[::1]:9401/eddy');
    expect(brokerUrl('[fe80::1]', 1, 'ws://seed:9400')).toBe('ws://[fe80::1]:1');
    expect(new URL(brokerUrl('2001:db8::5', 9400, 'ws://x:1')).port).toBe('9400');
  });
});

describe('ClusterMetadata', () => {
  const answer = {
    brokers: [
      { nodeId: 1, host: 'n1', port: 9400 },
      { nodeId: 2, host: '::1', port: 9401 },
    ],
    controllerId: 1,
    topics: [
      {
        errorCode: 0,
        errorMessage: null,
        name: 't',
        isInternal: false,
        partitions: [
          { errorCode: 0, partition: 0, leader: 1, leaderEpoch: 3, replicas: [1], isr: [1] },
          { errorCode: 5, partition: 1, leader: -1, leaderEpoch: 4, replicas: [2], isr: [] },
        ],
      },
      { errorCode: 3, errorMessage: 'no such topic', name: 'gone', isInternal: false, partitions: [] },
    ],
  };

  it('learns brokers (node id → URL) and partition leaders from a Metadata answer', () => {
    const m = new ClusterMetadata();
    expect(m.updatedAt).toBe(-Infinity);
    m.update(answer, 'ws://seed:9400', 1000);
    expect([...m.brokers]).toEqual([
      [1, 'ws://n1:9400'],
      [2, 'ws://[::1]:9401'],
    ]);
    expect(m.controllerId).toBe(1);
    expect(m.leader('t', 0)).toEqual({ leader: 1, leaderEpoch: 3 });
    expect(m.leader('t', 1)).toEqual({ leader: NO_LEADER, leaderEpoch: 4 });
    expect(m.leader('t', 2)).toBeUndefined();
    expect(m.partitionCount('t')).toBe(2);
    expect(m.partitionCount('gone')).toBeUndefined();
    expect(m.topics).toEqual(['t']);
    expect(m.updatedAt).toBe(1000);
  });

  it('forgets a topic the next answer reports as an error', () => {
    const m = new ClusterMetadata();
    m.update(answer, 'ws://seed:9400', 1);
    m.update({ brokers: [], controllerId: 1, topics: [{ ...answer.topics[1]!, name: 't' }] }, 'ws://seed:9400', 2);
    expect(m.leader('t', 0)).toBeUndefined();
    expect(m.brokers.size).toBe(2); // an answer without brokers keeps the ones known
  });
});

describe('carriesErrorCode', () => {
  it('finds an error code at the top, per topic or per partition, and nowhere in record bytes', () => {
    const codes = new Set([16]);
    expect(carriesErrorCode({ errorCode: 16 }, codes)).toBe(true);
    expect(carriesErrorCode({ topics: [{ name: 'x', partitions: [{ partition: 0, errorCode: 16 }] }] }, codes)).toBe(true);
    expect(carriesErrorCode({ topics: [{ partitions: [{ errorCode: 0, records: new Uint8Array([16]) }] }] }, codes)).toBe(false);
  });
});

describe('CLI --server', () => {
  it('takes a comma-separated bootstrap list from the flag or EDDY_SERVER', () => {
    expect(serverUrl('ws://a:1, ws://b:2,ws://a:1', {})).toBe('ws://a:1,ws://b:2');
    expect(serverUrl(undefined, { EDDY_SERVER: 'ws://a:1,wss://b:2' })).toBe('ws://a:1,wss://b:2');
    expect(serverUrl(undefined, {})).toBe('ws://127.0.0.1:9400');
  });

  it('names the entry that is not a WebSocket URL', () => {
    expect(failureOf(() => serverUrl('ws://a:1,http://b:2', {}))).toMatch(/entry "http:\/\/b:2" of --server "ws:\/\/a:1,http:\/\/b:2" is not a WebSocket URL/);
    expect(failureOf(() => serverUrl('http://x', {}))).toMatch(/^Error: --server "http:\/\/x" is not a WebSocket URL/);
    expect(failureOf(() => serverUrl(' , ', {}))).toMatch(/names no node/);
  });
});
