/** `eddy groups …` as real processes against a real (in-process) node. */
import { afterEach, describe, expect, it } from 'vitest';
import { Apis } from '../../protocol/apis/index.js';
import { startNode, type RunningNode } from '../../app/start-node.js';
import { Admin, Connection, Producer } from '../../gateway/client/index.js';
import { eddy } from '../helpers/eddy-process.js';
import { tempDir } from '../helpers/tmp.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A node with topic `t`: 5 records in partition 0, 3 in partition 1. */
async function setup(): Promise<{ node: RunningNode; admin: Admin; env: Record<string, string> }> {
  const node = await startNode({ dataDir: tempDir() });
  cleanups.push(() => node.close());
  const admin = new Admin({ server: node.url });
  cleanups.push(() => admin.close());
  await admin.createTopics([{ name: 't', partitions: 2 }]);
  const p = new Producer({ server: node.url });
  await Promise.all([...Array.from({ length: 5 }, () => 0), ...Array.from({ length: 3 }, () => 1)].map((partition, i) => p.send({ topic: 't', partition, value: `v${i}` })));
  await p.close();
  return { node, admin, env: { EDDY_SERVER: node.url } };
}

describe('eddy groups', () => {
  it('resets offsets (dry run, earliest, latest, offset), then describes, lists and deletes the group', async () => {
    const { admin, env } = await setup();
    expect(await eddy(['groups', 'list'], { env })).toMatchObject({ code: 0, out: 'no consumer groups\n' });

    const dry = await eddy(['groups', 'reset-offsets', 'g', '--topic', 't', '--to-latest', '--dry-run'], { env });
    expect(dry).toMatchObject({ code: 0, err: '' });
    expect(dry.out).toBe(['TOPIC  PARTITION  NEW-OFFSET', 't              0           5', 't              1           3', 'dry run: nothing committed', ''].join('\n'));
    expect(await admin.fetchOffsets('g')).toEqual([]);

    const latest = await eddy(['groups', 'reset-offsets', 'g', '--topic', 't', '--to-latest'], { env });
    expect(latest.code).toBe(0);
    expect(latest.out).toMatch(/^t +0 +5$/m);
    expect(latest.out).toMatch(/^committed new offsets of group g on 2 partitions of t$/m);
    expect((await admin.fetchOffsets('g')).map((o) => o.offset)).toEqual([5, 3]);

    const earliest = await eddy(['groups', 'reset-offsets', 'g', '--topic', 't', '--to-earliest'], { env });
    expect(earliest.out).toMatch(/^t +1 +0$/m);
    expect((await admin.fetchOffsets('g')).map((o) => o.offset)).toEqual([0, 0]);

    // --to-offset is taken as given, even past the end of partition 1.
    const exact = await eddy(['groups', 'reset-offsets', 'g', '--topic', 't', '--to-offset', '4'], { env });
    expect(exact.out).toMatch(/^t +1 +4$/m);
    expect((await admin.fetchOffsets('g')).map((o) => o.offset)).toEqual([4, 4]);

    await eddy(['groups', 'reset-offsets', 'g', '--topic', 't', '--to-offset', '2'], { env });
    const described = await eddy(['groups', 'describe', 'g'], { env });
    expect(described.code).toBe(0);
    const lines = described.out.split('\n');
    expect(lines.slice(0, 2)).toEqual(['group g: empty, 0 members, assignor -, epoch 0', '']);
    expect(lines[2]).toMatch(/^TOPIC {2}PARTITION {2}CURRENT-OFFSET {2}LOG-END-OFFSET {2}LAG {2}CONSUMER-ID {2}HOST {2}CLIENT-ID$/);
    // LAG = LOG-END-OFFSET − CURRENT-OFFSET
    expect(lines[3]).toMatch(/^t +0 +2 +5 +3 +- +- +-$/);
    expect(lines[4]).toMatch(/^t +1 +2 +3 +1 +- +- +-$/);
    expect(lines.slice(5)).toEqual(['']); // no members table

    const listed = await eddy(['groups', 'list'], { env });
    expect(listed.out).toMatch(/^GROUP {2}STATE {2}MEMBERS {2}ASSIGNOR\ng +empty +0 +-\n$/);

    expect(await eddy(['groups', 'delete', 'g'], { env })).toMatchObject({ code: 0, out: 'deleted group g\n' });
    expect((await eddy(['groups', 'list'], { env })).out).toBe('no consumer groups\n');
  }, 60_000);

  it('shows members and refuses to reset or delete a group that has them', async () => {
    const { node, admin, env } = await setup();
    await admin.resetOffsets('live', [{ topic: 't', partition: 0, offset: 1 }]);
    const conn = new Connection({ url: node.url, clientId: 'raw-member' });
    cleanups.push(() => conn.close());
    const joined = await conn.request(Apis.ConsumerGroupHeartbeat, {
      groupId: 'live', memberId: '', memberEpoch: 0, rebalanceTimeoutMs: -1, sessionTimeoutMs: -1,
      subscribedTopicNames: ['t'], subscribedTopicRegex: null, serverAssignor: null, ownedPartitions: [], maxWaitMs: 0,
    });

    const described = await eddy(['groups', 'describe', 'live'], { env });
    expect(described.code).toBe(0);
    expect(described.out).toMatch(/^group live: (assigning|stable), 1 member, assignor sticky, epoch [1-9]\d*\n\n/);
    const id = joined.memberId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(described.out).toMatch(new RegExp(`^t +0 +1 +5 +4 +${id} +127\\.0\\.0\\.1\\S* +raw-member$`, 'm'));
    expect(described.out).toMatch(new RegExp(`^t +1 +- +3 +- +${id} +127\\.0\\.0\\.1\\S* +raw-member$`, 'm'));
    expect(described.out).toMatch(/\n\nCONSUMER-ID +HOST +CLIENT-ID +EPOCH +#PARTITIONS +ASSIGNMENT\n/);
    expect(described.out).toMatch(new RegExp(`^${id} +127\\.0\\.0\\.1\\S* +raw-member +[1-9]\\d* +2 +t:0,1$`, 'm'));

    const refused = /^eddy: NON_EMPTY_GROUP: group live has active members, so its offsets cannot be reset \(nothing was committed\)\. Stop the group's consumers \(eddy groups describe shows them\), then retry\.\n$/;
    for (const dryRun of [[], ['--dry-run']]) {
      const r = await eddy(['groups', 'reset-offsets', 'live', '--topic', 't', '--to-earliest', ...dryRun], { env });
      expect(r).toMatchObject({ code: 1, out: '' });
      expect(r.err).toMatch(refused);
    }
    expect((await admin.fetchOffsets('live')).map((o) => o.offset)).toEqual([1]);

    const del = await eddy(['groups', 'delete', 'live'], { env });
    expect(del).toMatchObject({ code: 1, out: '' });
    expect(del.err).toMatch(/^eddy: NON_EMPTY_GROUP: delete group live: .*active member.*Stop the group's consumers/);
  }, 60_000);

  it('prints one clear error line and exits 1 on bad flags and unknown names', async () => {
    const { env } = await setup();
    const cases: [string[], RegExp][] = [
      [['groups', 'reset-offsets', 'g', '--topic', 't'], /^eddy: reset-offsets needs exactly one of --to-earliest, --to-latest or --to-offset <n>\n$/],
      [['groups', 'reset-offsets', 'g', '--topic', 't', '--to-earliest', '--to-offset', '3'], /^eddy: reset-offsets needs exactly one of .*, not several\n$/],
      [['groups', 'reset-offsets', 'g', '--topic', 't', '--to-offset', '-1'], /^eddy: --to-offset must be a whole number ≥ 0, got "-1"\n$/],
      [['groups', 'reset-offsets', 'g', '--topic', 'nope', '--to-latest'], /^eddy: UNKNOWN_TOPIC_OR_PARTITION: .*topic "nope" does not exist/],
      [['groups', 'delete', 'ghost'], /^eddy: GROUP_ID_NOT_FOUND: delete group ghost: group "ghost" does not exist\. Check the name with eddy groups list\.\n$/],
      [['groups', 'describe', 'ghost'], /^eddy: GROUP_ID_NOT_FOUND: describe group ghost: group "ghost" does not exist\./],
    ];
    for (const [args, pattern] of cases) {
      const r = await eddy(args, { env });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toMatch(pattern);
    }
  }, 60_000);
});
