/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as Kafka's RecordBatch v2 uses.
 * Slice-by-8: eight 256-entry tables let the loop consume 8 bytes per step, several times
 * faster in V8 than the byte-at-a-time loop. Pure JS so the client runs in a browser too.
 */
const TABLES: Int32Array[] = buildTables();

function buildTables(): Int32Array[] {
  const tables = Array.from({ length: 8 }, () => new Int32Array(256));
  const t0 = tables[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t0[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t0[n]!;
    for (let k = 1; k < 8; k++) {
      c = t0[c & 0xff]! ^ (c >>> 8);
      tables[k]![n] = c;
    }
  }
  return tables;
}

export type Crc32c = (bytes: Uint8Array, start: number, end: number) => number;

let active: Crc32c = crc32cJs;
let activeName = 'javascript';

/**
 * CRC-32C of bytes[start, end) as an unsigned 32-bit number. Pure JavaScript unless a faster
 * implementation was installed (crc32c-native.ts does so in Node, with hardware CRC).
 */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return active(bytes, start, end);
}

/** Replaces the implementation; it must agree with crc32cJs (a test checks the native one). */
export function setCrc32cImplementation(name: string, impl: Crc32c): void {
  active = impl;
  activeName = name;
}

export function crc32cImplementation(): string {
  return activeName;
}

/** The portable implementation (browsers, platforms without the native module). */
export function crc32cJs(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [
    Int32Array, Int32Array, Int32Array, Int32Array,
    Int32Array, Int32Array, Int32Array, Int32Array,
  ];
  // Little-endian 32-bit loads through a DataView: a third faster in V8 than assembling the
  // words from single bytes (measured: ~1.0 GB/s against ~0.77 GB/s on one EPYC core).
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let crc = -1;
  let i = start;
  const end8 = end - ((end - start) & 7);
  while (i < end8) {
    const a = crc ^ dv.getInt32(i, true);
    const b = dv.getInt32(i + 4, true);
    crc =
      t7[a & 0xff]! ^ t6[(a >>> 8) & 0xff]! ^ t5[(a >>> 16) & 0xff]! ^ t4[a >>> 24]! ^
      t3[b & 0xff]! ^ t2[(b >>> 8) & 0xff]! ^ t1[(b >>> 16) & 0xff]! ^ t0[b >>> 24]!;
    i += 8;
  }
  while (i < end) crc = t0[(crc ^ bytes[i++]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
