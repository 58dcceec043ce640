/**
 * `npm run bench -- groups`: how long a consumer group takes to rebalance when a member joins
 * and when one leaves gracefully, on loopback, with the node in a child process.
 *
 * A rebalance counts as done when every partition is consumed again, by exactly one member, and
 * the assignment is balanced (sizes differ by at most one) — i.e. when the application could go
 * on at full speed — measured from the moment `subscribe()` (join) or `close()` (leave) is
 * called (for a leave, after the leaving application has stopped its poll loop). Members keep polling throughout, since partitions are released between polls. Also
 * reported: the round trip of one request on the same connection type, so the figures can be
 * read as "so many round trips".
 */
import { Admin, Connection, Consumer } from '../gateway/client/index.js';
import { Apis } from '../protocol/apis/index.js';
import { machine, nowMs, percentile, result, round, say } from './lib.js';
import { withNodeProcess } from './node-process.js';

const PARTITIONS = 12;
const BASE_MEMBERS = 3;
const ROUNDS = Number(process.env.EDDY_BENCH_GROUP_ROUNDS ?? 15);

interface Member {
  consumer: Consumer;
  /** Ends the application's poll loop (not part of the measured leave). */
  halt(): Promise<void>;
  stop(): Promise<void>;
}

function startMember(url: string, onChange: () => void): Member {
  const consumer = new Consumer({ server: url, groupId: 'bench', sessionTimeoutMs: 10_000, maxWaitMs: 50, autoOffsetReset: 'latest' });
  let running = true;
  const polling = (async () => {
    await consumer.subscribe(['bench'], { onPartitionsAssigned: onChange, onPartitionsRevoked: onChange });
    while (running) await consumer.poll({ timeoutMs: 20 });
  })();
  const halt = async () => {
    running = false;
    await polling;
  };
  return {
    consumer,
    halt,
    async stop() {
      await halt();
      await consumer.close();
    },
  };
}

/** Every partition owned by exactly one member, sizes within one of each other. */
function settled(members: readonly Member[]): boolean {
  const sizes = members.map((m) => m.consumer.assignment().length);
  const owned = new Set(members.flatMap((m) => m.consumer.assignment().map((tp) => tp.partition)));
  const total = sizes.reduce((a, b) => a + b, 0);
  return total === PARTITIONS && owned.size === PARTITIONS && Math.max(...sizes) - Math.min(...sizes) <= 1;
}

/** Resolves with the time at which `members` first satisfy `settled`, checking on every change. */
function whenSettled(members: () => readonly Member[], changes: { listener: (() => void) | null }): Promise<number> {
  return new Promise((resolve) => {
    const check = () => {
      if (settled(members())) {
        changes.listener = null;
        resolve(nowMs());
      }
    };
    changes.listener = check;
    check();
  });
}

async function rtt(url: string): Promise<number> {
  const conn = new Connection({ url, clientId: 'bench-rtt' });
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = nowMs();
    await conn.request(Apis.ApiVersions, {});
    times.push(nowMs() - t);
  }
  await conn.close();
  return percentile(times.sort((a, b) => a - b), 50);
}

export async function run(): Promise<void> {
  await withNodeProcess('groups', { mqtt: false }, async ({ url }) => {
    say(`  machine: ${machine()}; ${PARTITIONS} partitions, ${BASE_MEMBERS} members + 1 joining and leaving, sticky assignor, node in a child process, loopback`);
    const admin = new Admin({ server: url });
    await admin.createTopics([{ name: 'bench', partitions: PARTITIONS }]);
    await admin.close();
    const rttMs = await rtt(url);

    const changes: { listener: (() => void) | null } = { listener: null };
    const onChange = () => changes.listener?.();
    const members: Member[] = [];
    for (let i = 0; i < BASE_MEMBERS; i++) members.push(startMember(url, onChange));
    await whenSettled(() => members, changes);

    const joins: number[] = [];
    const leaves: number[] = [];
    for (let r = 0; r < ROUNDS + 1; r++) {
      let t0 = nowMs();
      members.push(startMember(url, onChange)); // unsettled now: the newcomer owns nothing yet
      const joinMs = (await whenSettled(() => members, changes)) - t0;

      const leaving = members.pop()!;
      await leaving.halt();
      const left = whenSettled(() => members, changes);
      t0 = nowMs();
      await leaving.consumer.close(); // releases its partitions, leaves the group
      const leaveMs = (await left) - t0;
      if (r > 0) {
        // round 0 warms up code paths and connections
        joins.push(joinMs);
        leaves.push(leaveMs);
      }
    }
    for (const m of members) await m.stop();

    joins.sort((a, b) => a - b);
    leaves.sort((a, b) => a - b);
    const joinMedian = percentile(joins, 50);
    const leaveMedian = percentile(leaves, 50);
    say(
      `  join: median ${round(joinMedian)} ms (p90 ${round(percentile(joins, 90))} ms) | graceful leave: median ${round(leaveMedian)} ms ` +
        `(p90 ${round(percentile(leaves, 90))} ms) | request round trip ${round(rttMs, 3)} ms | ${ROUNDS} rebalances each; target < 500 ms`,
    );
    result({
      suite: 'groups',
      joinRebalanceMs: round(joinMedian),
      leaveRebalanceMs: round(leaveMedian),
      joinP90Ms: round(percentile(joins, 90)),
      leaveP90Ms: round(percentile(leaves, 90)),
      rounds: ROUNDS,
      rttMs: round(rttMs, 3),
      joinInRoundTrips: round(joinMedian / rttMs, 1),
      leaveInRoundTrips: round(leaveMedian / rttMs, 1),
    });
  });
}
