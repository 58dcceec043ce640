/** `eddy cluster describe` as a real process against a real (in-process) node. */
import { afterEach, describe, expect, it } from 'vitest';
import { startNode } from '../../app/start-node.js';
import { describeClusterLines } from '../../cli/cluster.js';
import { eddy } from '../helpers/eddy-process.js';
import { tempDir } from '../helpers/tmp.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('eddy cluster describe', () => {
  it('prints the quorum status, the leader voter row and the registered broker', async () => {
    const node = await startNode({ dataDir: tempDir(), nodeId: 2 });
    cleanups.push(() => node.close());
    const r = await eddy(['cluster', 'describe', '--server', node.url]);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(new RegExp(`^ClusterId: +${node.cluster.clusterId}$`, 'm'));
    expect(r.out).toMatch(/^LeaderId: +2$/m);
    expect(r.out).toMatch(/^LeaderEpoch: +[1-9]\d*$/m);
    expect(r.out).toMatch(/^HighWatermark: +[1-9]\d*$/m);
    expect(r.out).toMatch(/^MaxFollowerLag: +0$/m);
    expect(r.out).toMatch(/^CurrentVoters: +\[2\]$/m);
    expect(r.out).toMatch(/^CurrentObservers: +\[\]$/m);
    expect(r.out).toMatch(/^NODE-ID +LOG-END-OFFSET +LAG +LAST-FETCH +LAST-CAUGHT-UP +STATUS$/m);
    expect(r.out).toMatch(/^ +2 +[1-9]\d* +0 +\d+ ms ago +\d+ ms ago +Leader$/m);
    expect(r.out).toMatch(new RegExp(`^ +2 +${node.url.replace(/[.]/g, '\\.')} +\\d+ +unfenced$`, 'm'));
  });

  it('says which node leads when asked of one that does not, and exits 1', async () => {
    const node = await startNode({ dataDir: tempDir(), nodeId: 1, voters: [{ id: 1, url: 'ws://127.0.0.1:1' }, { id: 2, url: 'ws://127.0.0.1:2' }] });
    cleanups.push(() => node.close());
    const r = await eddy(['cluster', 'describe', '--server', node.url]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^eddy: .*node 1 is not the metadata leader; no metadata leader is elected yet/);
  });

  it('shows followers that have not fetched as never heard from', () => {
    const now = 1_700_000_010_000;
    const lines = describeClusterLines(
      {
        clusterId: 'c',
        leaderId: 1,
        leaderEpoch: 4,
        highWatermark: 10,
        voters: [
          { nodeId: 1, logEndOffset: 12, lastFetchTimestamp: now, lastCaughtUpTimestamp: now },
          { nodeId: 2, logEndOffset: 9, lastFetchTimestamp: now - 250, lastCaughtUpTimestamp: now - 1000 },
          { nodeId: 3, logEndOffset: -1, lastFetchTimestamp: -1, lastCaughtUpTimestamp: -1 },
        ],
        observers: [{ nodeId: 7, logEndOffset: 12, lastFetchTimestamp: now - 5, lastCaughtUpTimestamp: now - 5 }],
        brokers: [],
      },
      now,
    ).join('\n');
    expect(lines).toMatch(/^MaxFollowerLag: +unknown \(1 of 3 not heard from\)$/m);
    expect(lines).toMatch(/^CurrentVoters: +\[1,2,3\]$/m);
    expect(lines).toMatch(/^CurrentObservers: +\[7\]$/m);
    expect(lines).toMatch(/^ +2 +9 +3 +250 ms ago +1000 ms ago +Follower$/m);
    expect(lines).toMatch(/^ +3 +- +- +never +never +Follower$/m);
    expect(lines).toMatch(/^ +7 +12 +0 +5 ms ago +5 ms ago +Observer$/m);
    expect(lines).toMatch(/^no brokers registered in the cluster metadata$/m);
  });
});
