/** `eddy start`'s log lines on stderr: JSON when piped (the default here), readable with --log-format pretty. */
import { describe, expect, it } from 'vitest';
import { Apis } from '../../protocol/apis/index.js';
import { eddyStart } from '../helpers/eddy-process.js';
import { RawClient } from '../helpers/raw-client.js';
import { tempDir } from '../helpers/tmp.js';

/** Starts a node, creates a topic (an info line), and stops it: its stderr. */
async function logOf(args: string[], env: Record<string, string> = {}): Promise<string[]> {
  const node = await eddyStart(['--data-dir', tempDir(), '--port', '0', ...args], env);
  const c = await RawClient.connect(node.url);
  await c.call(Apis.CreateTopics.key, { topics: [{ name: 'logged', numPartitions: 1, replicationFactor: -1, configs: [] }], timeoutMs: 1000, validateOnly: false });
  c.close();
  expect(await node.stop()).toBe(0);
  return node.errors().split('\n').filter((l) => l !== '');
}

describe('eddy start logs', () => {
  it('writes JSON lines when stderr is not a terminal', async () => {
    const lines = await logOf([]);
    const parsed = lines.map((l) => JSON.parse(l) as { level: number; msg: string; app: string; topic?: string });
    expect(parsed.find((l) => l.msg === 'created topic logged')).toMatchObject({ level: 30, app: 'eddy', topic: 'logged' });
  }, 60_000);

  it('writes readable lines with --log-format pretty (or EDDY_LOG_FORMAT=pretty), no JSON objects', async () => {
    for (const [args, env] of [[['--log-format', 'pretty'], {}], [[], { EDDY_LOG_FORMAT: 'pretty' }]] as const) {
      const lines = await logOf([...args], env);
      const created = lines.find((l) => l.includes('created topic logged'));
      // [2026-01-31 12:00:00.000] INFO: created topic logged {"topic":"logged",...}
      expect(created).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: created topic logged \{.*"topic":"logged".*\}$/);
      expect(lines.some((l) => l.startsWith('{'))).toBe(false);
      // Not coloured: stderr is a pipe here.
      expect(lines.join('\n')).not.toContain('\u001b[');
    }
  }, 60_000);

  it('explicit json wins over the environment', async () => {
    const lines = await logOf(['--log-format', 'json'], { EDDY_LOG_FORMAT: 'pretty' });
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
  }, 60_000);
});
