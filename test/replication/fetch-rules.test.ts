/** A follower fetch's epoch checks, divergence and truncation point (node/replication/fetch-rules.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkReplicaFetch, truncationPoint } from '../../node/replication/fetch-rules.js';
import { LeaderEpochCache } from '../../node/storage/leader-epoch-cache.js';

/** A cache for a log given as the epoch of each offset. */
function cacheOf(epochs: readonly number[]): LeaderEpochCache {
  const c = new LeaderEpochCache();
  epochs.forEach((e, offset) => {
    if (offset === 0 || epochs[offset - 1] !== e) c.assign(e, offset);
  });
  return c;
}

const leaderView = (epochs: number[], leaderEpoch: number) => ({ leaderEpoch, cache: cacheOf(epochs), logStartOffset: 0, logEndOffset: epochs.length });

describe('checkReplicaFetch', () => {
  const leader = leaderView([1, 1, 1, 3, 3, 5], 5);

  it('serves a follower that agrees with the log', () => {
    expect(checkReplicaFetch(leader, { currentLeaderEpoch: 5, fetchOffset: 4, lastFetchedEpoch: 3 })).toEqual({ kind: 'read' });
    expect(checkReplicaFetch(leader, { currentLeaderEpoch: 5, fetchOffset: 6, lastFetchedEpoch: 5 })).toEqual({ kind: 'read' });
    expect(checkReplicaFetch(leader, { currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1 })).toEqual({ kind: 'read' });
  });

  it('fences stale epochs and refuses unknown ones', () => {
    expect(checkReplicaFetch(leader, { currentLeaderEpoch: 4, fetchOffset: 4, lastFetchedEpoch: 3 })).toMatchObject({ kind: 'error', error: 'FENCED_LEADER_EPOCH' });
    expect(checkReplicaFetch(leader, { currentLeaderEpoch: 6, fetchOffset: 4, lastFetchedEpoch: 3 })).toMatchObject({ kind: 'error', error: 'UNKNOWN_LEADER_EPOCH' });
  });

  it('answers a diverging epoch when the follower has more of an epoch than the leader, or an epoch it never had', () => {
    // The follower wrote offsets 3..4 in epoch 1 under the old leader; the leader's epoch 1 ends at 3.
    expect(checkReplicaFetch(leader, { currentLeaderEpoch: 5, fetchOffset: 5, lastFetchedEpoch: 1 })).toEqual({ kind: 'diverging', epoch: 1, endOffset: 3 });
    // Epoch 2 never made it here: the leader's largest epoch at or below it is 1, ending at 3.
    expect(checkReplicaFetch(leader, { currentLeaderEpoch: 5, fetchOffset: 4, lastFetchedEpoch: 2 })).toEqual({ kind: 'diverging', epoch: 1, endOffset: 3 });
  });

  it('is OFFSET_OUT_OF_RANGE past the log end when the epochs agree', () => {
    expect(checkReplicaFetch(leader, { currentLeaderEpoch: 5, fetchOffset: 9, lastFetchedEpoch: -1 })).toMatchObject({ kind: 'error', error: 'OFFSET_OUT_OF_RANGE' });
  });
});

describe('truncationPoint', () => {
  it('cuts at the smaller of the two ends of the shared epoch; incomplete when the follower lacks it', () => {
    const follower = { cache: cacheOf([1, 1, 1, 1, 1, 2]), logStartOffset: 0, logEndOffset: 6, highWatermark: 2 };
    expect(truncationPoint(follower, { epoch: 1, endOffset: 3 })).toEqual({ offset: 3, complete: true });
    // The leader names epoch 3, which the follower never had: cut to the leader's end and ask again.
    expect(truncationPoint(follower, { epoch: 3, endOffset: 4 })).toEqual({ offset: 4, complete: false });
    expect(truncationPoint(follower, { epoch: -1, endOffset: -1 })).toEqual({ offset: 2, complete: false });
  });
});

describe('fetch rules, property', () => {
  /**
   * Histories: a shared prefix, then the follower's tail from an old leader (epochs from the last
   * shared one up) and the leader's tail in later epochs than any of the follower's. A record is
   * its (offset, epoch): one leader per epoch, so two logs agree where their epochs agree.
   */
  const history = fc
    .record({
      prefix: fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 20 }),
      followerTail: fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 10 }),
      leaderTail: fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 10 }),
      gap: fc.integer({ min: 1, max: 3 }),
    })
    .map(({ prefix, followerTail, leaderTail, gap }) => {
      const steps = (start: number, incs: number[]) => {
        let e = start;
        return incs.map((i) => (e += i));
      };
      const shared = steps(1, prefix);
      const last = shared.at(-1) ?? 1;
      const follower = [...shared, ...steps(last, followerTail)];
      const leaderStart = Math.max(last, follower.at(-1) ?? last) + gap;
      const leader = [...shared, ...steps(leaderStart, leaderTail).map((e, i) => (i === 0 ? leaderStart : e))];
      return { shared: shared.length, follower, leader, leaderEpoch: Math.max(leaderStart, leader.at(-1) ?? 1) };
    });

  it('a follower that truncates as told ends with only records the leader has, then reads on', () => {
    fc.assert(
      fc.property(history, ({ shared, follower, leader, leaderEpoch }) => {
        const l = leaderView(leader, leaderEpoch);
        let log = [...follower];
        for (let round = 0; round < 10; round++) {
          const check = checkReplicaFetch(l, { currentLeaderEpoch: leaderEpoch, fetchOffset: log.length, lastFetchedEpoch: log.at(-1) ?? -1 });
          if (check.kind === 'read') break;
          expect(check.kind).toBe('diverging');
          if (check.kind !== 'diverging') return;
          const cut = truncationPoint({ cache: cacheOf(log), logStartOffset: 0, logEndOffset: log.length, highWatermark: 0 }, check);
          expect(cut.offset).toBeLessThan(log.length + 1);
          log = log.slice(0, cut.offset);
        }
        // What is left is exactly the shared prefix (nothing the logs agree on is cut, nothing they
        // disagree on is kept), and the leader now serves it.
        expect(log).toEqual(leader.slice(0, shared));
        expect(checkReplicaFetch(l, { currentLeaderEpoch: leaderEpoch, fetchOffset: log.length, lastFetchedEpoch: log.at(-1) ?? -1 })).toEqual({ kind: 'read' });
      }),
      { numRuns: 2000 },
    );
  });
});
