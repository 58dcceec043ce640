import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeRecords, readBatchHeader } from '../../protocol/record-batch.js';
import { LogStore } from '../../node/storage/log-store.js';
import { tempDir } from '../helpers/tmp.js';

const APPENDER = fileURLToPath(new URL('../fixtures/crash-appender.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ROUNDS = 20;

interface Ack {
  base: number;
  last: number;
  sha: string;
}

/** Runs the appender until it has started, then SIGKILLs it after `killAfterMs`; returns its ACKs. */
function runAndKill(path: string, seed: number, killAfterMs: number): Promise<{ acks: Ack[]; ready: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', APPENDER, path, String(seed)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000); // a bound: a hung appender cannot hang the test
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // A sleep on purpose: the kill lands killAfterMs (random) into the appends, the moment under test.
      if (!timer && out.includes('READY')) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`appender exited ${code} ${signal}: ${err}`));
      const lines = out.split('\n');
      const ready = Number(lines.find((l) => l.startsWith('READY'))?.split(' ')[1] ?? NaN);
      // The last line may be cut by the kill; only complete lines count as acknowledged.
      const complete = out.endsWith('\n') ? lines : lines.slice(0, -1);
      const acks = complete
        .filter((l) => l.startsWith('ACK '))
        .map((l) => {
          const [, base, last, sha] = l.split(' ');
          return { base: Number(base), last: Number(last), sha: sha! };
        });
      resolve({ acks, ready });
    });
  });
}

describe('crash safety', () => {
  it(`keeps every synced append across ${ROUNDS} SIGKILLs at random moments, byte-identical, with dense offsets`, async () => {
    const path = join(tempDir(), 'crash.db');
    const allAcks: Ack[] = [];
    let killedMidStream = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const killAfter = 5 + Math.floor(Math.random() * 250);
      const { acks, ready } = await runAndKill(path, 1000 + round, killAfter);
      allAcks.push(...acks);
      if (acks.length > 0) killedMidStream++;

      // Reopen through the real recovery path and check everything acknowledged so far.
      const store = await LogStore.open({ path });
      expect(store.cleanStart).toBe(false);
      const log = await store.partition('crash', 0);
      expect(log.logEndOffset).toBeGreaterThanOrEqual(ready);
      const maxAcked = Math.max(-1, ...allAcks.map((a) => a.last));
      expect(log.logEndOffset).toBeGreaterThan(maxAcked);

      const stored = new Map<number, Uint8Array>();
      let expectedOffset = 0;
      let at = 0;
      for (;;) {
        const r = log.read(at, 4 << 20);
        if (r.batches.length === 0) break;
        for (const b of r.batches) {
          stored.set(readBatchHeader(b).baseOffset, b);
          for (const rec of decodeRecords(b)) {
            expect(rec.offset).toBe(expectedOffset); // no gap, no duplicate
            expectedOffset++;
          }
        }
        at = r.nextOffset;
      }
      expect(expectedOffset).toBe(log.logEndOffset);
      for (const ack of allAcks) {
        const b = stored.get(ack.base);
        expect(b, `acknowledged batch at ${ack.base} is missing after round ${round}`).toBeDefined();
        expect(readBatchHeader(b!).baseOffset + readBatchHeader(b!).lastOffsetDelta).toBe(ack.last);
        expect(createHash('sha256').update(b!).digest('hex')).toBe(ack.sha);
      }
      await store.close();
      // Mark the next round's start unclean again: the child is killed, never closes.
    }
    expect(allAcks.length).toBeGreaterThan(50);
    expect(killedMidStream).toBeGreaterThanOrEqual(ROUNDS / 2);
  }, 240_000);
});
