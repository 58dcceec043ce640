/**
 * Consumer groups with real consumer processes (test/fixtures/group-consumer.ts) against a real
 * node: assignment, a member killed with SIGKILL, a member added, a graceful leave; every record
 * consumed at least once (exactly once without a crash), and never two live owners of a partition.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Admin, Producer } from '../../gateway/client/index.js';
import { startNode, type RunningNode } from '../../app/start-node.js';
import { ROOT } from '../helpers/eddy-process.js';
import { monotonicMs } from '../helpers/clock.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/client.js';

const FIXTURE = join(ROOT, 'test/fixtures/group-consumer.ts');
const SESSION_MS = 1500;

interface Event {
  ev: string;
  t: number;
  tps?: string[];
  v?: string;
  p?: string;
  o?: number;
}

class Member {
  readonly events: Event[] = [];
  killedAt: number | undefined;
  exited = false;
  #buf = '';
  constructor(
    readonly name: string,
    readonly child: ChildProcessWithoutNullStreams,
  ) {
    child.stdout.on('data', (d: Buffer) => {
      this.#buf += d.toString();
      let i;
      while ((i = this.#buf.indexOf('\n')) >= 0) {
        const line = this.#buf.slice(0, i);
        this.#buf = this.#buf.slice(i + 1);
        if (line.startsWith('{')) this.events.push(JSON.parse(line) as Event);
      }
    });
    child.stderr.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d.toString()}`));
    child.once('exit', () => (this.exited = true));
  }
  /** Partitions it owns now, from its assigned/revoked/lost events. */
  owned(): Set<string> {
    const s = new Set<string>();
    for (const e of this.events) {
      if (e.ev === 'assigned') for (const tp of e.tps!) s.add(tp);
      if (e.ev === 'revoked' || e.ev === 'lost') for (const tp of e.tps!) s.delete(tp);
    }
    return s;
  }
  records(): Event[] {
    return this.events.filter((e) => e.ev === 'record');
  }
  kill(): void {
    this.killedAt = monotonicMs();
    this.child.kill('SIGKILL');
  }
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}

const members: Member[] = [];
let node: RunningNode | undefined;
afterEach(async () => {
  for (const m of members.splice(0)) if (!m.exited) m.child.kill('SIGKILL');
  await node?.close();
  node = undefined;
});

function startMember(name: string, server: string, group: string): Member {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: ROOT,
    env: { ...process.env, SERVER: server, GROUP: group, TOPIC: 'events', SESSION_MS: String(SESSION_MS) },
  });
  const m = new Member(name, child);
  members.push(m);
  return m;
}

async function setup(): Promise<{ url: string; producer: Producer; sent: string[]; produce: (n: number) => Promise<void> }> {
  node = await startNode({ dataDir: tempDir() });
  const admin = new Admin({ server: node.url });
  await admin.createTopics([{ name: 'events', partitions: 6 }]);
  await admin.close();
  const producer = new Producer({ server: node.url, lingerMs: 1 });
  const sent: string[] = [];
  const produce = async (n: number) => {
    const base = sent.length;
    const values = Array.from({ length: n }, (_, i) => `e${base + i}`);
    sent.push(...values);
    await Promise.all(values.map((v) => producer.send({ topic: 'events', key: v, value: v })));
  };
  return { url: node.url, producer, sent, produce };
}

const sizes = (ms: Member[]) => ms.map((m) => m.owned().size).join('/');

/**
 * Each partition of `events` has one owner among `live`, and nothing is left to read: the owner's
 * last record from it is the partition's last, or the group has committed the log end (the owner
 * took it over from a member that read and committed everything, and starts there). Then a
 * duplicate (a re-read from an offset older than the one committed) has been read, and counted,
 * already.
 */
function readToTheEnd(live: Member[], group: string): boolean {
  const owners = new Map<string, Member[]>();
  for (const m of live) for (const tp of m.owned()) owners.set(tp, [...(owners.get(tp) ?? []), m]);
  if (owners.size !== 6) return false; // a partition between owners
  return [...owners].every(([tp, [m, ...others]]) => {
    const partition = Number(tp.slice(tp.lastIndexOf('-') + 1));
    const end = node!.topics.partition('events', partition).logEndOffset;
    if (others.length > 0) return false;
    return m!.records().filter((r) => r.p === tp).at(-1)?.o === end - 1 || node!.groups.offsets.get(group, 'events', partition)?.offset === end;
  });
}

/**
 * Per partition, the intervals during which each member owned it (assigned → revoked/lost, or
 * → kill time, or → now), and a check that no two intervals overlap and every record a member
 * processed falls inside one of its own intervals.
 */
function checkExclusiveOwnership(ms: Member[]): void {
  const intervals = new Map<string, { member: string; from: number; to: number }[]>();
  const end = monotonicMs();
  for (const m of ms) {
    const open = new Map<string, number>();
    for (const e of m.events) {
      if (e.ev === 'assigned') for (const tp of e.tps!) open.set(tp, e.t);
      if (e.ev === 'revoked' || e.ev === 'lost') {
        for (const tp of e.tps!) {
          const list = intervals.get(tp) ?? [];
          list.push({ member: m.name, from: open.get(tp)!, to: e.t });
          intervals.set(tp, list);
          open.delete(tp);
        }
      }
      if (e.ev === 'record') {
        expect(open.has(e.p!), `${m.name} processed ${e.p} offset ${e.o} without owning it`).toBe(true);
      }
    }
    for (const [tp, from] of open) {
      const list = intervals.get(tp) ?? [];
      list.push({ member: m.name, from, to: m.killedAt ?? end });
      intervals.set(tp, list);
    }
  }
  for (const [tp, list] of intervals) {
    list.sort((a, b) => a.from - b.from);
    for (let i = 1; i < list.length; i++) {
      expect(list[i]!.from, `${tp}: ${list[i]!.member} started before ${list[i - 1]!.member} stopped`).toBeGreaterThanOrEqual(list[i - 1]!.to);
    }
  }
}

describe('consumer group with real consumer processes', () => {
  it('3 members share 6 partitions; a SIGKILLed member’s partitions move after the session timeout; a new member gets partitions; every record is consumed at least once', async () => {
    const { url, producer, sent, produce } = await setup();
    const [a, b, c] = ['a', 'b', 'c'].map((name) => startMember(name, url, 'g-kill'));
    await waitFor(() => sizes([a!, b!, c!]) === '2/2/2', 'a 2/2/2 assignment', 15_000);
    await produce(300);
    await waitFor(() => new Set(members.flatMap((m) => m.records().map((r) => r.v))).size === 300, 'the first 300 records', 10_000);

    c!.kill();
    const killedAt = performance.now();
    await produce(300); // c's partitions wait in the log until they move
    await waitFor(() => sizes([a!, b!]) === '3/3', 'c’s partitions moving to a and b', 10_000);
    const movedAfterMs = performance.now() - killedAt;
    expect(movedAfterMs).toBeGreaterThanOrEqual(SESSION_MS - 200); // not before the session timeout

    const d = startMember('d', url, 'g-kill');
    await waitFor(() => sizes([a!, b!, d]) === '2/2/2', 'the new member getting its share', 15_000);
    await produce(300);
    await waitFor(() => new Set(members.flatMap((m) => m.records().map((r) => r.v))).size === sent.length, 'every record', 15_000);
    await producer.close();

    const consumed = members.flatMap((m) => m.records().map((r) => r.v!));
    expect(new Set(consumed)).toEqual(new Set(sent)); // at least once
    // The others resumed from c's committed offsets: the only records read twice are ones c
    // processed after its last commit (its crash window).
    const lastCommit = c!.events.map((e) => e.ev).lastIndexOf('committed');
    const uncommitted = new Set(c!.events.slice(lastCommit + 1).filter((e) => e.ev === 'record').map((e) => e.v));
    const counts = new Map<string, number>();
    for (const v of consumed) counts.set(v, (counts.get(v) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1).map(([v]) => v);
    for (const v of twice) expect(uncommitted.has(v), `${v} consumed twice but committed by c`).toBe(true);
    checkExclusiveOwnership(members);
  }, 60_000);

  it('with manual commit after processing and no crash, joins and graceful leaves consume every record exactly once', async () => {
    const { url, producer, sent, produce } = await setup();
    const [a, b, c] = ['a', 'b', 'c'].map((name) => startMember(name, url, 'g-exact'));
    await waitFor(() => sizes([a!, b!, c!]) === '2/2/2', 'a 2/2/2 assignment', 15_000);
    // Records flow until the join and the leave below are both done (at least 15 waves).
    let left = false;
    const producing = (async () => {
      for (let i = 0; i < 15 || !left; i++) {
        await produce(40);
        await new Promise((r) => setTimeout(r, 50)); // a pace, not a wait: 40 records per 50 ms
      }
    })();
    const d = startMember('d', url, 'g-exact'); // join while records flow
    await waitFor(() => d.owned().size > 0, 'd getting partitions', 15_000);
    await c!.stop(); // graceful leave while records flow
    left = true;
    await producing;
    await waitFor(() => members.reduce((n, m) => n + m.records().length, 0) >= sent.length, 'every record', 15_000);
    await waitFor(() => readToTheEnd([a!, b!, d], 'g-exact'), 'every partition read to its log end by its owner, or committed there', 15_000);
    await producer.close();

    const consumed = members.flatMap((m) => m.records().map((r) => r.v!));
    expect(consumed.length).toBe(sent.length);
    expect(new Set(consumed)).toEqual(new Set(sent));
    checkExclusiveOwnership(members);
  }, 60_000);
});
