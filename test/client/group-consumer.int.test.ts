/** Consumer groups through the client SDK against a real node: assignment, commits, rebalances. */
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../app/start-node.js';
import { Admin, Consumer, Producer, isEddyError, type ConsumedRecord, type ConsumerOptions, type TopicPartition } from '../../gateway/client/index.js';
import { testNode } from '../helpers/node.js';
import { tempDir } from '../helpers/tmp.js';
import { rejection, waitFor, waitForAsync } from '../helpers/client.js';

const text = (b: Uint8Array | null) => (b === null ? '' : new TextDecoder().decode(b));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const node = testNode;

async function createTopic(n: RunningNode, name: string, partitions: number): Promise<void> {
  const admin = new Admin({ server: n.url });
  await admin.createTopics([{ name, partitions }]);
  await admin.close();
}

async function produce(n: RunningNode, topic: string, values: string[]): Promise<void> {
  const p = new Producer({ server: n.url });
  await Promise.all(values.map((v, i) => p.send({ topic, key: `k${i}`, value: v })));
  await p.close();
}

function consumer(n: RunningNode, opts: Partial<ConsumerOptions> = {}): Consumer {
  const c = new Consumer({ server: n.url, groupId: 'g', autoOffsetReset: 'earliest', sessionTimeoutMs: 2000, maxWaitMs: 100, ...opts });
  cleanups.push(() => c.close());
  return c;
}

const keyOf = (tp: TopicPartition) => `${tp.topic}-${tp.partition}`;

/** Polls several consumers in turn until `n` records arrived in total, committing after each batch. */
async function drain(consumers: Consumer[], n: number, seen: ConsumedRecord[], ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (seen.length < n && Date.now() < end) {
    for (const c of consumers) {
      const batch = await c.poll({ timeoutMs: 50 });
      seen.push(...batch);
      if (batch.length > 0) await c.commit();
    }
  }
  expect(seen.length, `records after ${ms} ms`).toBe(n);
}

describe('consumer groups (client SDK, real node)', () => {
  it('two members split four partitions and together read every record exactly once', async () => {
    const n = await node();
    await createTopic(n, 't', 4);
    await produce(n, 't', Array.from({ length: 200 }, (_, i) => `v${i}`));
    const a = consumer(n, { autoCommit: false });
    const b = consumer(n, { autoCommit: false });
    await a.subscribe(['t']);
    await b.subscribe(['t']);
    await waitFor(() => a.assignment().length === 2 && b.assignment().length === 2, 'a 2/2 split', 5000);
    const mine = new Set([...a.assignment(), ...b.assignment()].map(keyOf));
    expect(mine.size).toBe(4);
    const seen: ConsumedRecord[] = [];
    await drain([a, b], 200, seen);
    expect(new Set(seen.map((r) => text(r.value))).size).toBe(200);
  });

  it('a graceful leave hands its partitions over at once, and the other member resumes from the commits', async () => {
    const n = await node();
    await createTopic(n, 't', 4);
    await produce(n, 't', Array.from({ length: 100 }, (_, i) => `a${i}`));
    const a = consumer(n, { autoCommit: false });
    const b = consumer(n, { autoCommit: false });
    await a.subscribe(['t']);
    await b.subscribe(['t']);
    await waitFor(() => a.assignment().length === 2 && b.assignment().length === 2, 'a 2/2 split', 5000);
    const seen: ConsumedRecord[] = [];
    await drain([a, b], 100, seen);
    await a.close(); // leaves the group: b gets everything
    await waitFor(() => b.assignment().length === 4, 'b owning all four partitions', 3000);
    await produce(n, 't', Array.from({ length: 100 }, (_, i) => `b${i}`));
    await drain([b], 200, seen);
    const values = seen.map((r) => text(r.value));
    expect(new Set(values).size).toBe(200); // nothing twice
  });

  it('auto-commit commits processed positions; a new member of the group starts from them, also after a node restart', async () => {
    const dir = tempDir();
    let n = await node(dir);
    await createTopic(n, 't', 2);
    await produce(n, 't', Array.from({ length: 50 }, (_, i) => `x${i}`));
    const a = consumer(n, { autoCommitIntervalMs: 100 });
    await a.subscribe(['t']);
    const seen: ConsumedRecord[] = [];
    while (seen.length < 50) seen.push(...(await a.poll({ timeoutMs: 200 })));
    await a.close(); // commits on leave
    await n.close();
    n = await node(dir);
    await produce(n, 't', ['after-restart']);
    const b = consumer(n);
    await b.subscribe(['t']);
    // Poll until b stands at the log end of both partitions: whatever it read on the way there
    // (a replay from before the commits included) is in `more`.
    const more: ConsumedRecord[] = [];
    const atLogEnd = async () => {
      const owned = b.assignment();
      if (owned.length !== 2) return false;
      for (const tp of owned) if ((await b.position(tp)) !== n.topics.partition(tp.topic, tp.partition).logEndOffset) return false;
      return true;
    };
    await waitForAsync(async () => {
      more.push(...(await b.poll({ timeoutMs: 200 })));
      return atLogEnd();
    }, 'b at the log end of both partitions', 5000);
    expect(more.map((r) => text(r.value))).toEqual(['after-restart']);
  });

  it('a regex subscription picks up a topic created later', async () => {
    const n = await node();
    await createTopic(n, 'sensor-a', 1);
    const c = consumer(n);
    const assigned: string[] = [];
    await c.subscribe({ regex: 'sensor-.*' }, { onPartitionsAssigned: (tps) => void assigned.push(...tps.map(keyOf)) });
    await waitFor(() => c.assignment().length === 1, 'sensor-a assigned', 3000);
    await createTopic(n, 'sensor-b', 2);
    await createTopic(n, 'other', 1);
    await waitFor(() => c.assignment().length === 3, 'sensor-b assigned', 3000);
    expect(assigned.sort()).toEqual(['sensor-a-0', 'sensor-b-0', 'sensor-b-1']);
    await produce(n, 'sensor-b', ['hello']);
    const got: ConsumedRecord[] = [];
    const end = Date.now() + 3000;
    while (got.length < 1 && Date.now() < end) got.push(...(await c.poll({ timeoutMs: 100 })));
    expect(got.map((r) => `${r.topic}:${text(r.value)}`)).toEqual(['sensor-b:hello']);
  });

  it('a commit for a partition the member does not own is refused with STALE_MEMBER_EPOCH', async () => {
    const n = await node();
    await createTopic(n, 't', 2);
    const a = consumer(n, { autoCommit: false });
    const b = consumer(n, { autoCommit: false });
    await a.subscribe(['t']);
    await b.subscribe(['t']);
    await waitFor(() => a.assignment().length === 1 && b.assignment().length === 1, 'a 1/1 split', 5000);
    const notMine = b.assignment()[0]!;
    const err = await rejection(a.commit([{ ...notMine, offset: 5 }]));
    expect(isEddyError(err, 'STALE_MEMBER_EPOCH')).toBe(true);
  });

  it('refuses a bad subscription with a clear, typed error', async () => {
    const n = await node();
    const c = consumer(n);
    const err = await rejection(c.subscribe({ regex: '(' }));
    expect(isEddyError(err, 'INVALID_REGULAR_EXPRESSION')).toBe(true);
    const d = consumer(n, { sessionTimeoutMs: 10 });
    expect(isEddyError(await rejection(d.subscribe(['t'])), 'INVALID_SESSION_TIMEOUT')).toBe(true);
  });

  it('rebalance listener: revoked partitions are handed over only after the listener and the commit ran', async () => {
    const n = await node();
    await createTopic(n, 't', 2);
    await produce(n, 't', Array.from({ length: 20 }, (_, i) => `r${i}`));
    const events: string[] = [];
    const a = consumer(n, { autoCommit: false });
    await a.subscribe(['t'], {
      onPartitionsAssigned: (tps) => void events.push(`a+${tps.map(keyOf).join(',')}`),
      onPartitionsRevoked: async (tps) => {
        events.push(`a-${tps.map(keyOf).join(',')}`);
        await a.commit();
      },
    });
    await waitFor(() => a.assignment().length === 2, 'a owning both', 3000);
    const first: ConsumedRecord[] = [];
    while (first.length < 20) first.push(...(await a.poll({ timeoutMs: 100 })));
    const b = consumer(n, { autoCommit: false });
    const joining = b.subscribe(['t'], { onPartitionsAssigned: (tps) => void events.push(`b+${tps.map(keyOf).join(',')}`) });
    await joining;
    // a releases only between polls: poll once more so it can.
    const end = Date.now() + 3000;
    while (b.assignment().length < 1 && Date.now() < end) {
      await a.poll({ timeoutMs: 50 });
      await b.poll({ timeoutMs: 50 });
    }
    expect(b.assignment()).toHaveLength(1);
    const moved = keyOf(b.assignment()[0]!);
    expect(events.indexOf(`a-${moved}`)).toBeGreaterThan(-1);
    expect(events.indexOf(`a-${moved}`)).toBeLessThan(events.indexOf(`b+${moved}`));
    // b starts after a's commit: nothing from a's share again.
    await produce(n, 't', Array.from({ length: 20 }, (_, i) => `s${i}`));
    const later: ConsumedRecord[] = [];
    const stop = Date.now() + 3000;
    while (later.length < 20 && Date.now() < stop) {
      later.push(...(await a.poll({ timeoutMs: 50 })), ...(await b.poll({ timeoutMs: 50 })));
    }
    expect(later.map((r) => text(r.value)).every((v) => v.startsWith('s'))).toBe(true);
    expect(later).toHaveLength(20);
  });
  it('commitAsync commits in the background and reports the outcome to its callback', async () => {
    const n = await node();
    await createTopic(n, 't', 1);
    await produce(n, 't', ['a', 'b', 'c']);
    const c = consumer(n, { autoCommit: false });
    await c.subscribe(['t']);
    const got: ConsumedRecord[] = [];
    const end = Date.now() + 3000;
    while (got.length < 3 && Date.now() < end) got.push(...(await c.poll({ timeoutMs: 100 })));
    const outcome = await new Promise<unknown>((resolve) => c.commitAsync(undefined, resolve));
    expect(outcome).toBeUndefined();
    const admin = new Admin({ server: n.url });
    expect(await admin.fetchOffsets('g', [{ topic: 't', partition: 0 }])).toMatchObject([{ topic: 't', partition: 0, offset: 3 }]);
    const refused = await new Promise<unknown>((resolve) => c.commitAsync([{ topic: 't', partition: 7, offset: 1 }], resolve));
    expect(isEddyError(refused, 'UNKNOWN_TOPIC_OR_PARTITION')).toBe(true);
    await admin.close();
  });
});
