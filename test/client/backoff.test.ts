import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_RECONNECT_BACKOFF } from '../../gateway/client/backoff.js';

describe('reconnect backoff', () => {
  it('doubles from 100 ms and is capped at 5 s', () => {
    const mid = () => 0.5; // no jitter
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50, 5000].map((a) => backoffDelay(a, DEFAULT_RECONNECT_BACKOFF, mid))).toEqual([
      100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000,
    ]);
  });

  it('keeps jitter within ±20% and never above the cap', () => {
    for (const r of [0, 0.25, 0.999999]) {
      for (let a = 0; a < 12; a++) {
        const nominal = Math.min(5000, 100 * 2 ** a);
        const d = backoffDelay(a, DEFAULT_RECONNECT_BACKOFF, () => r);
        expect(d).toBeGreaterThanOrEqual(Math.floor(nominal * 0.8));
        expect(d).toBeLessThanOrEqual(Math.min(5000, Math.ceil(nominal * 1.2)));
      }
    }
  });
});
