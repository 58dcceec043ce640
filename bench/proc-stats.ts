/**
 * What Linux says about a process: resident memory from /proc/<pid>/status and I/O from
 * /proc/<pid>/io. Both cover every thread of the process (the node's writer thread included).
 */
import { readFileSync } from 'node:fs';

export interface Rss {
  /** VmRSS: everything resident. */
  rssMB: number;
  /** RssAnon: heaps, stacks, malloc arenas: what the program allocated. */
  anonMB: number;
  /** RssFile: mapped files resident (the executable's code, shared libraries, native addons). RssShmem, the rest of VmRSS, is tiny here. */
  fileMB: number;
}

export interface Io {
  /** Bytes this process caused to be sent to the storage layer (counted as pages are dirtied). */
  writeBytes: number;
  /** Dirty page-cache bytes it truncated before they were written: counted above, never written. */
  cancelledWriteBytes: number;
  /** Bytes passed to write(2)/pwrite(2) and friends, whether they reach a disk or not. */
  wchar: number;
}

const MB = 1024 * 1024;

function fields(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+)/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** Null once the process has gone. */
export function readRss(pid: number): Rss | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const f = fields(text); // in kB
  const kb = (name: string) => (f.get(name) ?? NaN) / 1024;
  return { rssMB: kb('VmRSS'), anonMB: kb('RssAnon'), fileMB: kb('RssFile') };
}

export function readIo(pid: number | 'self'): Io {
  const f = fields(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return { writeBytes: f.get('write_bytes') ?? 0, cancelledWriteBytes: f.get('cancelled_write_bytes') ?? 0, wchar: f.get('wchar') ?? 0 };
}

export function ioDelta(after: Io, before: Io): Io {
  return {
    writeBytes: after.writeBytes - before.writeBytes,
    cancelledWriteBytes: after.cancelledWriteBytes - before.cancelledWriteBytes,
    wchar: after.wchar - before.wchar,
  };
}

/** Samples a process's RSS every `everyMs` until stopped; keeps the peak and the series. */
export class RssSampler {
  readonly samples: { atMs: number; rssMB: number }[] = [];
  peak: Rss | null = null;
  readonly #timer: NodeJS.Timeout;
  readonly #t0 = Date.now();

  constructor(pid: number, everyMs = 100) {
    const take = () => {
      const r = readRss(pid);
      if (!r) return;
      this.samples.push({ atMs: Date.now() - this.#t0, rssMB: r.rssMB });
      if (!this.peak || r.rssMB > this.peak.rssMB) this.peak = r;
    };
    take();
    this.#timer = setInterval(take, everyMs);
  }

  /** Peak RSS among samples taken in [fromMs, toMs) since the sampler started. */
  peakBetween(fromMs: number, toMs: number): number {
    let peak = NaN;
    for (const s of this.samples) if (s.atMs >= fromMs && s.atMs < toMs && !(s.rssMB <= peak)) peak = s.rssMB;
    return peak;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

export const toMB = (bytes: number) => bytes / MB;
