import { describe, expect, it } from 'vitest';
import { eddy } from '../helpers/eddy-process.js';
import { testNode } from '../helpers/node.js';

describe('eddy topics alter (real processes against a real node)', () => {
  it('sets and deletes configs and adds partitions, printing what changed; describe shows the sources', async () => {
    const node = await testNode();
    const env = { EDDY_SERVER: node.url };
    await eddy(['topics', 'create', 'sensors', '--partitions', '2', '--config', 'retention.bytes=1000000'], { env });

    const altered = await eddy(
      ['topics', 'alter', 'sensors', '--config', 'retention.ms=3600000', '--delete-config', 'retention.bytes', '--partitions', '4'],
      { env },
    );
    expect(altered).toMatchObject({ code: 0, err: '' });
    expect(altered.out).toBe(
      [
        'sensors: retention.ms 604800000 (default) → 3600000 (topic)',
        'sensors: retention.bytes 1000000 (topic) → -1 (default)',
        'sensors: partitions 2 → 4',
        '',
      ].join('\n'),
    );

    const described = await eddy(['topics', 'describe', 'sensors'], { env });
    expect(described.out).toMatch(/^topic sensors: 4 partitions, /);
    expect(described.out).toMatch(/retention\.ms +3600000 +topic/);
    expect(described.out).toMatch(/retention\.bytes +-1 +default/);
    expect(described.out).toMatch(/cleanup\.policy +delete +default/);
  }, 60_000);

  it('prints one clear error line and exits 1, changing nothing', async () => {
    const node = await testNode();
    const env = { EDDY_SERVER: node.url };
    await eddy(['topics', 'create', 't', '--partitions', '6'], { env });
    const cases: [string[], RegExp][] = [
      [['topics', 'alter', 't', '--partitions', '3'], /^eddy: INVALID_PARTITIONS: create partitions of topic t: topic t has 6 partitions; partitions can only be added, never removed\. /],
      [['topics', 'alter', 't', '--config', 'retention.ms=soon', '--config', 'segment.ms=1'], /^eddy: INVALID_CONFIG: alter configs of topic t: retention\.ms=soon must be an integer ≥ -1; unknown config "segment\.ms"/],
      [['topics', 'alter', 't', '--delete-config', 'bogus'], /^eddy: INVALID_CONFIG: .*unknown config "bogus"/],
      [['topics', 'alter', 't', '--config', 'oops'], /^eddy: --config "oops" must look like name=value/],
      [['topics', 'alter', 't'], /^eddy: nothing to change: give --config name=value, --delete-config name or --partitions N\n$/],
      [['topics', 'alter', 'nope', '--partitions', '2'], /^eddy: UNKNOWN_TOPIC_OR_PARTITION: .*topic "nope" does not exist/],
      [['topics', 'alter', '__consumer_offsets', '--config', 'retention.ms=1'], /^eddy: INVALID_TOPIC_EXCEPTION: .*"__consumer_offsets" is an internal topic and cannot be reconfigured/],
      // A refused config change stops before the partitions.
      [['topics', 'alter', 't', '--config', 'retention.ms=x', '--partitions', '8'], /^eddy: INVALID_CONFIG: /],
    ];
    // All refused, so they may run side by side.
    const results = await Promise.all(cases.map(([args]) => eddy(args, { env })));
    for (const [i, [args, pattern]] of cases.entries()) {
      const r = results[i]!;
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toMatch(pattern);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    const described = await eddy(['topics', 'describe', 't'], { env });
    expect(described.out).toMatch(/^topic t: 6 partitions, /);
    expect(described.out).toMatch(/retention\.ms +604800000 +default/);
  }, 60_000); // each eddy process starts through tsx: about a second, several on a loaded machine
});
