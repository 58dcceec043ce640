/** Compaction decisions (pure): which records survive a cleaner pass. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideBatch,
  keyString,
  LatestOffsets,
  planCompaction,
  ProducerLastBatches,
  type CleanerBatch,
  type CleanerRecord,
  type CompactionPlan,
  type CompactionPolicy,
} from '../../node/storage/compaction.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const DAY = 86_400_000;
const T0 = 1_700_000_000_000;

/** A batch from [key, value] pairs at consecutive offsets from `base`; value null is a tombstone, key null keyless. */
function batch(base: number, records: [string | null, string | null][], extra: Partial<CleanerBatch> = {}, ts = T0): CleanerBatch {
  return {
    baseOffset: base,
    lastOffset: base + records.length - 1,
    producerId: -1,
    isControl: false,
    records: records.map(([k, v], i) => ({ offset: base + i, timestamp: ts + i, key: k === null ? null : utf8(k), value: v === null ? null : utf8(v) })),
    ...extra,
  };
}

/** The log after a plan: rewritten batches keep only the kept offsets, emptied ones none, deleted ones go. */
function apply(batches: readonly CleanerBatch[], plan: CompactionPlan): CleanerBatch[] {
  const out: CleanerBatch[] = [];
  for (const b of batches) {
    const c = plan.changes.get(b.baseOffset);
    if (!c) out.push(b);
    else if (c.kind === 'rewrite') out.push({ ...b, records: b.records.filter((r) => c.keep.includes(r.offset)) });
    else if (c.kind === 'empty') out.push({ ...b, records: [] });
  }
  return out;
}

const text = (r: CleanerRecord) => `${r.key === null ? '∅' : new TextDecoder().decode(r.key)}=${r.value === null ? '✝' : new TextDecoder().decode(r.value)}@${r.offset}`;
const contents = (bs: readonly CleanerBatch[]) => bs.flatMap((b) => b.records.map(text));

describe('compaction: decisions', () => {
  const policy = (cleaningPoint: number, now = T0, extra: Partial<CompactionPolicy> = {}): CompactionPolicy => ({ cleaningPoint, now, deleteRetentionMs: DAY, ...extra });

  it("keeps each key's latest record below the cleaning point, by offset, and leaves the rest of the log alone", () => {
    const log = [
      batch(0, [['a', '1'], ['b', '1'], ['a', '2']]),
      batch(3, [['b', '2'], ['c', '1']]),
      batch(5, [['a', '3'], ['c', '2']]), // at the cleaning point: untouched, and does not count
    ];
    const plan = planCompaction(log, policy(5));
    expect(contents(apply(log, plan))).toEqual(['a=2@2', 'b=2@3', 'c=1@4', 'a=3@5', 'c=2@6']);
    expect(plan.changes.get(0)).toEqual({ kind: 'rewrite', keep: [2] });
    expect(plan.changes.has(3)).toBe(false);
    expect(plan.removed).toBe(2);
  });

  it('keeps a winning tombstone until delete.retention.ms has passed since its timestamp, then removes it', () => {
    const log = [batch(0, [['a', '1'], ['b', '1']]), batch(2, [['a', null]], {}, T0 + 10), batch(3, [['z', 'tail']])];
    const early = planCompaction(log, policy(3, T0 + 10 + DAY - 1));
    expect(contents(apply(log, early))).toEqual(['b=1@1', 'a=✝@2', 'z=tail@3']);
    expect(early.nextTombstoneExpiry).toBe(T0 + 10 + DAY);
    const due = planCompaction(log, policy(3, T0 + 10 + DAY));
    expect(contents(apply(log, due))).toEqual(['b=1@1', 'z=tail@3']);
    expect([due.tombstonesRemoved, due.nextTombstoneExpiry]).toEqual([1, null]);
    expect(due.changes.get(2)).toEqual({ kind: 'delete' });
  });

  it('removes records without a key, and never touches control batches', () => {
    const log = [batch(0, [[null, 'x'], ['a', '1']]), batch(2, [['a', 'ctl']], { isControl: true }), batch(3, [['a', '2']]), batch(4, [['t', 't']])];
    expect(contents(apply(log, planCompaction(log, policy(4))))).toEqual(['a=ctl@2', 'a=2@3', 't=t@4']);
  });

  it("keeps an active producer's last batch, emptied, and deletes it once the producer has expired", () => {
    const log = [batch(0, [['a', '1']], { producerId: 7 }), batch(1, [['a', '2']], { producerId: 8 }), batch(2, [['t', 't']])];
    const producers = new ProducerLastBatches();
    for (const b of log) producers.observe({ producerId: b.producerId, lastOffset: b.lastOffset, maxTimestamp: T0 });
    const active = producers.active(T0 + 1000, DAY);
    expect([...active]).toEqual([[7, 0], [8, 1]]);
    const plan = planCompaction(log, policy(2, T0, { activeProducers: active }));
    expect(plan.changes.get(0)).toEqual({ kind: 'empty' });
    const after = apply(log, plan);
    // Already empty and still retained: nothing more to do.
    expect(planCompaction(after, policy(2, T0, { activeProducers: active })).changes.size).toBe(0);
    // Expired: the empty batch goes.
    const later = planCompaction(after, policy(2, T0 + DAY, { activeProducers: producers.active(T0 + DAY, DAY) }));
    expect(later.changes.get(0)).toEqual({ kind: 'delete' });
  });

  it('keeps the lastOffset of a batch whose last record goes (the decision lists offsets only)', () => {
    const b = batch(10, [['a', '1'], ['b', '1'], ['a', '2']]);
    const gappy: CleanerBatch = { ...b, lastOffset: 20 };
    const latest = new LatestOffsets(21);
    latest.observe(gappy);
    latest.observe(batch(21, [['b', '2']]));
    expect(decideBatch(gappy, latest, policy(21))).toMatchObject({ kind: 'rewrite', keep: [11, 12] });
    expect(keyString(utf8('é'))).toBe('\u00c3\u00a9'); // bytes, not characters
  });
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const KEYS = ['a', 'b', 'c', 'd', 'e', null];

/** A stored log: batches with offset gaps (earlier cleanings), keyless records, tombstones, producers, control batches. */
const logArb = fc
  .array(
    fc.record({
      gapBefore: fc.integer({ min: 0, max: 3 }),
      records: fc.array(
        fc.record({ key: fc.constantFrom(...KEYS), tombstone: fc.boolean(), value: fc.nat(99), gap: fc.integer({ min: 0, max: 2 }), age: fc.integer({ min: 0, max: 3 * DAY }) }),
        { minLength: 0, maxLength: 6 },
      ),
      tail: fc.integer({ min: 0, max: 2 }),
      producerId: fc.constantFrom(-1, -1, 1, 2),
      isControl: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    }),
    { minLength: 1, maxLength: 12 },
  )
  .map((specs) => {
    const batches: CleanerBatch[] = [];
    let offset = 0;
    for (const s of specs) {
      offset += s.gapBefore;
      const base = offset;
      const records: CleanerRecord[] = [];
      for (const r of s.records) {
        offset += r.gap;
        records.push({ offset, timestamp: T0 + 3 * DAY - r.age, key: r.key === null ? null : utf8(r.key), value: r.tombstone ? null : utf8(String(r.value)) });
        offset++;
      }
      const lastOffset = (records.length === 0 ? base : offset - 1) + s.tail;
      // A stored batch without records is a producer's last batch that an earlier pass emptied.
      batches.push({ baseOffset: base, lastOffset, producerId: records.length === 0 ? 1 : s.producerId, isControl: s.isControl, records });
      offset = lastOffset + 1;
    }
    return batches;
  });

const scenarioArb = logArb.chain((log) =>
  fc.record({
    log: fc.constant(log),
    // The cleaning point is a batch boundary (the base of a later batch) or the end of the log.
    cleaningPoint: fc.constantFrom(...log.map((b) => b.baseOffset), log[log.length - 1]!.lastOffset + 1),
    now: fc.integer({ min: T0 + 3 * DAY, max: T0 + 5 * DAY }),
    deleteRetentionMs: fc.integer({ min: 0, max: 3 * DAY }),
    expirationMs: fc.integer({ min: 0, max: 4 * DAY }),
  }),
);

function policyOf(s: { log: CleanerBatch[]; cleaningPoint: number; now: number; deleteRetentionMs: number; expirationMs: number }): CompactionPolicy {
  const producers = new ProducerLastBatches();
  for (const b of s.log) producers.observe({ producerId: b.producerId, lastOffset: b.lastOffset, maxTimestamp: Math.max(T0, ...b.records.map((r) => r.timestamp)) });
  return { cleaningPoint: s.cleaningPoint, now: s.now, deleteRetentionMs: s.deleteRetentionMs, activeProducers: producers.active(s.now, s.expirationMs) };
}

/** What a consumer reading from the start ends up with: key → value, tombstones delete (control records are not data). */
function view(bs: readonly CleanerBatch[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const b of bs) {
    if (b.isControl) continue;
    for (const r of b.records) {
      if (r.key === null) continue;
      if (r.value === null) m.delete(keyString(r.key));
      else m.set(keyString(r.key), keyString(r.value));
    }
  }
  return m;
}

describe('compaction: properties', () => {
  it('after cleaning: latest values stay at their offsets, the tail is untouched, no expired tombstone or superseded record stays, offsets increase', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const policy = policyOf(s);
        const plan = planCompaction(s.log, policy);
        const after = apply(s.log, plan);
        const below = (b: CleanerBatch) => !b.isControl && b.lastOffset < s.cleaningPoint;

        // Everything at or after the cleaning point, and control batches, are untouched.
        const untouched = (bs: readonly CleanerBatch[]) => bs.filter((b) => !below(b));
        expect(untouched(after)).toEqual(untouched(s.log));

        // Every key's latest record below the cleaning point stays, at its offset, unless it is an expired tombstone.
        const latest = new Map<string, CleanerRecord>();
        for (const b of s.log.filter(below)) for (const r of b.records) if (r.key) latest.set(keyString(r.key), r);
        const kept = new Map(after.filter(below).flatMap((b) => b.records.map((r) => [r.offset, r] as const)));
        for (const r of latest.values()) {
          const expired = r.value === null && s.now - r.timestamp >= s.deleteRetentionMs;
          expect(kept.get(r.offset)).toBe(expired ? undefined : r);
        }
        // Nothing else stays below the cleaning point: no superseded record, no keyless record, no expired tombstone.
        for (const r of kept.values()) expect(latest.get(keyString(r.key!))).toBe(r);

        // Offsets strictly increase across the whole log; batches keep their spans.
        const offsets = after.flatMap((b) => b.records.map((r) => r.offset));
        expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
        expect(new Set(offsets).size).toBe(offsets.length);
        for (const b of after) for (const r of b.records) expect(r.offset >= b.baseOffset && r.offset <= b.lastOffset).toBe(true);
        // The log end never moves: the last batch survives (it is at or past the cleaning point, or kept).
        if (s.cleaningPoint <= s.log[s.log.length - 1]!.baseOffset) expect(after[after.length - 1]).toBe(s.log[s.log.length - 1]);

        // A consumer reading from the start ends with the same key → value map.
        expect(view(after)).toEqual(view(s.log));

        // Cleaning is idempotent: a second pass at the same time changes nothing.
        expect(planCompaction(after, policy).changes.size).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});
