/** cluster.json in a real data directory, through startNode as `eddy start` calls it. */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer } from '../../gateway/client/index.js';
import { ClusterIdentityError, derivedClusterId, newClusterId, openClusterIdentity } from '../../node/cluster/cluster-identity.js';
import { CLUSTER_FILE, readClusterFile } from '../../node/cluster/cluster-file.js';
import { parseVoters } from '../../node/cluster/voters.js';
import { pollN, rejection } from '../helpers/client.js';
import { testNode } from '../helpers/node.js';
import { tempDir } from '../helpers/tmp.js';

const VOTERS = parseVoters('1@ws://host-a:9400,2@ws://host-b:9400,3@ws://host-c:9400');

describe('cluster identity', () => {
  it('makes a 22-character base64url cluster id of 16 random bytes', () => {
    const id = newClusterId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    expect(newClusterId()).not.toBe(id);
  });

  it('creates cluster.json once, a one-voter cluster of the node alone, and reuses it at the next start', async () => {
    const dir = tempDir();
    const n1 = await testNode(dir, 0, { nodeId: 1 });
    expect(n1.cluster).toEqual({ clusterId: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), nodeId: 1, voters: [{ id: 1, url: n1.url }], role: 'voter', singleNode: true });
    const file = readClusterFile(dir);
    expect(file).toEqual({ clusterId: n1.cluster.clusterId, nodeId: 1, voters: [{ id: 1, url: n1.url }] });
    expect(readdirSync(dir).filter((f) => f.startsWith('cluster'))).toEqual([CLUSTER_FILE]); // no temp file left
    await n1.close();
    // Port 0 again: another URL, the same cluster; the file follows the node's own URL.
    const n2 = await testNode(dir, 0, { nodeId: 1 });
    expect(n2.cluster.clusterId).toBe(n1.cluster.clusterId);
    expect(readClusterFile(dir)).toEqual({ clusterId: n1.cluster.clusterId, nodeId: 1, voters: [{ id: 1, url: n2.url }] });
  });

  it('refuses a data directory of another node, before opening its log', async () => {
    const dir = tempDir();
    const n = await testNode(dir, 0, { nodeId: 2 });
    await n.close();
    const err = await rejection(testNode(dir, 0, { nodeId: 3 }));
    expect(err).toBeInstanceOf(ClusterIdentityError);
    expect((err as Error).message).toMatch(/^this data directory belongs to node 2, you started node 3: start it with --node-id 2, or give node 3 a data directory of its own \(--data-dir\)/);
    // Not even the log store was opened: a data dir that has only cluster.json gets no log.db.
    const bare = tempDir();
    openClusterIdentity(bare, { nodeId: 2, voters: VOTERS }).finish('ws://host-b:9400');
    expect(() => openClusterIdentity(bare, { nodeId: 3, voters: VOTERS })).toThrow(/belongs to node 2, you started node 3/);
    await rejection(testNode(bare, 0, { nodeId: 3, voters: VOTERS }));
    expect(existsSync(join(bare, 'log.db'))).toBe(false);
  });

  it('refuses another voter list, saying both lists and what to do', async () => {
    const dir = tempDir();
    const made = openClusterIdentity(dir, { nodeId: 1, voters: VOTERS }).finish('ws://host-a:9400');
    expect(made).toMatchObject({ nodeId: 1, voters: VOTERS, role: 'voter', singleNode: false });
    // The same voters in another order are the same voters.
    expect(openClusterIdentity(dir, { nodeId: 1, voters: [...VOTERS].reverse() }).finish('ws://host-a:9400').clusterId).toBe(made.clusterId);
    const moved = parseVoters('1@ws://host-a:9400,2@ws://host-b:9400,3@ws://host-d:9400');
    expect(() => openClusterIdentity(dir, { nodeId: 1, voters: moved })).toThrow(
      'the controller quorum voters differ from the ones this data directory was created with: ' +
        'stored 1@ws://host-a:9400,2@ws://host-b:9400,3@ws://host-c:9400, configured 1@ws://host-a:9400,2@ws://host-b:9400,3@ws://host-d:9400. ' +
        'Start with --controller-quorum-voters 1@ws://host-a:9400,2@ws://host-b:9400,3@ws://host-c:9400; changing the voters of an existing cluster is not supported yet.',
    );
    expect(() => openClusterIdentity(dir, { nodeId: 1, voters: null })).toThrow(/stored 1@ws:\/\/host-a:9400,.*, configured none \(this node alone\)/);
    // A single node's directory started as one voter of three is refused the same way.
    const single = tempDir();
    openClusterIdentity(single, { nodeId: 1, voters: null }).finish('ws://127.0.0.1:9400');
    expect(() => openClusterIdentity(single, { nodeId: 1, voters: VOTERS })).toThrow(/stored 1@ws:\/\/127\.0\.0\.1:9400, configured 1@ws:\/\/host-a:9400,/);
  });

  it('a node not among the voters is an observer', () => {
    expect(openClusterIdentity(tempDir(), { nodeId: 7, voters: VOTERS }).finish('ws://host-g:9400')).toMatchObject({ nodeId: 7, role: 'observer', voters: VOTERS });
  });

  it('refuses a damaged cluster.json rather than making a new cluster id', () => {
    const dir = tempDir();
    writeFileSync(join(dir, CLUSTER_FILE), '{"clusterId": "short"');
    expect(() => openClusterIdentity(dir, { nodeId: 1, voters: null })).toThrow(/cluster\.json is not valid JSON/);
    writeFileSync(join(dir, CLUSTER_FILE), '{"clusterId": "short", "nodeId": 1, "voters": []}');
    expect(() => openClusterIdentity(dir, { nodeId: 1, voters: null })).toThrow(/does not hold \{"clusterId", "nodeId", "voters"\}/);
  });

  it('gives a data directory of the single-node version a cluster.json and keeps its topics and records', async () => {
    const dir = tempDir();
    // The single-node version's directory: the same log store, and no cluster.json (the version
    // before this one wrote none; removing the file leaves exactly what it left).
    const old = await testNode(dir, 0, { nodeId: 0 });
    const admin = new Admin({ server: old.url });
    await admin.createTopics([{ name: 'kept', partitions: 2 }]);
    await admin.close();
    const p = new Producer({ server: old.url });
    await p.send({ topic: 'kept', partition: 1, key: 'k', value: 'before the upgrade' });
    await p.close();
    await old.close();
    rmSync(join(dir, CLUSTER_FILE));
    // SQLite's -wal and -shm come and go with the open store: the rest are the data files.
    const files = () => readdirSync(dir).filter((f) => !/-(wal|shm)$/.test(f)).sort();
    const before = files();

    const n = await testNode(dir, 0, { nodeId: 0 });
    expect(files()).toEqual([...before, CLUSTER_FILE].sort());
    expect(JSON.parse(readFileSync(join(dir, CLUSTER_FILE), 'utf8'))).toEqual({ clusterId: n.cluster.clusterId, nodeId: 0, voters: [{ id: 0, url: n.url }] });
    expect(n.topics.list().filter((t) => !t.internal).map((t) => t.name)).toEqual(['kept']);
    const c = new Consumer({ server: n.url, maxWaitMs: 200, autoOffsetReset: 'earliest' });
    c.assign([{ topic: 'kept', partition: 1 }]);
    const [r] = await pollN(c, 1);
    expect(Buffer.from(r!.value!).toString()).toBe('before the upgrade');
    expect(r!.offset).toBe(0);
    await c.close();
  });
});

describe('the cluster id of a several-voter cluster', () => {
  const voters = [
    { id: 2, url: 'ws://gw-b:9400' },
    { id: 1, url: 'ws://gw-a:9400' },
  ];

  it('is derived from the secret and the voter list when --cluster-id is not given: the same on every node, another for another secret', () => {
    const secret = Buffer.from('the-shared-secret-of-this-site');
    const id = derivedClusterId(secret, voters);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(derivedClusterId(secret, [...voters].reverse())).toBe(id);
    expect(derivedClusterId(Buffer.from('another-secret-of-another-site'), voters)).not.toBe(id);
    const dir = tempDir();
    expect(openClusterIdentity(dir, { nodeId: 1, voters, newClusterId: id }).finish('ws://gw-a:9400').clusterId).toBe(id);
  });

  it('--cluster-id is taken by a new data dir, and one of another cluster is refused naming both ids', () => {
    const dir = tempDir();
    const given = newClusterId();
    expect(openClusterIdentity(dir, { nodeId: 1, voters, clusterId: given }).finish('ws://gw-a:9400').clusterId).toBe(given);
    const other = newClusterId();
    expect(() => openClusterIdentity(dir, { nodeId: 1, voters, clusterId: other })).toThrow(new RegExp(`belongs to cluster ${given}.*--cluster-id ${other}`));
    expect(openClusterIdentity(dir, { nodeId: 1, voters, clusterId: given }).stored?.clusterId).toBe(given);
  });
});
