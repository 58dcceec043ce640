import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogOffsets } from '../../node/storage/log-offsets.js';

describe('LogOffsets', () => {
  it('keeps logStart ≤ HW ≤ LEO ≤ next, and the HW moves back only by a truncation, through any sequence of moves', () => {
    const move = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), n: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ kind: fc.constant('commit' as const) }),
      fc.record({ kind: fc.constant('fail' as const) }),
      fc.record({ kind: fc.constant('hw' as const), to: fc.integer({ min: 0, max: 60 }) }),
      fc.record({ kind: fc.constant('truncate' as const), back: fc.integer({ min: 0, max: 8 }) }),
      fc.record({ kind: fc.constant('retain' as const), forward: fc.integer({ min: 0, max: 8 }) }),
      fc.record({ kind: fc.constant('startAt' as const), ahead: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ kind: fc.constant('replicated' as const), on: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(move, { maxLength: 80 }), (replicated, moves) => {
        const o = new LogOffsets({ logStartOffset: 0, startPosition: 0, end: { offset: 0, position: 0, runningMaxTs: -1 }, highWatermark: 0, replicated });
        const sequenced: { offset: number; position: number; runningMaxTs: number }[] = [];
        let heard = 0;
        o.onHighWatermark(() => heard++);
        for (const m of moves) {
          const hwBefore = o.highWatermark;
          const heardBefore = heard;
          let truncated = false;
          if (m.kind === 'append') {
            const end = { offset: o.next.offset + m.n, position: o.next.position + 100 * m.n, runningMaxTs: 1 };
            o.sequenced(end);
            sequenced.push(end);
          } else if (m.kind === 'commit' && sequenced.length > 0) {
            o.committed(sequenced.shift()!);
          } else if (m.kind === 'fail') {
            o.rewindToCommitted();
            sequenced.length = 0;
          } else if (m.kind === 'hw') {
            o.updateHighWatermark(m.to);
          } else if (m.kind === 'truncate') {
            sequenced.length = 0;
            o.rewindTo(Math.max(o.logStartOffset, o.logEndOffset - m.back), null);
            truncated = true;
          } else if (m.kind === 'retain') {
            const to = Math.min(o.highWatermark, o.logStartOffset + m.forward);
            if (to > o.logStartOffset) o.advanceLogStart(to);
          } else if (m.kind === 'startAt') {
            sequenced.length = 0;
            o.startAt(o.logEndOffset + m.ahead);
          } else if (m.kind === 'replicated') {
            o.setReplicated(m.on);
          }
          expect(o.logStartOffset).toBeLessThanOrEqual(o.highWatermark);
          expect(o.highWatermark).toBeLessThanOrEqual(o.logEndOffset);
          expect(o.logEndOffset).toBeLessThanOrEqual(o.next.offset);
          if (!truncated) expect(o.highWatermark).toBeGreaterThanOrEqual(hwBefore);
          // Listeners hear of every rise, and only of rises.
          expect(heard > heardBefore).toBe(o.highWatermark > hwBefore);
          if (!o.replicated) expect(o.highWatermark).toBe(o.logEndOffset);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('a replicated log opens at its checkpoint, clamped into [logStart, LEO]; a single replica at its log end', () => {
    const end = { offset: 10, position: 500, runningMaxTs: 5 };
    expect(new LogOffsets({ logStartOffset: 2, startPosition: 0, end, highWatermark: 7, replicated: true }).highWatermark).toBe(7);
    expect(new LogOffsets({ logStartOffset: 2, startPosition: 0, end, highWatermark: 40, replicated: true }).highWatermark).toBe(10);
    expect(new LogOffsets({ logStartOffset: 2, startPosition: 0, end, highWatermark: 0, replicated: true }).highWatermark).toBe(2);
    expect(new LogOffsets({ logStartOffset: 2, startPosition: 0, end, highWatermark: 7, replicated: false }).highWatermark).toBe(10);
  });
});
