import { describe, expect, it } from 'vitest';
import { checkPeerIdentity } from '../../node/cluster/cluster-identity.js';
import { formatVoters, parseVoters, roleOf, sameVoters } from '../../node/cluster/voters.js';

const VOTERS = parseVoters('1@ws://host-a:9400,2@ws://host-b:9400,3@wss://host-c:9443');

describe('controller quorum voters', () => {
  it('parses id@url lists', () => {
    expect(VOTERS).toEqual([
      { id: 1, url: 'ws://host-a:9400' },
      { id: 2, url: 'ws://host-b:9400' },
      { id: 3, url: 'wss://host-c:9443' },
    ]);
    expect(parseVoters(' 0@ws://[::1]:9400 ')).toEqual([{ id: 0, url: 'ws://[::1]:9400' }]);
    expect(formatVoters([...VOTERS].reverse())).toBe('1@ws://host-a:9400,2@ws://host-b:9400,3@wss://host-c:9443');
    expect(sameVoters(VOTERS, [...VOTERS].reverse())).toBe(true);
    expect(roleOf(2, VOTERS)).toBe('voter');
    expect(roleOf(4, VOTERS)).toBe('observer');
  });

  it('says what is wrong with each bad entry', () => {
    const bad = (s: string) => {
      try {
        parseVoters(s);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error(`accepted ${s}`);
    };
    expect(bad('')).toMatch(/must list the voters as <id>@ws:\/\/host:port/);
    expect(bad('a@ws://x:1')).toBe('"a@ws://x:1" is not <id>@ws://host:port');
    expect(bad('-1@ws://x:1')).toBe('"-1@ws://x:1" is not <id>@ws://host:port');
    expect(bad('1@http://x:1')).toBe('"1@http://x:1": the URL must start with ws:// or wss://, got http://');
    expect(bad('1@ws://x')).toBe('"1@ws://x": the URL must name the port (the node\'s --port), e.g. ws://x:9400');
    expect(bad('1@ws://x:1/eddy-peer')).toMatch(/must be just ws:\/\/host:port: peer links use the path set by --peer-path/);
    expect(bad('1@ws://a:1,1@ws://b:1')).toBe('node id 1 is listed 2 times: each voter needs its own id');
    expect(bad('1@ws://a:1,2@ws://a:1')).toBe('ws://a:1 is listed for nodes 1 and 2: each voter needs its own address');
    expect(bad('1@ws://a:1,x,2@nope')).toBe('"x" is not <id>@ws://host:port; "2@nope": "nope" is not a URL; use ws://host:port or wss://host:port');
    expect(bad('99999999999@ws://a:1')).toMatch(/node id must be a whole number from 0 to 2147483647/);
  });
});

describe('checkPeerIdentity', () => {
  const local = { clusterId: 'MkU3OEVBNTcwNTJENDM2Qk', nodeId: 1, voters: VOTERS };
  it('accepts a voter of the same cluster and voters, and an observer with an id of its own', () => {
    expect(checkPeerIdentity(local, { ...local, nodeId: 2 })).toBeNull();
    expect(checkPeerIdentity(local, { ...local, nodeId: 7, role: 'observer' })).toBeNull();
  });
  it('refuses with a code', () => {
    const code = (remote: Parameters<typeof checkPeerIdentity>[1]) => checkPeerIdentity(local, remote)?.code;
    expect(code({ ...local, nodeId: 2, clusterId: 'AAAAAAAAAAAAAAAAAAAAAA' })).toBe('CLUSTER_ID_MISMATCH');
    expect(code({ ...local })).toBe('DUPLICATE_NODE_ID');
    expect(code({ ...local, nodeId: 7 })).toBe('UNKNOWN_NODE_ID');
    expect(code({ ...local, nodeId: 3, role: 'observer' })).toBe('OBSERVER_ID_IS_A_VOTER');
    expect(code({ ...local, nodeId: 2, voters: VOTERS.slice(0, 2) })).toBe('VOTERS_MISMATCH');
    expect(code({ ...local, nodeId: 7, role: 'observer', voters: VOTERS.slice(0, 2) })).toBe('VOTERS_MISMATCH');
  });
});
