/** The cluster settings of `eddy start`: --node-id, --controller-quorum-voters, --cluster-secret-file, --peer-path. */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../node/config.js';
import { problems } from '../helpers/config-problems.js';
import { tempDir } from '../helpers/tmp.js';


const VOTERS = '1@ws://host-a:9400,2@ws://host-b:9400,3@ws://host-c:9400';
const PARSED = [
  { id: 1, url: 'ws://host-a:9400' },
  { id: 2, url: 'ws://host-b:9400' },
  { id: 3, url: 'ws://host-c:9400' },
];

function secretFile(text = 'c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IQ==\n'): string {
  const path = join(tempDir(), 'cluster.secret');
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

describe('cluster config', () => {
  it('without cluster settings, is node 1 alone with peer links at /eddy-peer', () => {
    expect(loadConfig()).toMatchObject({ nodeId: 1, controllerQuorumVoters: null, clusterSecretFile: null, clusterSecret: null, peerPath: '/eddy-peer' });
    expect(loadConfig({ flags: { nodeId: '4' } }).nodeId).toBe(4);
  });

  it('takes every cluster setting from flags, EDDY_* variables or the config file', () => {
    const secret = secretFile();
    const fromFlags = loadConfig({ flags: { nodeId: '2', controllerQuorumVoters: VOTERS, clusterSecretFile: secret, peerPath: '/peers' } });
    expect(fromFlags).toMatchObject({ nodeId: 2, controllerQuorumVoters: PARSED, clusterSecretFile: secret, peerPath: '/peers' });
    expect(fromFlags.clusterSecret!.toString()).toBe('c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IQ=='); // trimmed, not decoded
    const fromEnv = loadConfig({ env: { EDDY_NODE_ID: '3', EDDY_CONTROLLER_QUORUM_VOTERS: VOTERS, EDDY_CLUSTER_SECRET_FILE: secret, EDDY_PEER_PATH: '/p' } });
    expect(fromEnv).toMatchObject({ nodeId: 3, controllerQuorumVoters: PARSED, peerPath: '/p' });
    const file = join(tempDir(), 'eddy.json');
    writeFileSync(file, JSON.stringify({ 'node-id': 1, 'controller-quorum-voters': VOTERS, 'cluster-secret-file': secret, 'peer-path': '/eddy/peer' }));
    expect(loadConfig({ flags: { config: file } })).toMatchObject({ nodeId: 1, controllerQuorumVoters: PARSED, clusterSecretFile: secret, peerPath: '/eddy/peer' });
    // flags over env over the file
    expect(loadConfig({ flags: { config: file, nodeId: '3' }, env: { EDDY_NODE_ID: '2' } }).nodeId).toBe(3);
  });

  it('one voter needs no secret; a node not among the voters is allowed (an observer)', () => {
    expect(loadConfig({ flags: { nodeId: '5', controllerQuorumVoters: '5@ws://gw:9400' } })).toMatchObject({ nodeId: 5, clusterSecret: null });
    expect(loadConfig({ flags: { nodeId: '9', controllerQuorumVoters: VOTERS, clusterSecretFile: secretFile() } }).nodeId).toBe(9);
  });

  it('says what is wrong with each bad cluster field', () => {
    expect(problems(() => loadConfig({ flags: { nodeId: '-1' } }))).toEqual(['--node-id = "-1": must be a whole number from 0 to 2147483647']);
    expect(problems(() => loadConfig({ env: { EDDY_NODE_ID: 'one' } }))).toEqual(['EDDY_NODE_ID = "one": must be a whole number from 0 to 2147483647']);
    expect(problems(() => loadConfig({ flags: { nodeId: '1', controllerQuorumVoters: '1@http://a:1,1@ws://b:2' } }))).toEqual([
      '--controller-quorum-voters = "1@http://a:1,1@ws://b:2": "1@http://a:1": the URL must start with ws:// or wss://, got http://',
    ]);
    expect(problems(() => loadConfig({ flags: { nodeId: '1', controllerQuorumVoters: '1@ws://a:1,1@ws://b:2' } }))).toEqual([
      '--controller-quorum-voters = "1@ws://a:1,1@ws://b:2": node id 1 is listed 2 times: each voter needs its own id',
    ]);
    expect(problems(() => loadConfig({ env: { EDDY_NODE_ID: '1', EDDY_CONTROLLER_QUORUM_VOTERS: '1@ws://a:1,2@ws://a:1' } }))).toEqual([
      'EDDY_CONTROLLER_QUORUM_VOTERS = "1@ws://a:1,2@ws://a:1": ws://a:1 is listed for nodes 1 and 2: each voter needs its own address',
    ]);
    expect(problems(() => loadConfig({ flags: { peerPath: 'eddy-peer' } }))).toEqual([
      '--peer-path = "eddy-peer": must be a URL path such as /eddy-peer: a "/" and then letters, digits, ".", "_", "~", "-" or "/"',
    ]);
    expect(problems(() => loadConfig({ flags: { peerPath: '/' } }))[0]).toMatch(/^--peer-path = "\/": must be a URL path/);
    const file = join(tempDir(), 'eddy.json');
    writeFileSync(file, JSON.stringify({ 'controller-quorum-voters': 'x', 'node-id': 1 }));
    expect(problems(() => loadConfig({ flags: { config: file } }))).toEqual([`"controller-quorum-voters" in ${file} = "x": "x" is not <id>@ws://host:port`]);
  });

  it('needs --node-id with voters', () => {
    expect(problems(() => loadConfig({ flags: { controllerQuorumVoters: '1@ws://a:9400' } }))).toEqual([
      '--controller-quorum-voters is set but --node-id is not (EDDY_NODE_ID): give this node\'s id, one of the voters (1), or an id of its own to run as an observer',
    ]);
  });

  it('refuses more than one voter without a secret, naming the flag and how to make one', () => {
    const p = problems(() => loadConfig({ flags: { nodeId: '1', controllerQuorumVoters: VOTERS } }));
    expect(p).toEqual([
      '--controller-quorum-voters lists 3 voters but --cluster-secret-file is not set (EDDY_CLUSTER_SECRET_FILE): peer nodes authenticate with a shared secret; ' +
        'make one with: head -c 32 /dev/urandom | base64 > /etc/eddy/cluster.secret && chmod 600 /etc/eddy/cluster.secret, ' +
        'copy the same file to every node, and pass --cluster-secret-file /etc/eddy/cluster.secret (or EDDY_CLUSTER_SECRET_FILE)',
    ]);
  });

  it('reads the secret file at start-up and refuses one that is missing, unreadable, empty or short', () => {
    const dir = tempDir();
    const flags = (file: string) => ({ flags: { nodeId: '1', controllerQuorumVoters: VOTERS, clusterSecretFile: file } });
    const missing = join(dir, 'none.secret');
    expect(problems(() => loadConfig(flags(missing)))).toEqual([
      `--cluster-secret-file = ${JSON.stringify(missing)}: the cluster secret file does not exist; make one with: head -c 32 /dev/urandom | base64 > ${missing} && chmod 600 ${missing}, copy the same file to every node, and pass --cluster-secret-file ${missing} (or EDDY_CLUSTER_SECRET_FILE)`,
    ]);
    expect(problems(() => loadConfig(flags(dir)))[0]).toMatch(/the cluster secret file is a directory; make one with: head -c 32/);
    expect(problems(() => loadConfig(flags(secretFile(' \n\n'))))[0]).toMatch(/: the cluster secret file is empty; make one with: head -c 32 \/dev\/urandom/);
    expect(problems(() => loadConfig(flags(secretFile('short-secret\n'))))[0]).toMatch(/: the cluster secret is 12 bytes, shorter than 16; make one with/);
    expect(loadConfig(flags(secretFile('exactly16bytes!!'))).clusterSecret).toHaveLength(16);
    if (process.getuid?.() !== 0) {
      const locked = secretFile();
      chmodSync(locked, 0o000);
      expect(problems(() => loadConfig(flags(locked)))[0]).toMatch(/the cluster secret file cannot be read by this user; make one/);
    }
  });
});
