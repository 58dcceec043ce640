/** The metadata quorum's metrics over GET /metrics of a real one-voter node. */
import { describe, expect, it } from 'vitest';
import { Admin } from '../../gateway/client/index.js';
import { scrape } from '../helpers/metrics.js';
import { testNode } from '../helpers/node.js';
import { tempDir } from '../helpers/tmp.js';

describe('GET /metrics: the metadata quorum', () => {
  it('reports the role, epoch, elections, fenced brokers and the commit latency of the controller\'s proposals', async () => {
    const node = await testNode(tempDir(), 0, { httpPort: 0, processMetrics: false });
    let m = await scrape(node.httpUrl!);
    expect(m.value('eddy_metadata_quorum_state', { role: 'leader' })).toBe(1);
    expect(m.value('eddy_metadata_quorum_state', { role: 'follower' })).toBe(0);
    expect(m.value('eddy_metadata_quorum_state', { role: 'candidate' })).toBe(0);
    expect(m.value('eddy_metadata_quorum_epoch')).toBe(node.quorum.epoch);
    // Counted from the epoch when the metrics were registered: the self-election may precede it.
    const elections = m.value('eddy_metadata_elections_total')!;
    expect(elections).toBeGreaterThanOrEqual(0);
    expect(elections).toBeLessThanOrEqual(node.quorum.epoch);
    expect(m.value('eddy_fenced_brokers')).toBe(0);
    const before = m.value('eddy_metadata_commit_latency_seconds_count')!;
    expect(before).toBeGreaterThanOrEqual(1); // its own registration (and __consumer_offsets)

    const admin = new Admin({ server: node.url });
    await admin.createTopics([{ name: 'timed', partitions: 1 }]);
    await admin.close();
    m = await scrape(node.httpUrl!);
    expect(m.value('eddy_metadata_commit_latency_seconds_count')).toBe(before + 1);
    expect(m.value('eddy_metadata_commit_latency_seconds_sum')).toBeGreaterThan(0);
    expect(m.value('eddy_metadata_commit_latency_seconds_bucket', { le: '+Inf' })).toBe(before + 1);
    expect(m.text).toMatch(/^# TYPE eddy_metadata_elections_total counter$/m);
    expect(m.text).toMatch(/^# TYPE eddy_metadata_commit_latency_seconds histogram$/m);
  });
});
