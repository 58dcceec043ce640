/** `eddy start`'s cluster settings as an operator meets them (real child processes). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eddy, eddyStart } from '../helpers/eddy-process.js';
import { parseBanner } from '../../cli/banner.js';
import { tempDir } from '../helpers/tmp.js';

describe('eddy start: cluster identity', () => {
  it('prints the cluster id, node id and role, keeps the cluster id across restarts, and refuses another node id', async () => {
    const dir = tempDir();
    const first = await eddyStart(['--data-dir', dir, '--port', '0']);
    const banner = parseBanner(first.output())!;
    expect(banner.cluster).toEqual({ clusterId: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/), nodeId: 1, role: 'voter' });
    expect(first.output()).toMatch(/^ {2}cluster: {4}[A-Za-z0-9_-]{22}, node 1, voter \(single node\)$/m);
    expect(first.output()).toMatch(/websocket: {2}ws:\/\/127\.0\.0\.1:\d+ \(peer links at \/eddy-peer\)/);
    expect(await first.stop()).toBe(0);

    const again = await eddyStart(['--data-dir', dir, '--port', '0']);
    expect(parseBanner(again.output())!.cluster!.clusterId).toBe(banner.cluster!.clusterId);
    expect(await again.stop()).toBe(0);

    const r = await eddy(['start', '--data-dir', dir, '--port', '0', '--node-id', '3', '--no-mqtt', '--no-http']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^eddy: this data directory belongs to node 1, you started node 3: start it with --node-id 1/);
  }, 60_000);

  it('refuses several voters without a secret, and starts an observer of them with one', async () => {
    const voters = '1@ws://gw-a:9400,2@ws://gw-b:9400';
    const r = await eddy(['start', '--data-dir', tempDir(), '--node-id', '1', '--controller-quorum-voters', voters]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--controller-quorum-voters lists 2 voters but --cluster-secret-file is not set .*head -c 32 \/dev\/urandom \| base64 > \/etc\/eddy\/cluster.secret && chmod 600/);
    const secret = join(tempDir(), 'cluster.secret');
    writeFileSync(secret, 'c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IQ==\n');
    const node = await eddyStart(['--data-dir', tempDir(), '--port', '0', '--node-id', '5'], { EDDY_CONTROLLER_QUORUM_VOTERS: voters, EDDY_CLUSTER_SECRET_FILE: secret });
    expect(node.output()).toMatch(/cluster: {4}[A-Za-z0-9_-]{22}, node 5, observer, 2 voters \(2 others\)/);
    expect(await node.stop()).toBe(0);
  }, 60_000);
});
