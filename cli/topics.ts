/** `eddy topics create|list|describe|alter|delete`. */
import type { Command } from 'commander';
import type { Admin } from '../gateway/client/index.js';
import { withAdmin } from './admin-client.js';
import { withServer } from './server-option.js';
import { formatBytes, table } from './table.js';

type Out = (line: string) => void;

/**
 * Configs first, then partitions, each a separate request (as Kafka's tools do); returns what
 * changed, "old → new", one line each. A refused config change leaves the partitions untouched.
 */
async function alterTopic(a: Admin, name: string, set: Record<string, string>, del: string[], partitions: number | undefined): Promise<string[]> {
  const [before] = await a.describeTopics([name]);
  if (!before) throw new Error(`topic ${name} was not described`);
  const lines: string[] = [];
  if (Object.keys(set).length > 0 || del.length > 0) {
    await a.alterTopicConfigs(name, { set, delete: del });
    const [after] = await a.describeTopics([name]);
    const was = new Map(before.configs.map((c) => [c.name, c]));
    for (const c of after?.configs ?? []) {
      const old = was.get(c.name);
      if (!(c.name in set) && !del.includes(c.name)) continue;
      lines.push(`${name}: ${c.name} ${old ? `${old.value} (${old.source})` : '(none)'} → ${c.value} (${c.source})`);
    }
  }
  if (partitions !== undefined) {
    await a.createPartitions(name, partitions);
    lines.push(`${name}: partitions ${before.partitions.length} → ${partitions}`);
  }
  return lines;
}

/** Parses repeated `--config k=v` into a map, refusing entries without "=". */
function parseConfigs(entries: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    const i = e.indexOf('=');
    if (i <= 0) throw new Error(`--config "${e}" must look like name=value, for example retention.ms=86400000`);
    out[e.slice(0, i)] = e.slice(i + 1);
  }
  return out;
}

function positiveInt(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`${name} must be a whole number ≥ 1, got "${v}"`);
    return Number(v);
  };
}

export function registerTopics(program: Command, out: Out): void {
  const topics = program.command('topics').description('create, list, describe, alter and delete topics');

  withServer(topics.command('create <name>').description('create a topic'))
    .requiredOption('--partitions <n>', 'number of partitions', positiveInt('--partitions'))
    .option('--replication-factor <n>', 'copies of each partition (1 until replication exists)', positiveInt('--replication-factor'), 1)
    .option('--config <name=value>', 'topic config, repeatable (retention.ms, retention.bytes, max.message.bytes, cleanup.policy, min.insync.replicas, delete.retention.ms)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action(async (name: string, o: { partitions: number; replicationFactor: number; config: string[]; server?: string }) => {
      const configs = parseConfigs(o.config);
      await withAdmin(o.server, (a) => a.createTopics([{ name, partitions: o.partitions, replicationFactor: o.replicationFactor, configs }]));
      out(`created topic ${name} with ${o.partitions} partition${o.partitions === 1 ? '' : 's'}`);
    });

  withServer(topics.command('list').description('list topics')).action(async (o: { server?: string }) => {
    const names = await withAdmin(o.server, (a) => a.listTopics());
    for (const n of names) out(n);
  });

  withServer(topics.command('describe <name>').description('partitions, leader, offsets, sizes and configs of a topic')).action(
    async (name: string, o: { server?: string }) => {
      const [d] = await withAdmin(o.server, (a) => a.describeTopics([name]));
      if (!d) throw new Error(`topic ${name} was not described`);
      const records = d.partitions.reduce((n, p) => n + Math.max(0, p.logEndOffset - p.logStartOffset), 0);
      const bytes = d.partitions.reduce((n, p) => n + Math.max(0, p.sizeBytes), 0);
      out(`topic ${d.name}: ${d.partitions.length} partitions, ${records} records, ${formatBytes(bytes)}${d.isInternal ? ' (internal)' : ''}`);
      out('');
      out(
        table(
          ['PARTITION', 'LEADER', 'REPLICAS', 'ISR', 'LOG-START', 'LOG-END', 'HIGH-WATERMARK', 'SIZE'],
          // As Kafka's tool: "none" for a partition without a leader; its offsets are unknown while its node is away.
          d.partitions.map((p) => {
            const known = (n: number): string | number => (n < 0 ? '-' : n);
            return [p.partition, p.leader < 0 ? 'none' : p.leader, p.replicas.join(','), p.isr.join(','), known(p.logStartOffset), known(p.logEndOffset), known(p.highWatermark), p.sizeBytes < 0 ? '-' : formatBytes(p.sizeBytes)];
          }),
        ),
      );
      out('');
      out(table(['CONFIG', 'VALUE', 'SOURCE'], d.configs.map((c) => [c.name, c.value, c.source])));
    },
  );

  withServer(topics.command('alter <name>').description('change configs of a topic, or add partitions'))
    .option('--config <name=value>', 'set a topic config, repeatable', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--delete-config <name>', 'remove a topic config so that it reverts to the default, repeatable', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--partitions <n>', 'new total number of partitions (only more than now)', positiveInt('--partitions'))
    .action(async (name: string, o: { config: string[]; deleteConfig: string[]; partitions?: number; server?: string }) => {
      const set = parseConfigs(o.config);
      if (o.config.length === 0 && o.deleteConfig.length === 0 && o.partitions === undefined) {
        throw new Error('nothing to change: give --config name=value, --delete-config name or --partitions N');
      }
      const lines = await withAdmin(o.server, (a) => alterTopic(a, name, set, o.deleteConfig, o.partitions));
      for (const line of lines) out(line);
    });

  withServer(topics.command('delete <name>').description('delete a topic and all its records')).action(async (name: string, o: { server?: string }) => {
    await withAdmin(o.server, (a) => a.deleteTopics([name]));
    out(`deleted topic ${name}`);
  });
}
