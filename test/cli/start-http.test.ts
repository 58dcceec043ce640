/** `eddy start`'s health and metrics port, as an operator meets it (real child processes). */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { eddy, eddyStart } from '../helpers/eddy-process.js';
import { scrape } from '../helpers/metrics.js';
import { RawClient } from '../helpers/raw-client.js';
import { Apis } from '../../protocol/apis/index.js';
import { tempDir } from '../helpers/tmp.js';

describe('eddy start: /health and /metrics', () => {
  it('prints the http line, answers /health, serves /metrics, and closes the port on SIGTERM', async () => {
    const node = await eddyStart(['--data-dir', tempDir(), '--port', '0', '--http-port', '0']);
    expect(node.output()).toMatch(/^ {2}http: {7}http:\/\/127\.0\.0\.1:\d+\/health, \/metrics$/m);
    const url = node.httpUrl!;
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', nodeId: 1, version: '0.1.0', topics: 0 });

    const c = await RawClient.connect(node.url);
    await c.call(Apis.CreateTopics.key, { topics: [{ name: 'seen', numPartitions: 2, replicationFactor: -1, configs: [] }], timeoutMs: 1000, validateOnly: false });
    c.close();
    const m = await scrape(url);
    expect(m.value('eddy_partition_log_end_offset', { topic: 'seen', partition: '1' })).toBe(0);
    expect(m.value('eddy_requests_total', { api: 'CreateTopics', error: 'NONE' })).toBe(1);
    expect(m.value('nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);

    expect(await node.stop('SIGTERM')).toBe(0);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  }, 60_000);

  it('says so when the http port is off, and when it is taken', async () => {
    const node = await eddyStart(['--data-dir', tempDir(), '--port', '0', '--no-http']);
    expect(node.output()).toContain('  http:       off (--no-http)\n');
    expect(node.httpUrl).toBeNull();
    expect(await node.stop()).toBe(0);

    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    const port = (squatter.address() as { port: number }).port;
    const r = await eddy(['start', '--data-dir', tempDir(), '--port', '0', '--no-mqtt', '--http-port', String(port)]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`eddy: cannot listen for HTTP (health and metrics) on 127.0.0.1:${port}: the port is already in use (another eddy?). Choose another --http-port or --no-http\n`);
    squatter.close();
  }, 60_000);
});
