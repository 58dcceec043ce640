import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Apis } from '../../protocol/apis/index.js';
import { eddy, eddyStart, ROOT } from '../helpers/eddy-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/tmp.js';

describe('eddy start (real process)', () => {
  it('listens where it says, keeps topics across a SIGTERM restart, and stops cleanly', async () => {
    const dir = join(tempDir(), 'data');
    let node = await eddyStart(['--data-dir', dir, '--port', '0']);
    expect(node.output()).toMatch(/Eddy \d+\.\d+\.\d+ is running/);
    expect(node.output()).toContain(`data:       ${dir} (0 topics, 0 groups, clean start)`);
    expect(node.mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const c = await RawClient.connect(node.url);
    const r = await c.call(Apis.CreateTopics.key, { topics: [{ name: 'kept', numPartitions: 2, replicationFactor: -1, configs: [] }], timeoutMs: 1000, validateOnly: false });
    expect(r.topics[0].errorCode).toBe(0);
    c.close();
    expect(await node.stop('SIGTERM')).toBe(0);
    expect(node.output()).toMatch(/SIGTERM received: shutting down[\s\S]*stopped cleanly/);

    node = await eddyStart(['--port', '0'], { EDDY_DATA_DIR: dir });
    expect(node.output()).toContain('(1 topic, 0 groups, clean start)');
    expect(await node.stop('SIGINT')).toBe(0);
  });

  it('reports an unclean shutdown after SIGKILL', async () => {
    const dir = tempDir();
    const node = await eddyStart(['--data-dir', dir, '--port', '0']);
    await node.stop('SIGKILL');
    const again = await eddyStart(['--data-dir', dir, '--port', '0']);
    expect(again.output()).toContain('recovered after an unclean shutdown');
    await again.stop();
  });

  it('refuses bad configuration with one line per problem and exit code 1', async () => {
    const r = await eddy(['start', '--sync', 'sometimes', '--port', 'http'], { env: { EDDY_LOG_LEVEL: 'loud', EDDY_DATA_DIR: join(tempDir(), 'd') } });
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^eddy: invalid configuration:\n/);
    expect(r.err).toMatch(/ {2}- --port = "http": must be a whole number from 0 to 65535\n/);
    expect(r.err).toMatch(/ {2}- --sync = "sometimes": .*\n/);
    expect(r.err).toMatch(/ {2}- EDDY_LOG_LEVEL = "loud": must be one of debug, info, warn, error\n$/);
  });

  it('takes a disk budget, shows it, and refuses one that is not a size', async () => {
    const r = await eddy(['start', '--max-disk-bytes', 'abc', '--data-dir', join(tempDir(), 'd')]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      'eddy: invalid configuration:\n  - --max-disk-bytes = "abc": must be a size in bytes of at least 1 MiB: a whole number, or with a unit such as 500MB or 2GiB\n',
    );
    const node = await eddyStart(['--data-dir', tempDir(), '--port', '0', '--max-disk-bytes', '2GiB'], { EDDY_RETENTION_CHECK_INTERVAL_MS: '60000' });
    expect(node.output()).toContain('disk:       budget 2 GiB; new records are refused before the disk fills; retention checked every 60 s');
    expect(await node.stop()).toBe(0);
  });

  it('says clearly when the port is taken', async () => {
    const dir = tempDir();
    const first = await eddyStart(['--data-dir', join(dir, 'a'), '--port', '0']);
    const port = new URL(first.url).port;
    const r = await eddy(['start', '--data-dir', join(dir, 'b'), '--port', port, '--no-mqtt', '--no-http']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`eddy: cannot listen on 127.0.0.1:${port}: the port is already in use (another eddy?). Stop that process or choose another --port\n`);
    await first.stop();
  });

  it('says clearly when the MQTT port is taken (another broker), and how to get round it', async () => {
    const { createServer } = await import('node:net');
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', () => r()));
    const port = (squatter.address() as { port: number }).port;
    const r = await eddy(['start', '--data-dir', tempDir(), '--port', '0', '--mqtt-port', String(port), '--http-port', '0']);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`eddy: cannot listen for MQTT on 127.0.0.1:${port}: the port is already in use (mosquitto?). Choose another --mqtt-port or --no-mqtt\n`);
    squatter.close();
  });

  it('is installed as the eddy command (npx eddy) running the built CLI', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(join(ROOT, 'node_modules/.bin/eddy'), ['--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('0.1.0');
  });

  it('prints its version', async () => {
    expect((await eddy(['--version'])).out.trim()).toBe('0.1.0');
  });
});
