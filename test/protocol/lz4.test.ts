import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Compression, compress, decompress } from '../../protocol/compression.js';
import { crc32c } from '../../protocol/crc32c.js';
import { isEddyError } from '../../protocol/errors.js';
import { blockOutputSize, lz4FrameCompress, lz4FrameDecompress, Lz4FrameError } from '../../protocol/lz4-frame.js';
import { decodeRecords, encodeRecordBatch, HEADER_SIZE, readBatchHeader, validateBatch } from '../../protocol/record-batch.js';
import { xxh32 } from '../../protocol/xxh32.js';
import { fromHex } from '../fixtures/kafka-batches.js';
import { REFERENCE_LZ4_FRAME_HEX, REFERENCE_TEXT, SARAMA_LZ4_BATCH_HEX } from '../fixtures/lz4-frames.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const MB = 1 << 20;

function sensorJson(n: number, seed = 1): Uint8Array {
  let x = seed;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ device: `sensor-${i % 40}`, ts: 1_700_000_000_000 + i * 1000, temp: +(18 + rnd() * 8).toFixed(2), hum: +(40 + rnd() * 20).toFixed(1), battery: +(3.5 + rnd() * 0.3).toFixed(2) }),
  );
  return utf8(lines.join('\n'));
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(Lz4FrameError);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('xxh32', () => {
  it('gives the reference values', () => {
    expect(xxh32(utf8(''))).toBe(0x02cc5d05);
    expect(xxh32(utf8('a'))).toBe(0x550d7456);
    expect(xxh32(utf8('abc'))).toBe(0x32d153ff);
    expect(xxh32(utf8('Nobody inspects the spammish repetition'))).toBe(0xe2293b2f);
  });
});

describe('LZ4 frames: interop', () => {
  it('decodes a frame written by the reference lz4 tool (content checksum verified)', () => {
    expect(new TextDecoder().decode(lz4FrameDecompress(fromHex(REFERENCE_LZ4_FRAME_HEX), MB))).toBe(REFERENCE_TEXT);
    const damaged = fromHex(REFERENCE_LZ4_FRAME_HEX);
    damaged[damaged.length - 1]! ^= 1;
    expect(refusal(() => lz4FrameDecompress(damaged, MB))).toMatch(/content checksum mismatch/);
  });

  it('decodes the Sarama (Go Kafka client) LZ4 record batch byte-exactly', () => {
    const batch = fromHex(SARAMA_LZ4_BATCH_HEX);
    const h = readBatchHeader(batch);
    expect(h).toMatchObject({ compression: Compression.lz4, recordCount: 1, baseTimestamp: 1479847795000 });
    expect(crc32c(batch.subarray(21))).toBe(h.crc);
    const [rec] = decodeRecords(batch);
    expect(rec!.timestamp).toBe(1479847795005);
    expect(Array.from(rec!.key!)).toEqual([1, 2, 3, 4]);
    expect(Array.from(rec!.value!)).toEqual([5, 6, 7]);
    expect(rec!.headers.map((x) => [x.key, Array.from(x.value!)])).toEqual([['\u0008\u0009\u000a', [11, 12]]]);
    // Our frame of the same records is what Kafka writes: version 1, independent blocks, 64 KiB, header checksum.
    const ours = lz4FrameCompress(lz4FrameDecompress(batch.subarray(HEADER_SIZE), MB));
    expect(Buffer.from(ours.subarray(0, 7)).toString('hex')).toBe('04224d18604082');
  });

  it('writes independent blocks of at most 64 KiB, so that Kafka consumers can read our batches', () => {
    const data = sensorJson(2000); // ~160 KiB: three blocks
    const frame = lz4FrameCompress(data);
    expect(frame[4]! & 0x20).toBe(0x20);
    const view = Buffer.from(frame);
    let pos = 7;
    let blocks = 0;
    for (let word = view.readUInt32LE(pos); word !== 0; word = view.readUInt32LE(pos)) {
      const len = word & 0x7fffffff;
      if (!(word & 0x80000000)) expect(blockOutputSize(frame, pos + 4, pos + 4 + len, 64 * 1024)).toBeLessThanOrEqual(64 * 1024);
      pos += 4 + len;
      blocks++;
    }
    expect(blocks).toBe(Math.ceil(data.length / 65536));
    expect(pos + 4).toBe(frame.length);
  });
});

describe('LZ4 frames: round trip', () => {
  it('decodes what it encodes: empty, tiny, incompressible, compressible, several blocks', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.uint8Array({ minLength: 60_000, maxLength: 140_000 }),
          fc.integer({ min: 1, max: 3000 }).map((n) => sensorJson(n, n)),
        ),
        (data) => {
          const frame = lz4FrameCompress(data);
          expect(Buffer.from(lz4FrameDecompress(frame, data.length)).equals(Buffer.from(data))).toBe(true);
          // Incompressible blocks are stored raw: the frame never grows by more than its framing.
          expect(frame.length).toBeLessThanOrEqual(data.length + 11 + 4 * Math.ceil(data.length / 65536));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('compresses sensor JSON about 3-4×', () => {
    const data = sensorJson(100);
    const ratio = data.length / compress(Compression.lz4, data).length;
    expect(ratio).toBeGreaterThan(2.5);
  });

  it('record batches with lz4 round-trip and validate', () => {
    const records = Array.from({ length: 200 }, (_, i) => ({ key: utf8(`k${i % 7}`), value: sensorJson(1, i), timestamp: 1_700_000_000_000 + i }));
    const batch = encodeRecordBatch(records, { compression: Compression.lz4 });
    const h = validateBatch(batch, { maxBatchBytes: MB, denseOffsets: true });
    expect(h.compression).toBe(Compression.lz4);
    const decoded = decodeRecords(batch);
    expect(decoded.map((r) => new TextDecoder().decode(r.value!))).toEqual(records.map((r) => new TextDecoder().decode(r.value)));
  });
});

describe('LZ4 frames: hostile input', () => {
  const good = lz4FrameCompress(sensorJson(1500));

  it('refuses every truncation with a frame error', () => {
    for (let n = 0; n < good.length; n += n < 64 ? 1 : 97) refusal(() => lz4FrameDecompress(good.subarray(0, n), 16 * MB));
  });

  it('never throws anything but a frame error, whatever bytes are flipped', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), (flips) => {
        const bad = Uint8Array.from(good);
        for (const [i, x] of flips) bad[i]! ^= x;
        try {
          const out = lz4FrameDecompress(bad, 16 * MB);
          expect(out.length).toBeLessThanOrEqual(16 * MB);
        } catch (err) {
          expect(err).toBeInstanceOf(Lz4FrameError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a bomb by walking its sequences, before allocating the output', () => {
    const data = new Uint8Array(4 * MB); // zeros: each 64 KiB block is a few hundred bytes
    const frame = lz4FrameCompress(data);
    expect(frame.length).toBeLessThan(20_000);
    expect(refusal(() => lz4FrameDecompress(frame, MB))).toMatch(/more than/);
    expect(lz4FrameDecompress(frame, 4 * MB).length).toBe(4 * MB);
    // Through the codec table the refusal is CORRUPT_MESSAGE, as for gzip.
    try {
      decompress(Compression.lz4, frame, MB);
      throw new Error('expected CORRUPT_MESSAGE');
    } catch (err) {
      expect(isEddyError(err, 'CORRUPT_MESSAGE')).toBe(true);
    }
  });

  it('refuses dependent blocks, reserved bits, a bad header checksum, bad block sizes and trailing bytes', () => {
    const withHeader = (flg: number, bd: number) => {
      const f = Uint8Array.from(good);
      f[4] = flg;
      f[5] = bd;
      f[6] = (xxh32(f, 0, 4, 6) >>> 8) & 0xff;
      return f;
    };
    expect(refusal(() => lz4FrameDecompress(withHeader(0x40, 0x40), MB))).toMatch(/dependent blocks/);
    expect(refusal(() => lz4FrameDecompress(withHeader(0x62, 0x40), MB))).toMatch(/reserved bits/);
    expect(refusal(() => lz4FrameDecompress(withHeader(0x60, 0x30), MB))).toMatch(/block size code 3/);
    const badHc = Uint8Array.from(good);
    badHc[6]! ^= 0xff;
    expect(refusal(() => lz4FrameDecompress(badHc, MB))).toMatch(/header checksum/);
    expect(refusal(() => lz4FrameDecompress(Uint8Array.from([...good, 0]), MB))).toMatch(/1 bytes follow the LZ4 frame/);
    expect(refusal(() => lz4FrameDecompress(utf8('\x1f\x8b gzip, not lz4'), MB))).toMatch(/not an LZ4 frame/);
  });

  it('refuses a match that reaches before the start of its block', () => {
    // token: 1 literal, match length 4; literal "a"; offset 2 (only 1 byte has been output).
    const block = Uint8Array.from([0x10, 0x61, 0x02, 0x00, 0x00]);
    expect(refusal(() => blockOutputSize(block, 0, block.length, MB))).toMatch(/offset 2 reaches outside the block/);
    const ok = Uint8Array.from([0x10, 0x61, 0x01, 0x00, 0x50, 0x62, 0x62, 0x62, 0x62, 0x62]);
    expect(blockOutputSize(ok, 0, ok.length, MB)).toBe(1 + 4 + 5);
  });
});
