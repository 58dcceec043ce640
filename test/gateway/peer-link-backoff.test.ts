import { afterEach, describe, expect, it, vi } from 'vitest';
import { PeerLink } from '../../gateway/peer-link.js';
import type { PeerSocketEvents, PeerTransport } from '../../gateway/peer-transport.js';
import { RefusalLog } from '../../node/cluster/refusal-log.js';
import { silentLogger } from '../../node/logger.js';

/** A transport whose every connection fails at once, recording when each was tried. */
function refusingTransport(now: () => number): { transport: PeerTransport; attempts: number[]; urls: string[] } {
  const attempts: number[] = [];
  const urls: string[] = [];
  const transport: PeerTransport = {
    connect(url: string, events: PeerSocketEvents) {
      attempts.push(now());
      urls.push(url);
      queueMicrotask(() => events.close(1006, 'ECONNREFUSED'));
      return { send() {}, close() {} };
    },
  };
  return { transport, attempts, urls };
}

afterEach(() => vi.useRealTimers());

describe('PeerLink reconnects', () => {
  it('backs off exponentially with jitter, capped, dialling the peer path', async () => {
    vi.useFakeTimers();
    const now = () => Date.now();
    const { transport, attempts, urls } = refusingTransport(now);
    let r = 0;
    const randoms = [0, 1, 0.5];
    const link = new PeerLink({
      peerNodeId: 2, url: 'ws://127.0.0.1:9400', peerPath: '/eddy-peer', clusterId: 'AAAAAAAAAAAAAAAAAAAAAA', nodeId: 1, secret: Buffer.from('s'),
      logger: silentLogger, refusals: new RefusalLog({ logger: silentLogger }), transport,
      initialBackoffMs: 100, maxBackoffMs: 1000, random: () => randoms[r++ % randoms.length]!,
    });
    link.start();
    await vi.advanceTimersByTimeAsync(20_000);
    link.close();
    expect(urls[0]).toBe('ws://127.0.0.1:9400/eddy-peer');
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    // Backoff 100, 200, 400, 800, 1000, 1000…; each delay in [backoff/2, backoff].
    const caps = [100, 200, 400, 800, 1000, 1000, 1000];
    for (const [i, cap] of caps.entries()) {
      expect(gaps[i]).toBeGreaterThanOrEqual(cap / 2);
      expect(gaps[i]).toBeLessThanOrEqual(cap);
    }
    expect(Math.max(...gaps)).toBeLessThanOrEqual(1000);
    expect(new Set(gaps.slice(5)).size).toBeGreaterThan(1); // jittered, not lockstep
    expect(link.status()).toMatchObject({ state: 'closed', authenticated: false, lastError: { code: 'DISCONNECTED' } });
    // A closed link redials no more.
    const n = attempts.length;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(attempts.length).toBe(n);
  });
});
