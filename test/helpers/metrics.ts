/** Scraping a node's /metrics over real HTTP, and reading series out of the text. */
import { expect } from 'vitest';

export interface Scrape {
  /** The value of one series; undefined when the series is absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  text: string;
}

/** `name{a="x",b="y"}` with the labels sorted, so lookups do not depend on label order. */
function seriesKey(name: string, labels: Record<string, string>): string {
  const parts = Object.keys(labels).sort().map((k) => `${k}="${labels[k]}"`);
  return parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
}

export function parseMetrics(text: string): Scrape {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    series.set(seriesKey(m[1]!, labels), Number(m[3]));
  }
  return { text, value: (name, labels = {}) => series.get(seriesKey(name, labels)) };
}

/** GET /metrics, checked to be Prometheus text. */
export async function scrape(httpUrl: string): Promise<Scrape> {
  const res = await fetch(`${httpUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
}
