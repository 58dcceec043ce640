/** `eddy consume TOPIC`: prints records, one per line, until told to stop. */
import type { Command } from 'commander';
import { Admin, Consumer, type ConsumedRecord } from '../gateway/client/index.js';
import { tpKey } from '../protocol/topic-partition.js';
import { CLI_TIMEOUT_MS, serverUrl, withServer } from './server-option.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes as text when they are valid UTF-8; otherwise base64 under a separate field. */
function field(name: string, b: Uint8Array | null): Record<string, string | null> {
  if (b === null) return { [name]: null };
  try {
    return { [name]: utf8.decode(b) };
  } catch {
    return { [name]: null, [`${name}Base64`]: Buffer.from(b).toString('base64') };
  }
}

export function formatRecord(r: ConsumedRecord, format: 'value' | 'json'): string {
  if (format === 'value') return r.value === null ? '' : new TextDecoder().decode(r.value);
  const headers: Record<string, string | null> = {};
  for (const h of r.headers) headers[h.key] = h.value === null ? null : new TextDecoder().decode(h.value);
  return JSON.stringify({ partition: r.partition, offset: r.offset, timestamp: r.timestamp, ...field('key', r.key), ...field('value', r.value), headers });
}

function wholeNumber(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new Error(`${name} must be a whole number ≥ 0, got "${v}"`);
    return Number(v);
  };
}

interface ConsumeOptions {
  fromBeginning?: boolean;
  offset?: number;
  partition?: number;
  maxMessages?: number;
  timeoutMs?: number;
  format: string;
  group?: string;
  server?: string;
}

export function registerConsume(program: Command, out: (line: string) => void): void {
  withServer(program.command('consume <topic>').description('print records of a topic, one per line'))
    .option('--from-beginning', 'start at the earliest offset (default: only new records)')
    .option('--offset <o>', 'start at this offset (needs --partition)', wholeNumber('--offset'))
    .option('--partition <p>', 'read only this partition', wholeNumber('--partition'))
    .option('--max-messages <n>', 'exit after this many records', wholeNumber('--max-messages'))
    .option('--timeout-ms <ms>', 'exit when no record arrives for this long', wholeNumber('--timeout-ms'))
    .option('--format <f>', 'value (just the value) or json (partition, offset, timestamp, key, value, headers)', 'value')
    .option('--group <id>', 'consume as a member of this consumer group: partitions shared with its other members, progress committed (--from-beginning applies where the group has no commit)')
    .action(async (topic: string, o: ConsumeOptions) => {
      if (o.format !== 'value' && o.format !== 'json') throw new Error(`--format must be value or json, got "${o.format}"`);
      if (o.group !== undefined && (o.partition !== undefined || o.offset !== undefined)) {
        throw new Error('--group assigns partitions itself: drop --partition and --offset (to move a group, use eddy groups reset-offsets)');
      }
      if (o.offset !== undefined && o.partition === undefined) throw new Error('--offset needs --partition: an offset means something only within one partition');
      if (o.offset !== undefined && o.fromBeginning) throw new Error('use either --from-beginning or --offset, not both');
      const server = serverUrl(o.server, process.env);
      let partitions: number[];
      if (o.partition !== undefined) {
        partitions = [o.partition];
      } else {
        // Also for --group: an unknown topic is an error now, not an endless wait.
        const admin = new Admin({ server, clientId: 'eddy-cli', requestTimeoutMs: CLI_TIMEOUT_MS });
        try {
          const [d] = await admin.describeTopics([topic]);
          partitions = d!.partitions.map((p) => p.partition);
        } finally {
          await admin.close();
        }
      }
      const consumer = new Consumer({
        server,
        clientId: 'eddy-cli',
        requestTimeoutMs: CLI_TIMEOUT_MS,
        autoOffsetReset: o.fromBeginning ? 'earliest' : 'latest',
        maxWaitMs: 500,
        ...(o.group !== undefined ? { groupId: o.group, autoCommit: false } : {}),
      });
      // With --group, exactly what was printed is committed (after each batch and on exit);
      // partitions with nothing printed get their start position on exit, so that the next run
      // resumes there rather than at --from-beginning/latest again (as Kafka's console consumer).
      const printedUpTo = new Map<string, { topic: string; partition: number; offset: number }>();
      const printedEver = new Set<string>();
      const firstUnprinted = new Map<string, number>();
      const commitPrinted = async () => {
        if (o.group === undefined || printedUpTo.size === 0) return;
        await consumer.commit([...printedUpTo.values()]);
        printedUpTo.clear();
      };
      const commitStartPositions = async () => {
        if (o.group === undefined) return;
        const entries = [];
        for (const tp of consumer.assignment()) {
          const key = tpKey(tp.topic, tp.partition);
          if (printedEver.has(key)) continue;
          entries.push({ ...tp, offset: firstUnprinted.get(key) ?? (await consumer.position(tp)) });
        }
        if (entries.length > 0) await consumer.commit(entries);
      };
      let stop = false;
      const onSignal = () => (stop = true);
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        if (o.group !== undefined) {
          await consumer.subscribe([topic]);
        } else {
          const tps = partitions.map((partition) => ({ topic, partition }));
          consumer.assign(tps);
          for (const tp of tps) await consumer.seek(tp, o.offset ?? (o.fromBeginning ? 'earliest' : 'latest'));
        }
        let printed = 0;
        let lastRecordAt = Date.now();
        while (!stop && (o.maxMessages === undefined || printed < o.maxMessages)) {
          const records = await consumer.poll({ timeoutMs: 500 });
          if (records.length > 0) lastRecordAt = Date.now();
          for (const r of records) {
            const key = tpKey(r.topic, r.partition);
            if (o.maxMessages !== undefined && printed >= o.maxMessages) {
              if (!firstUnprinted.has(key)) firstUnprinted.set(key, r.offset);
              continue;
            }
            out(formatRecord(r, o.format));
            printed++;
            printedEver.add(key);
            printedUpTo.set(key, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
          }
          await commitPrinted();
          if (o.timeoutMs !== undefined && Date.now() - lastRecordAt >= o.timeoutMs) break;
        }
        await commitStartPositions();
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await consumer.close();
      }
    });
}
