/** Helpers for tests that drive the client SDK. */
import { expect } from 'vitest';
import type { ConsumedRecord, Consumer } from '../../gateway/client/index.js';

/** Polls until `n` records arrived (or the time is up), failing rather than hanging. */
export async function pollN(c: Consumer, n: number, withinMs = 10_000): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  const deadline = Date.now() + withinMs;
  while (out.length < n && Date.now() < deadline) out.push(...(await c.poll({ timeoutMs: 200 })));
  expect(out.length, `records after ${withinMs} ms`).toBe(n);
  return out;
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** Polls `cond` until it holds; fails with `what` after `ms`, rather than hanging. */
export async function waitFor(cond: () => boolean, what = 'a condition', ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * waitFor for a condition that has to ask something (a request, a query, a probe). Checks run one
 * at a time; one still running at the deadline fails the wait as a false one does. A check that
 * throws fails the wait with its error.
 */
export async function waitForAsync(cond: () => Promise<boolean>, what = 'a condition', ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  const late = Symbol('late');
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<typeof late>((r) => (timer = setTimeout(() => r(late), Math.max(0, end - Date.now()))));
    const held = await Promise.race([cond(), deadline]).finally(() => clearTimeout(timer));
    if (held === true) return;
    if (held === late || Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** `p`, or a rejection naming `what` once `ms` pass: a step that hangs fails with its name, not the test's timeout. */
export async function within<T>(p: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still waiting for ${what} after ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
