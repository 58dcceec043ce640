/** `eddy produce TOPIC`: one record per stdin line. */
import type { Command } from 'commander';
import { Producer, type Acks } from '../gateway/client/index.js';
import { CLI_TIMEOUT_MS, serverUrl, withServer } from './server-option.js';

/** Sends in flight before reading more input: bounds memory for a large stdin. */
const MAX_PENDING = 10_000;

function parseAcks(v: string): Acks {
  if (v === '0') return 0;
  if (v === '1') return 1;
  if (v === 'all' || v === '-1') return 'all';
  throw new Error(`--acks must be 0, 1 or all, got "${v}"`);
}

export function registerProduce(program: Command, err: (line: string) => void): void {
  withServer(program.command('produce <topic>').description('send each line of stdin as one record'))
    .option('--key-separator <sep>', 'split each line at the first SEP into key and value')
    .option('--acks <acks>', 'wait for 0 (nobody), 1 (the leader) or all (in-sync replicas)', parseAcks, 'all' as Acks)
    .option('--partition <p>', 'send every record to this partition', (v: string) => {
      if (!/^\d+$/.test(v)) throw new Error(`--partition must be a whole number ≥ 0, got "${v}"`);
      return Number(v);
    })
    .action(async (topic: string, o: { keySeparator?: string; acks: Acks; partition?: number; server?: string }) => {
      const producer = new Producer({ server: serverUrl(o.server, process.env), clientId: 'eddy-cli', requestTimeoutMs: CLI_TIMEOUT_MS, acks: o.acks, lingerMs: 10, batchSizeBytes: 256 * 1024 });
      const pending = new Set<Promise<unknown>>();
      let sent = 0;
      let failure: Error | null = null;
      const progress = process.stderr.isTTY ? setInterval(() => process.stderr.write(`\r${sent} records sent`), 1000) : null;
      try {
        // Loaded here, not at the top: every command (and `eddy start`, for good) would load
        // Node's readline otherwise.
        const { createInterface } = await import('node:readline');
        const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
        for await (const line of lines) {
          if (failure) break;
          let key: string | null = null;
          let value = line;
          if (o.keySeparator !== undefined) {
            const i = line.indexOf(o.keySeparator);
            if (i >= 0) {
              key = line.slice(0, i);
              value = line.slice(i + o.keySeparator.length);
            }
          }
          const p = producer.send({ topic, key, value, ...(o.partition !== undefined ? { partition: o.partition } : {}) }).then(
            () => void sent++,
            (e: Error) => void (failure ??= e),
          );
          pending.add(p);
          p.finally(() => pending.delete(p));
          if (pending.size >= MAX_PENDING) await Promise.race(pending);
        }
        await Promise.all(pending);
      } finally {
        if (progress) clearInterval(progress);
        await producer.close().catch(() => {});
      }
      if (failure) throw failure;
      err(`${process.stderr.isTTY ? '\r' : ''}produced ${sent} record${sent === 1 ? '' : 's'} to ${topic} (acks=${o.acks})`);
    });
}
