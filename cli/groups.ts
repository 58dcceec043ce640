/** `eddy groups list|describe|reset-offsets|delete`, after Kafka's kafka-consumer-groups. */
import type { Command } from 'commander';
import { EddyError, isEddyError, type Admin, type GroupDescription, type OffsetReset, type TopicPartition } from '../gateway/client/index.js';
import { withAdmin } from './admin-client.js';
import { withServer } from './server-option.js';
import { table } from './table.js';

type Out = (line: string) => void;
type ResetTarget = 'earliest' | 'latest' | { offset: number };

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `t:0,1 u:3`, or "-" for nothing. */
function formatAssignment(tps: readonly TopicPartition[]): string {
  const byTopic = new Map<string, number[]>();
  for (const tp of tps) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
  return tps.length === 0 ? '-' : [...byTopic].map(([topic, ps]) => `${topic}:${ps.join(',')}`).join(' ');
}

/**
 * The describe table. Its offset columns (2 to 4) hold numbers or "-", which `table` would align
 * left; they are right-aligned like numbers whether or not any row has a commit.
 */
function offsetTable(headers: string[], rows: (string | number)[][]): string {
  const cols = [2, 3, 4];
  const widths = cols.map((c) => Math.max(headers[c]!.length, ...rows.map((r) => String(r[c]).length)));
  return table(
    headers,
    rows.map((r) => r.map((cell, c) => (cols.includes(c) ? String(cell).padStart(widths[cols.indexOf(c)]!) : cell))),
  );
}

/** The lines of `eddy groups describe`. */
function describeLines(d: GroupDescription): string[] {
  const lines = [`group ${d.groupId}: ${d.state}, ${plural(d.members.length, 'member')}, assignor ${d.assignor ?? '-'}, epoch ${d.groupEpoch}`, ''];
  const members = new Map(d.members.map((m) => [m.memberId, m]));
  if (d.partitions.length === 0) lines.push('no committed offsets and no subscribed topics');
  else {
    lines.push(
      offsetTable(
        ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
        d.partitions.map((p) => {
          const owner = p.owner === null ? undefined : members.get(p.owner);
          // As in kafka-consumer-groups, LOG-END-OFFSET is what a consumer can reach (the high
          // watermark), so that LAG = LOG-END-OFFSET − CURRENT-OFFSET (negative for a commit past it).
          const end = p.highWatermark < 0 ? '-' : p.highWatermark;
          return [p.topic, p.partition, p.committedOffset ?? '-', end, p.lag ?? '-', p.owner ?? '-', owner?.clientHost ?? '-', owner?.clientId ?? '-'];
        }),
      ),
    );
  }
  if (d.members.length > 0) {
    lines.push('');
    lines.push(
      table(
        ['CONSUMER-ID', 'HOST', 'CLIENT-ID', 'EPOCH', '#PARTITIONS', 'ASSIGNMENT'],
        d.members.map((m) => [m.memberId, m.clientHost, m.clientId, m.memberEpoch, m.assignment.length, formatAssignment(m.assignment)]),
      ),
    );
  }
  return lines;
}

function resetTarget(o: { toEarliest?: boolean; toLatest?: boolean; toOffset?: number }): ResetTarget {
  const chosen = [o.toEarliest && 'earliest', o.toLatest && 'latest', o.toOffset !== undefined && 'offset'].filter(Boolean);
  if (chosen.length !== 1) {
    throw new Error(`reset-offsets needs exactly one of --to-earliest, --to-latest or --to-offset <n>${chosen.length > 1 ? ', not several' : ''}`);
  }
  return o.toOffset !== undefined ? { offset: o.toOffset } : o.toEarliest ? 'earliest' : 'latest';
}

function nonNegativeInt(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new Error(`${name} must be a whole number ≥ 0, got "${v}"`);
    return Number(v);
  };
}

/** The one line an operator gets when the group still has consumers. */
function activeGroupError(group: string): EddyError {
  return new EddyError('NON_EMPTY_GROUP', `group ${group} has active members, so its offsets cannot be reset (nothing was committed)`);
}

/** Members of the group now; 0 for a group that does not exist (yet). */
async function memberCount(admin: Admin, group: string): Promise<number> {
  try {
    return (await admin.describeGroup(group)).members.length;
  } catch (err) {
    if (isEddyError(err, 'GROUP_ID_NOT_FOUND')) return 0;
    throw err;
  }
}

async function newOffsets(admin: Admin, topic: string, target: ResetTarget): Promise<OffsetReset[]> {
  const [described] = await admin.describeTopics([topic]); // UNKNOWN_TOPIC_OR_PARTITION if missing
  const partitions = (described?.partitions ?? []).map((p) => ({ topic, partition: p.partition }));
  if (typeof target === 'object') return partitions.map((tp) => ({ ...tp, offset: target.offset }));
  const listed = await admin.listOffsets(partitions.map((tp) => ({ ...tp, spec: target })));
  return listed.map(({ topic: t, partition, offset }) => ({ topic: t, partition, offset }));
}

export function registerGroups(program: Command, out: Out): void {
  const groups = program.command('groups').description('list, describe, reset the offsets of and delete consumer groups');

  withServer(groups.command('list').description('list consumer groups')).action(async (o: { server?: string }) => {
    const listed = await withAdmin(o.server, (a) => a.listGroups());
    if (listed.length === 0) out('no consumer groups');
    else out(table(['GROUP', 'STATE', 'MEMBERS', 'ASSIGNOR'], listed.map((g) => [g.groupId, g.state, g.members, g.assignor ?? '-'])));
  });

  withServer(groups.command('describe <group>').description('members, assignments, committed offsets and lag of a group')).action(
    async (group: string, o: { server?: string }) => {
      const d = await withAdmin(o.server, (a) => a.describeGroup(group));
      for (const line of describeLines(d)) out(line);
    },
  );

  withServer(groups.command('reset-offsets <group>').description('set the committed offsets of a group with no active members on every partition of a topic'))
    .requiredOption('--topic <topic>', 'the topic whose partitions are reset (all of them)')
    .option('--to-earliest', 'to the log start of each partition')
    .option('--to-latest', 'to the high watermark of each partition (skip everything there now)')
    .option('--to-offset <n>', 'to this offset on every partition, as given', nonNegativeInt('--to-offset'))
    .option('--dry-run', 'show the new offsets without committing them')
    .action(async (group: string, o: { topic: string; toEarliest?: boolean; toLatest?: boolean; toOffset?: number; dryRun?: boolean; server?: string }) => {
      const target = resetTarget(o);
      const offsets = await withAdmin(o.server, async (admin) => {
        const computed = await newOffsets(admin, o.topic, target);
        // The node checks for members when committing; a dry run asks first, so that it shows
        // what a real run would do. The table is printed after the commit: a refused reset
        // prints only the error.
        if (o.dryRun) {
          if ((await memberCount(admin, group)) > 0) throw activeGroupError(group);
          return computed;
        }
        try {
          await admin.resetOffsets(group, computed);
        } catch (err) {
          throw isEddyError(err, 'NON_EMPTY_GROUP') ? activeGroupError(group) : err;
        }
        return computed;
      });
      out(table(['TOPIC', 'PARTITION', 'NEW-OFFSET'], offsets.map((r) => [r.topic, r.partition, r.offset])));
      out(o.dryRun ? 'dry run: nothing committed' : `committed new offsets of group ${group} on ${plural(offsets.length, 'partition')} of ${o.topic}`);
    });

  withServer(groups.command('delete <group>').description('delete a group with no active members, and its committed offsets')).action(
    async (group: string, o: { server?: string }) => {
      await withAdmin(o.server, (a) => a.deleteGroups([group]));
      out(`deleted group ${group}`);
    },
  );
}
