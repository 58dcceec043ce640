import { describe, expect, it } from 'vitest';
import { isEddyError } from '../../protocol/errors.js';
import { encodeRecordBatch, stampBatch } from '../../protocol/record-batch.js';
import { recordsFromFetch } from '../../gateway/client/fetched-records.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

/** A batch of `n` records stamped at `base`, values "v<offset>". */
function stored(base: number, n: number, compression: 0 | 1 = 0): Uint8Array {
  const b = encodeRecordBatch(
    Array.from({ length: n }, (_, i) => ({ value: utf8(`v${base + i}`), key: null, timestamp: 1000 + base + i })),
    { compression },
  );
  stampBatch(b, base, 0);
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

describe('records from a fetch response', () => {
  it('skips records below the position in the first batch and advances past the last batch', () => {
    const bytes = concat(stored(0, 5), stored(5, 3, 1));
    const got = recordsFromFetch('t', 2, bytes, 3);
    expect(got.records.map((r) => r.offset)).toEqual([3, 4, 5, 6, 7]);
    expect(got.records.map((r) => text(r.value))).toEqual(['v3', 'v4', 'v5', 'v6', 'v7']);
    expect(got.records[0]).toMatchObject({ topic: 't', partition: 2, timestamp: 1003, key: null, headers: [] });
    expect(got.nextPosition).toBe(8);
    expect(got.stalled).toBe(false);
  });

  it('ignores a trailing partial batch and resumes at its start', () => {
    const second = stored(4, 4);
    const bytes = concat(stored(0, 4), second.subarray(0, second.length - 3));
    const got = recordsFromFetch('t', 0, bytes, 0);
    expect(got.records.map((r) => r.offset)).toEqual([0, 1, 2, 3]);
    expect(got.nextPosition).toBe(4);
  });

  it('reports a stall when not even one whole batch came back', () => {
    const b = stored(0, 10);
    const got = recordsFromFetch('t', 0, b.subarray(0, 70), 0);
    expect(got).toEqual({ records: [], nextPosition: 0, stalled: true });
    expect(recordsFromFetch('t', 0, new Uint8Array(0), 7)).toEqual({ records: [], nextPosition: 7, stalled: false });
  });

  it('skips whole batches below the position', () => {
    const got = recordsFromFetch('t', 0, concat(stored(0, 2), stored(2, 2)), 4);
    expect(got.records).toEqual([]);
    expect(got.nextPosition).toBe(4);
  });

  it('refuses a batch whose CRC does not match, unless CRC checks are off', () => {
    const b = stored(0, 3);
    b[b.length - 2]! ^= 0x01; // the last value "v2" becomes "v3": the layout holds, only the CRC catches it
    let caught: unknown;
    try {
      recordsFromFetch('t', 0, b, 0);
    } catch (err) {
      caught = err;
    }
    expect(isEddyError(caught, 'CORRUPT_MESSAGE')).toBe(true);
    expect(recordsFromFetch('t', 0, b, 0, false).records).toHaveLength(3);
  });
});
