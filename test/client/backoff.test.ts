import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_RECONNECT_BACKOFF, reconnectBackoff } from '../../gateway/client/backoff.js';

describe('reconnect backoff', () => {
  it("doubles from 50 ms and is capped at 1 s (Kafka's reconnect.backoff defaults)", () => {
    const mid = () => 0.5; // no jitter
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50, 5000].map((a) => backoffDelay(a, DEFAULT_RECONNECT_BACKOFF, mid))).toEqual([
      50, 100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000,
    ]);
  });

  it('keeps jitter within ±20% and never above the cap', () => {
    for (const r of [0, 0.25, 0.999999]) {
      for (let a = 0; a < 12; a++) {
        const nominal = Math.min(1000, 50 * 2 ** a);
        const d = backoffDelay(a, DEFAULT_RECONNECT_BACKOFF, () => r);
        expect(d).toBeGreaterThanOrEqual(Math.floor(nominal * 0.8));
        expect(d).toBeLessThanOrEqual(Math.min(1000, Math.ceil(nominal * 1.2)));
      }
    }
  });

  it("takes a client's reconnectBackoffMs / reconnectBackoffMaxMs and refuses values that are not positive", () => {
    expect(reconnectBackoff({})).toEqual(DEFAULT_RECONNECT_BACKOFF);
    expect(reconnectBackoff({ reconnectBackoffMs: 10, reconnectBackoffMaxMs: 80 })).toMatchObject({ initialMs: 10, maxMs: 80 });
    expect(reconnectBackoff({ reconnectBackoffMs: 2000 })).toMatchObject({ initialMs: 2000, maxMs: 2000 });
    expect(() => reconnectBackoff({ reconnectBackoffMs: 0 })).toThrow(/reconnectBackoffMs must be > 0, got 0/);
    expect(() => reconnectBackoff({ reconnectBackoffMs: 100, reconnectBackoffMaxMs: 50 })).toThrow(/reconnectBackoffMaxMs must be >= reconnectBackoffMs/);
    expect(() => reconnectBackoff({ reconnectBackoffMs: Number.NaN })).toThrow(TypeError);
  });
});
