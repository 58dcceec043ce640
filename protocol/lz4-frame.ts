/**
 * LZ4 in the frame format, as Kafka's record batches carry it (codec id 3; Kafka's
 * Lz4BlockOutputStream, with the header checksum fixed by KIP-57). The block codec is lz4_flex
 * compiled to WebAssembly (package `lz4-wasm-nodejs`: no native binary); the frame around it is
 * here, because that package only speaks a size-prefixed block format.
 *
 * Written: version 1, independent blocks of at most 64 KiB, no checksums but the header's (the
 * batch CRC already covers the bytes), exactly what Kafka writes by default. Read: what Kafka
 * reads (block sizes 64 KiB to 4 MiB, optional content size, block and content checksums, which
 * are verified). Dependent blocks are refused, as Kafka refuses them ("Dependent block stream is
 * unsupported"): some JavaScript LZ4 libraries (lz4js) write them, and no Kafka consumer could read
 * such a batch.
 *
 * Reading is hostile-input safe: every length is checked against the bytes left and against the
 * output bound before anything is allocated, and each block's output size is computed by walking
 * its sequences (which also checks every match offset) before the block codec runs, so the
 * codec never sees a block that could overrun.
 */
import * as lz4 from 'lz4-wasm-nodejs';
import { u32le, xxh32 } from './xxh32.js';

const MAGIC = 0x184d2204;
const FLG_VERSION_1 = 0x40;
const FLG_BLOCK_INDEPENDENCE = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_DICT_ID = 0x01;
const UNCOMPRESSED_BLOCK = 0x80000000;
/** Kafka's default block size (BD 4): 64 KiB. */
const WRITE_BLOCK_BYTES = 64 * 1024;
const BD_64K = 4 << 4;

export class Lz4FrameError extends Error {}

function putU32le(b: Uint8Array, i: number, v: number): void {
  b[i] = v & 0xff;
  b[i + 1] = (v >>> 8) & 0xff;
  b[i + 2] = (v >>> 16) & 0xff;
  b[i + 3] = (v >>> 24) & 0xff;
}

/** One LZ4 frame of `data`: independent 64 KiB blocks, each stored raw if it does not shrink. */
export function lz4FrameCompress(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 7 + 4;
  for (let at = 0; at < data.length; at += WRITE_BLOCK_BYTES) {
    const chunk = data.subarray(at, Math.min(at + WRITE_BLOCK_BYTES, data.length));
    // The package's block format: 4-byte little-endian uncompressed size, then the LZ4 block.
    const packed = lz4.compress(chunk);
    const compressed = packed.length - 4 < chunk.length;
    const header = new Uint8Array(4);
    putU32le(header, 0, compressed ? packed.length - 4 : (chunk.length | UNCOMPRESSED_BLOCK) >>> 0);
    parts.push(header, compressed ? packed.subarray(4) : chunk);
    size += 4 + (compressed ? packed.length - 4 : chunk.length);
  }
  const out = new Uint8Array(size);
  putU32le(out, 0, MAGIC);
  out[4] = FLG_VERSION_1 | FLG_BLOCK_INDEPENDENCE;
  out[5] = BD_64K;
  out[6] = (xxh32(out, 0, 4, 6) >>> 8) & 0xff;
  let pos = 7;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  putU32le(out, pos, 0); // end mark
  return out;
}

/**
 * Decompresses one LZ4 frame (the whole of `frame`). Throws Lz4FrameError on anything malformed,
 * on checksum mismatches, and when the output would exceed `maxOutputBytes`.
 */
export function lz4FrameDecompress(frame: Uint8Array, maxOutputBytes: number): Uint8Array {
  const need = (pos: number, n: number, what: string) => {
    if (pos + n > frame.length) throw new Lz4FrameError(`LZ4 frame truncated: ${what} needs ${n} bytes at ${pos}, the frame has ${frame.length}`);
  };
  need(0, 7, 'the header');
  if (u32le(frame, 0) !== MAGIC) throw new Lz4FrameError(`not an LZ4 frame (magic 0x${u32le(frame, 0).toString(16)})`);
  const flg = frame[4]!;
  const bd = frame[5]!;
  if ((flg & 0xc0) !== FLG_VERSION_1) throw new Lz4FrameError(`LZ4 frame version ${flg >>> 6} is not supported (only 1)`);
  if (flg & 0x02 || bd & 0x8f) throw new Lz4FrameError('LZ4 frame descriptor has reserved bits set');
  if (flg & FLG_DICT_ID) throw new Lz4FrameError('LZ4 frames with a dictionary are not supported');
  if (!(flg & FLG_BLOCK_INDEPENDENCE)) {
    throw new Lz4FrameError('LZ4 frame with dependent blocks: Kafka and Eddy read only independent blocks; configure the producer\'s LZ4 library for independent blocks');
  }
  const blockMax = 1 << (2 * ((bd >>> 4) & 7) + 8);
  if (((bd >>> 4) & 7) < 4) throw new Lz4FrameError(`LZ4 block size code ${(bd >>> 4) & 7} is not valid (4 to 7)`);
  let pos = 6;
  if (flg & FLG_CONTENT_SIZE) {
    need(pos, 8, 'the content size');
    const declared = u32le(frame, pos) + u32le(frame, pos + 4) * 2 ** 32;
    if (declared > maxOutputBytes) throw new Lz4FrameError(`LZ4 frame declares ${declared} bytes, more than the ${maxOutputBytes} allowed`);
    pos += 8;
  }
  need(pos, 1, 'the header checksum');
  const hc = (xxh32(frame, 0, 4, pos) >>> 8) & 0xff;
  if (frame[pos] !== hc) throw new Lz4FrameError(`LZ4 frame header checksum is ${frame[pos]}, expected ${hc}`);
  pos++;

  const blocks: { start: number; end: number; raw: boolean; size: number }[] = [];
  let total = 0;
  for (;;) {
    need(pos, 4, 'a block size');
    const word = u32le(frame, pos);
    pos += 4;
    if (word === 0) break; // end mark
    const raw = (word & UNCOMPRESSED_BLOCK) !== 0;
    const len = word & 0x7fffffff;
    if (len > blockMax) throw new Lz4FrameError(`LZ4 block of ${len} bytes exceeds the frame's block size ${blockMax}`);
    need(pos, len, 'a block');
    const size = raw ? len : blockOutputSize(frame, pos, pos + len, Math.min(blockMax, maxOutputBytes - total));
    total += size;
    if (total > maxOutputBytes) throw new Lz4FrameError(`LZ4 frame decompresses to more than the ${maxOutputBytes} bytes allowed`);
    blocks.push({ start: pos, end: pos + len, raw, size });
    pos += len;
    if (flg & FLG_BLOCK_CHECKSUM) {
      need(pos, 4, 'a block checksum');
      if (u32le(frame, pos) !== xxh32(frame, 0, pos - len, pos)) throw new Lz4FrameError('LZ4 block checksum mismatch');
      pos += 4;
    }
  }
  let out: Uint8Array;
  if (blocks.length === 1) {
    // The usual batch (under 64 KiB): one block, no copy into a joined buffer.
    out = decodeBlock(frame, blocks[0]!);
  } else {
    out = new Uint8Array(total);
    let at = 0;
    for (const b of blocks) {
      out.set(decodeBlock(frame, b), at);
      at += b.size;
    }
  }
  if (flg & FLG_CONTENT_CHECKSUM) {
    need(pos, 4, 'the content checksum');
    if (u32le(frame, pos) !== xxh32(out)) throw new Lz4FrameError('LZ4 content checksum mismatch');
    pos += 4;
  }
  if (pos !== frame.length) throw new Lz4FrameError(`${frame.length - pos} bytes follow the LZ4 frame`);
  return out;
}

function decodeBlock(frame: Uint8Array, b: { start: number; end: number; raw: boolean; size: number }): Uint8Array {
  if (b.raw) return frame.slice(b.start, b.end);
  // The package's block format wants the exact decompressed size in front: blockOutputSize found it.
  const prefixed = new Uint8Array(4 + b.end - b.start);
  putU32le(prefixed, 0, b.size);
  prefixed.set(frame.subarray(b.start, b.end), 4);
  let block: Uint8Array;
  try {
    block = lz4.decompress(prefixed);
  } catch (err) {
    // The package throws strings.
    throw new Lz4FrameError(`LZ4 block does not decompress: ${String((err as Error)?.message ?? err)}`);
  }
  if (block.length !== b.size) throw new Lz4FrameError(`LZ4 block gave ${block.length} bytes, expected ${b.size}`);
  return block;
}

/**
 * The decompressed size of the LZ4 block `src[start, end)`, found by walking its sequences
 * without copying. Throws if a length runs past the block, a match reaches before the block's
 * start (blocks are independent), or the size exceeds `limit`.
 */
export function blockOutputSize(src: Uint8Array, start: number, end: number, limit: number): number {
  let i = start;
  let out = 0;
  for (;;) {
    if (i >= end) throw new Lz4FrameError('LZ4 block ends inside a sequence');
    const token = src[i++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (i >= end) throw new Lz4FrameError('LZ4 block ends inside a literal length');
        b = src[i++]!;
        literals += b;
      } while (b === 255);
    }
    i += literals;
    out += literals;
    if (i > end) throw new Lz4FrameError('LZ4 literals run past the end of the block');
    if (out > limit) throw new Lz4FrameError(`LZ4 block decompresses to more than ${limit} bytes`);
    if (i === end) return out; // the last sequence has literals only
    if (i + 2 > end) throw new Lz4FrameError('LZ4 block ends inside a match offset');
    const offset = src[i]! | (src[i + 1]! << 8);
    i += 2;
    if (offset === 0 || offset > out) throw new Lz4FrameError(`LZ4 match offset ${offset} reaches outside the block (at ${out} bytes)`);
    let match = token & 15;
    if (match === 15) {
      let b: number;
      do {
        if (i >= end) throw new Lz4FrameError('LZ4 block ends inside a match length');
        b = src[i++]!;
        match += b;
      } while (b === 255);
    }
    out += match + 4;
    if (out > limit) throw new Lz4FrameError(`LZ4 block decompresses to more than ${limit} bytes`);
  }
}
