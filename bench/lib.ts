/** Shared helpers for benchmark suites: temp dirs on the bench disk, timing, percentiles, output. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * A fresh directory on the disk under test: EDDY_BENCH_DIR, else ./.bench-tmp. Raw baselines and
 * Eddy use the same one, so their ratio is a property of the code, not of the disk.
 */
export function benchDir(name: string): { dir: string; cleanup(): void } {
  const root = resolve(process.env.EDDY_BENCH_DIR ?? '.bench-tmp');
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, `${name}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function machine(): string {
  return `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
}

/** Human lines go to stdout as they come; the last stdout line is the suite's JSON object. */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function result(obj: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}
