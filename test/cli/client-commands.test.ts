import { describe, expect, it } from 'vitest';
import { startNode } from '../../app/start-node.js';
import { eddy, ROOT } from '../helpers/eddy-process.js';
import { tempDir } from '../helpers/tmp.js';

describe('eddy topics / produce / consume (real processes against a real node)', () => {
  it('walks through create, produce from stdin, consume as JSON, describe, delete', async () => {
    const node = await startNode({ dataDir: tempDir() });
    const env = { EDDY_SERVER: node.url };

    const created = await eddy(['topics', 'create', 'sensors', '--partitions', '3', '--config', 'retention.ms=3600000'], { env });
    expect(created).toMatchObject({ code: 0, out: 'created topic sensors with 3 partitions\n' });
    expect((await eddy(['topics', 'list'], { env })).out).toBe('sensors\n');

    const produced = await eddy(['produce', 'sensors', '--key-separator', ':'], { env, input: 'dev1:21.5\ndev2:19.0\ndev1:22.0\n' });
    expect(produced.code).toBe(0);
    expect(produced.err).toBe('produced 3 records to sensors (acks=all)\n');

    const consumed = await eddy(['consume', 'sensors', '--from-beginning', '--max-messages', '3', '--format', 'json'], { env });
    expect(consumed.code).toBe(0);
    const records = consumed.out.trim().split('\n').map((l) => JSON.parse(l) as { key: string; value: string; partition: number; offset: number });
    expect(records.map((r) => `${r.key}=${r.value}`).sort()).toEqual(['dev1=21.5', 'dev1=22.0', 'dev2=19.0']);
    const dev1 = records.filter((r) => r.key === 'dev1');
    expect(dev1[0]!.partition).toBe(dev1[1]!.partition); // same key, same partition
    expect(dev1.map((r) => r.value)).toEqual(['21.5', '22.0']); // in order within it

    const byValue = await eddy(['consume', 'sensors', '--partition', String(dev1[0]!.partition), '--offset', '1', '--max-messages', '1'], { env });
    expect(byValue.out).toBe('22.0\n');

    const described = await eddy(['topics', 'describe', 'sensors'], { env });
    expect(described.out).toMatch(/^topic sensors: 3 partitions, 3 records, \d+ B\n/);
    expect(described.out).toMatch(/PARTITION {2}LEADER {2}REPLICAS {2}ISR {2}LOG-START {2}LOG-END {2}HIGH-WATERMARK {2}SIZE/);
    expect(described.out).toMatch(/retention\.ms +3600000 +topic/);
    expect(described.out).toMatch(/cleanup\.policy +delete +default/);

    expect((await eddy(['topics', 'delete', 'sensors'], { env })).out).toBe('deleted topic sensors\n');
    expect((await eddy(['topics', 'list'], { env })).out).toBe('');
    await node.close();
  }, 60_000); // several CLI processes: slow on a loaded 2-core machine

  it('exits quietly when its output pipe closes early (eddy … | head)', async () => {
    const node = await startNode({ dataDir: tempDir() });
    const env = { EDDY_SERVER: node.url };
    await eddy(['topics', 'create', 'many', '--partitions', '200'], { env });
    const { spawn } = await import('node:child_process');
    const shell = spawn('sh', ['-c', `node --import tsx cli/main.ts topics describe many | head -1`], { cwd: ROOT, env: { ...process.env, ...env } });
    let err = '';
    shell.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise((r) => shell.once('close', r));
    expect(code).toBe(0);
    expect(err).not.toMatch(/EPIPE|Unhandled/);
    await node.close();
  });

  it('stops consuming after --timeout-ms without records', async () => {
    const node = await startNode({ dataDir: tempDir() });
    const env = { EDDY_SERVER: node.url };
    await eddy(['topics', 'create', 'quiet', '--partitions', '1'], { env });
    const r = await eddy(['consume', 'quiet', '--timeout-ms', '300'], { env });
    expect(r).toMatchObject({ code: 0, out: '' });
    await node.close();
  });

  it('prints one clear error line and exits 1 on bad requests and bad flags', async () => {
    const node = await startNode({ dataDir: tempDir() });
    const env = { EDDY_SERVER: node.url };
    await eddy(['topics', 'create', 'once', '--partitions', '1'], { env });
    const cases: [string[], RegExp][] = [
      [['topics', 'create', 'once', '--partitions', '1'], /^eddy: TOPIC_ALREADY_EXISTS: create topic once: topic "once" already exists\. Use the existing topic or pick another name\.\n$/],
      [['topics', 'create', 'x', '--partitions', '1', '--replication-factor', '2'], /^eddy: INVALID_REPLICATION_FACTOR: .*partitions are not replicated yet/],
      [['topics', 'create', 'x', '--partitions', '1', '--config', 'retention.ms=soon'], /^eddy: INVALID_CONFIG: .*retention\.ms=soon must be an integer/],
      [['topics', 'create', 'x', '--partitions', '1', '--config', 'oops'], /^eddy: --config "oops" must look like name=value/],
      [['topics', 'describe', 'nope'], /^eddy: UNKNOWN_TOPIC_OR_PARTITION: .*topic "nope" does not exist/],
      [['consume', 'once', '--offset', '3'], /^eddy: --offset needs --partition/],
      [['consume', 'once', '--format', 'xml'], /^eddy: --format must be value or json/],
      [['topics', 'list', '--server', 'http://x'], /^eddy: --server "http:\/\/x" is not a WebSocket URL/],
      [['topics', 'list', '--server', 'ws://127.0.0.1:1'], /^eddy: REQUEST_TIMED_OUT: no connection to ws:\/\/127\.0\.0\.1:1 within 10000 ms to send Metadata \(last attempt: .*ECONNREFUSED.*\); is an eddy node running and reachable there\?/],
    ];
    for (const [args, pattern] of cases) {
      const r = await eddy(args, { env });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toMatch(pattern);
    }
    await node.close();
  }, 60_000);
  it('consume --group shares the topic with the group and resumes where the group left off, committing exactly what it printed', async () => {
    const node = await startNode({ dataDir: tempDir() });
    const env = { EDDY_SERVER: node.url };
    await eddy(['topics', 'create', 'orders', '--partitions', '3'], { env });
    await eddy(['produce', 'orders', '--key-separator', ':'], { env, input: Array.from({ length: 9 }, (_, i) => `k${i}:o${i}`).join('\n') + '\n' });
    const first = await eddy(['consume', 'orders', '--group', 'billing', '--from-beginning', '--max-messages', '4'], { env });
    expect(first.code).toBe(0);
    const second = await eddy(['consume', 'orders', '--group', 'billing', '--max-messages', '5', '--timeout-ms', '5000'], { env });
    expect(second.code).toBe(0);
    const values = [...first.out.trim().split('\n'), ...second.out.trim().split('\n')];
    expect(values.sort()).toEqual(Array.from({ length: 9 }, (_, i) => `o${i}`).sort()); // each exactly once
    const third = await eddy(['consume', 'orders', '--group', 'billing', '--timeout-ms', '1500'], { env });
    expect(third).toMatchObject({ code: 0, out: '' });
    const bad = await eddy(['consume', 'orders', '--group', 'billing', '--partition', '0'], { env });
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/--group assigns partitions itself/);
    await node.close();
  }, 30_000);
});
