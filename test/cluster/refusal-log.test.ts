import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { peerAuthFailureCounter, RefusalLog } from '../../node/cluster/refusal-log.js';
import { captureLogger } from '../helpers/tmp.js';

describe('refusal log', () => {
  it('logs a refused peer at most once per address a minute, and counts every refusal', async () => {
    let now = 1_000_000;
    const { lines, logger } = captureLogger();
    const registry = new Registry();
    const log = new RefusalLog({ logger, now: () => now, count: peerAuthFailureCounter(registry) });
    expect(log.refused('10.0.0.7:51000', 'BAD_PROOF')).toBe(true);
    now += 1000;
    expect(log.refused('10.0.0.7:51000', 'BAD_PROOF')).toBe(false);
    expect(log.refused('10.0.0.8:40000', 'CLUSTER_ID_MISMATCH')).toBe(true);
    now += 30_000;
    expect(log.refused('10.0.0.7:51000', 'BAD_PROOF')).toBe(false);
    now += 29_000; // one minute after the first line
    expect(log.refused('10.0.0.7:51000', 'BAD_PROOF', 'wrong secret?')).toBe(true);
    expect(lines.map((l) => l.msg)).toEqual([
      'peer link from 10.0.0.7:51000 refused: BAD_PROOF',
      'peer link from 10.0.0.8:40000 refused: CLUSTER_ID_MISMATCH',
      'peer link from 10.0.0.7:51000 refused: BAD_PROOF, wrong secret? (2 more refusals from it not logged in the last 60 s)',
    ]);
    expect(lines.every((l) => l.level === 'warn')).toBe(true);
    const text = await registry.metrics();
    expect(text).toContain('eddy_peer_auth_failures_total{reason="BAD_PROOF"} 4');
    expect(text).toContain('eddy_peer_auth_failures_total{reason="CLUSTER_ID_MISMATCH"} 1');
  });
});
