import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRecords, RecordBatchBuilder, type RecordInput } from '../../protocol/record-batch.js';
import { estimateRecordSize, groupIntoRequests, RecordAccumulator, type Batch } from '../../gateway/client/accumulator.js';

const rec = (size: number, tag = ''): RecordInput => ({ key: null, value: new TextEncoder().encode(tag.padEnd(size, '.')), timestamp: 1 });

describe('record accumulator: room per partition', () => {
  it('drains at most `room` batches of a partition, oldest first, and leaves out partitions with none', () => {
    const acc = new RecordAccumulator<number>({ batchSizeBytes: 10, lingerMs: 1000 });
    for (let i = 0; i < 5; i++) acc.append('t', 0, rec(20), i, 0); // five full batches
    acc.append('t', 1, rec(20), 10, 0);
    const room = new Map([['t-0', 2], ['t-1', 0]]);
    const roomOf = (topic: string, partition: number) => room.get(`${topic}-${partition}`)!;
    expect(acc.drain(0, false, roomOf).map((b) => b.tickets)).toEqual([[0], [1]]);
    expect(acc.drain(0, true, roomOf).map((b) => b.tickets)).toEqual([[2], [3]]); // force too
    room.set('t-0', 0);
    expect(acc.nextReadyAt(roomOf)).toBeUndefined();
    room.set('t-1', 1);
    expect(acc.nextReadyAt(roomOf)).toBe(-Infinity);
    room.set('t-0', 16);
    expect(acc.drain(0, false, roomOf).map((b) => b.tickets)).toEqual([[4], [10]]);
    expect(acc.recordCount).toBe(0);
  });
});

describe('record accumulator: linger', () => {
  it('holds a batch for lingerMs after its first record, then drains it', () => {
    const acc = new RecordAccumulator<number>({ batchSizeBytes: 16384, lingerMs: 5 });
    acc.append('t', 0, rec(10), 1, 1000);
    acc.append('t', 0, rec(10), 2, 1003);
    expect(acc.nextReadyAt()).toBe(1005);
    expect(acc.drain(1004)).toEqual([]);
    const [batch, ...rest] = acc.drain(1005);
    expect(rest).toEqual([]);
    expect(batch!.tickets).toEqual([1, 2]);
    expect(acc.recordCount).toBe(0);
    expect(acc.nextReadyAt()).toBeUndefined();
  });

  it('keeps one deadline per partition, the earliest first', () => {
    const acc = new RecordAccumulator<string>({ batchSizeBytes: 16384, lingerMs: 10 });
    acc.append('t', 1, rec(1), 'a', 100);
    acc.append('t', 0, rec(1), 'b', 104);
    expect(acc.nextReadyAt()).toBe(110);
    expect(acc.drain(110).map((b) => b.partition)).toEqual([1]);
    expect(acc.nextReadyAt()).toBe(114);
  });

  it('lingerMs 0 makes every batch ready at once; flush (force) drains regardless of linger', () => {
    const zero = new RecordAccumulator<number>({ batchSizeBytes: 16384, lingerMs: 0 });
    zero.append('t', 0, rec(1), 1, 50);
    expect(zero.drain(50)).toHaveLength(1);
    const long = new RecordAccumulator<number>({ batchSizeBytes: 16384, lingerMs: 60_000 });
    long.append('t', 0, rec(1), 1, 50);
    long.append('u', 3, rec(1), 2, 50);
    expect(long.drain(51)).toEqual([]);
    expect(long.drain(51, true).map((b) => `${b.topic}-${b.partition}`)).toEqual(['t-0', 'u-3']);
  });
});

describe('record accumulator: batch size', () => {
  it('closes a batch when the next record would not fit, and reports it', () => {
    const one = estimateRecordSize(rec(100));
    const acc = new RecordAccumulator<number>({ batchSizeBytes: 61 + 2 * one + 1, lingerMs: 1000 });
    expect(acc.append('t', 0, rec(100), 1, 0).batchClosed).toBe(false);
    expect(acc.append('t', 0, rec(100), 2, 0).batchClosed).toBe(false);
    expect(acc.append('t', 0, rec(100), 3, 0).batchClosed).toBe(true);
    expect(acc.nextReadyAt()).toBe(-Infinity);
    const ready = acc.drain(0);
    expect(ready.map((b) => b.tickets)).toEqual([[1, 2]]);
    expect(acc.drain(1000).map((b) => b.tickets)).toEqual([[3]]);
  });

  it('gives a record larger than the batch size a batch of its own', () => {
    const acc = new RecordAccumulator<number>({ batchSizeBytes: 200, lingerMs: 1000 });
    acc.append('t', 0, rec(10), 1, 0);
    expect(acc.append('t', 0, rec(5000), 2, 0).batchClosed).toBe(true);
    acc.append('t', 0, rec(10), 3, 0);
    expect(acc.drain(0).map((b) => b.tickets)).toEqual([[1], [2]]);
    expect(acc.drain(0, true).map((b) => b.tickets)).toEqual([[3]]);
  });
});

describe('grouping batches into Produce requests', () => {
  it('puts at most one batch per partition in a request and keeps partition order', () => {
    const b = (topic: string, partition: number, id: number) =>
      ({ topic, partition, builder: new RecordBatchBuilder(), tickets: [id], createdAt: 0, full: true }) as Batch<number>;
    const groups = groupIntoRequests([b('t', 0, 1), b('t', 0, 2), b('t', 1, 3), b('u', 0, 4), b('t', 0, 5)]);
    expect(groups.map((g) => g.map((x) => x.tickets[0]))).toEqual([[1, 3, 4], [2], [5]]);
  });
});

describe('batching round trip (property)', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('append' as const), partition: fc.integer({ min: 0, max: 3 }), size: fc.integer({ min: 0, max: 700 }), dt: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ kind: fc.constant('drain' as const), dt: fc.integer({ min: 0, max: 10 }) }),
  );

  it('every record is drained once, in order per partition, in batches within the size bound, and decodes back', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 120 }),
        fc.integer({ min: 64, max: 4096 }),
        fc.integer({ min: 0, max: 20 }),
        fc.boolean(),
        (ops, batchSizeBytes, lingerMs, gzip) => {
          const acc = new RecordAccumulator<number>({ batchSizeBytes, lingerMs, compression: gzip ? 1 : 0 });
          const appended = new Map<number, number[]>();
          const appendedAt = new Map<number, number>();
          const drained: Batch<number>[] = [];
          let now = 0;
          let id = 0;
          for (const o of ops) {
            now += o.dt;
            if (o.kind === 'append') {
              const ticket = id++;
              appendedAt.set(ticket, now);
              acc.append('t', o.partition, rec(o.size, `#${ticket}`), ticket, now);
              appended.set(o.partition, [...(appended.get(o.partition) ?? []), ticket]);
            } else {
              for (const b of acc.drain(now)) {
                // Not drained early: it was full, or its first record has lingered long enough.
                expect(b.full || now - appendedAt.get(b.tickets[0]!)! >= lingerMs).toBe(true);
                drained.push(b);
              }
            }
          }
          drained.push(...acc.drain(now, true));
          expect(acc.recordCount).toBe(0);

          const got = new Map<number, number[]>();
          for (const b of drained) {
            if (b.builder.count > 1) expect(b.builder.sizeBytes).toBeLessThanOrEqual(batchSizeBytes);
            got.set(b.partition, [...(got.get(b.partition) ?? []), ...b.tickets]);
            // The accumulated records encode into one valid batch whose offsets match ticket order.
            const decoded = decodeRecords(b.builder.build());
            expect(decoded.map((r) => r.offset)).toEqual(b.tickets.map((_, i) => i));
            expect(decoded.map((r) => new TextDecoder().decode(r.value!).split('.')[0])).toEqual(b.tickets.map((t) => `#${t}`));
          }
          expect(got).toEqual(appended);
        },
      ),
      { numRuns: 200 },
    );
  });
});
