import { encodeRecordBatch } from '../../protocol/record-batch.js';

const enc = new TextEncoder();

/** A producer batch of `n` records "<tag>-<i>", timestamps `ts`, `ts+1`, … */
export function batchOf(n: number, tag = 'r', ts = 1_700_000_000_000): Uint8Array {
  return encodeRecordBatch(
    Array.from({ length: n }, (_, i) => ({ key: enc.encode(`k${i}`), value: enc.encode(`${tag}-${i}`), timestamp: ts + i })),
  );
}

/** A batch of `n` records of `size`-byte values, as benchmarks and crash tests use. */
export function sizedBatch(n: number, size: number, seed = 0): Uint8Array {
  const value = new Uint8Array(size);
  for (let i = 0; i < size; i++) value[i] = (seed + i * 31) & 0xff;
  return encodeRecordBatch(Array.from({ length: n }, () => ({ value })), { baseTimestamp: 1_700_000_000_000 + seed });
}
