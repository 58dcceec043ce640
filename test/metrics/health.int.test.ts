/** GET /health and the HTTP port's other answers, against real nodes over real HTTP. */
import { Worker } from 'node:worker_threads';
import { createServer } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { startNode } from '../../app/start-node.js';
import { Apis } from '../../protocol/apis/index.js';
import { encodeRecordBatch } from '../../protocol/record-batch.js';
import { waitFor } from '../helpers/client.js';
import { scrape } from '../helpers/metrics.js';
import { testNode } from '../helpers/node.js';
import { RawClient } from '../helpers/raw-client.js';
import { captureLogger, tempDir } from '../helpers/tmp.js';

async function health(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/health`);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('GET /health', () => {
  it('answers 200 ok with the node id, version, uptime and counts', async () => {
    const node = await testNode(tempDir(), 0, { httpPort: 0, nodeId: 7 });
    await node.topics.create({ name: 'a', partitions: 3, replicationFactor: -1 });
    const { status, body } = await health(node.httpUrl!);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', nodeId: 7, version: '0.1.0', topics: 1, partitions: 3 + 4 }); // + __consumer_offsets
    expect(body).not.toHaveProperty('reason');
    expect(body.uptimeSeconds).toBeTypeOf('number');
    expect(body.disk).toMatchObject({ maxDiskBytes: null, refusingRecords: false });
    expect((body.disk as { storeBytes: number }).storeBytes).toBeGreaterThan(0);
  });

  it('answers 200 degraded, with the disk guard\'s reason, while new records are refused', async () => {
    const node = await testNode(tempDir(), 0, { httpPort: 0, logger: captureLogger().logger, maxDiskBytes: 16 * 1024, maxDatabaseBytes: 1 << 30 });
    await node.topics.create({ name: 't', partitions: 1, replicationFactor: -1 });
    expect((await health(node.httpUrl!)).body.status).toBe('ok'); // nothing refused yet
    const c = await RawClient.connect(node.url);
    const r = await c.call(Apis.Produce.key, { acks: -1, timeoutMs: 1000, topics: [{ name: 't', partitions: [{ partition: 0, records: encodeRecordBatch([{ value: new Uint8Array(10) }]) }] }] });
    c.close();
    expect(r.topics[0].partitions[0].errorCode).toBe(56); // KAFKA_STORAGE_ERROR
    const { status, body } = await health(node.httpUrl!);
    expect(status).toBe(200);
    expect(body.status).toBe('degraded');
    expect(body.reason).toMatch(/^new records are refused; reads and offset commits go on: the log store would use .* of its --max-disk-bytes budget of 16 KiB .*raise --max-disk-bytes/);
    expect(body.disk).toMatchObject({ maxDiskBytes: 16 * 1024, refusingRecords: true });
    const m = await scrape(node.httpUrl!);
    expect(m.value('eddy_partition_errors_total', { api: 'Produce', error: 'KAFKA_STORAGE_ERROR' })).toBe(1);
  });

  it('answers 503 failing, saying what to do, once the log store\'s writer thread has died', async () => {
    // The writer is the store's private worker: catch it as the store first posts to it.
    const posts = vi.spyOn(Worker.prototype, 'postMessage');
    const node = await testNode(tempDir(), 0, { httpPort: 0, logger: captureLogger().logger });
    const writer = posts.mock.contexts[0] as Worker;
    posts.mockRestore();
    await writer.terminate();
    await waitFor(() => node.store.failure !== null, 'the store to notice');
    const { status, body } = await health(node.httpUrl!);
    expect(status).toBe(503);
    expect(body.status).toBe('failing');
    expect(body.reason).toMatch(/^the log store failed and refuses all writes until eddy is restarted: the writer thread failed: .*exited with code 1.*restart eddy/);
  });
});

describe('the HTTP port', () => {
  it('answers HEAD like GET without a body, 404 with a hint for other paths, 405 for other methods', async () => {
    const node = await testNode(tempDir(), 0, { httpPort: 0 });
    const head = await fetch(`${node.httpUrl}/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    const missing = await fetch(`${node.httpUrl}/status`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('not found: this port serves GET /health (JSON status) and GET /metrics (Prometheus)\n');
    expect((await fetch(`${node.httpUrl}/metrics?x=1`)).status).toBe(200); // query strings are ignored
    const post = await fetch(`${node.httpUrl}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('is off unless a port is given, and says clearly when its port is taken', async () => {
    const off = await testNode(tempDir(), 0);
    expect(off.http).toBeNull();
    expect(off.httpUrl).toBeNull();
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    const port = (squatter.address() as { port: number }).port;
    await expect(startNode({ dataDir: tempDir(), httpPort: port })).rejects.toThrow(
      `cannot listen for HTTP (health and metrics) on 127.0.0.1:${port}: the port is already in use (another eddy?). Choose another --http-port or --no-http`,
    );
    squatter.close();
  });

  it('stops accepting when the node closes, even with a keep-alive connection open', async () => {
    const node = await testNode(tempDir(), 0, { httpPort: 0 });
    const url = node.httpUrl!;
    expect((await fetch(`${url}/health`, { keepalive: true })).status).toBe(200);
    await node.close();
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });
});
