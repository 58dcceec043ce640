import { gunzipSync, gzipSync } from 'node:zlib';
import { EddyError } from './errors.js';
import { lz4FrameCompress, lz4FrameDecompress } from './lz4-frame.js';

/**
 * Compression codecs by their id in the batch attributes (bits 0-2), Kafka's numbering.
 * none, gzip and lz4 (Kafka's LZ4 frame, see lz4-frame.ts) are implemented; snappy (2) and
 * zstd (4) are refused with UNSUPPORTED_COMPRESSION_TYPE.
 */
export const Compression = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
} as const;
export type CompressionName = keyof typeof Compression;
export type CompressionId = (typeof Compression)[CompressionName];

interface Codec {
  compress(data: Uint8Array): Uint8Array;
  decompress(data: Uint8Array, maxOutputBytes: number): Uint8Array;
}

const CODECS: ReadonlyMap<number, Codec> = new Map<number, Codec>([
  [
    Compression.none,
    { compress: (d) => d, decompress: (d) => d },
  ],
  [
    Compression.gzip,
    {
      compress: (d) => gzipSync(d),
      // maxOutputLength bounds a decompression bomb: a tiny batch must not expand to gigabytes.
      decompress: (d, max) => gunzipSync(d, { maxOutputLength: max }),
    },
  ],
  [
    Compression.lz4,
    // The frame reader bounds the output by max before it allocates (decompression bombs).
    { compress: lz4FrameCompress, decompress: lz4FrameDecompress },
  ],
]);

export function compressionName(id: number): string {
  const entry = Object.entries(Compression).find(([, v]) => v === id);
  return entry ? entry[0] : `unknown(${id})`;
}

function codecFor(id: number): Codec {
  const codec = CODECS.get(id);
  if (!codec) {
    throw new EddyError(
      'UNSUPPORTED_COMPRESSION_TYPE',
      `batch uses codec ${compressionName(id)} (id ${id}); this node supports none, gzip and lz4`,
    );
  }
  return codec;
}

export function compress(id: number, data: Uint8Array): Uint8Array {
  return codecFor(id).compress(data);
}

/** Decompresses, refusing output larger than `maxOutputBytes` with CORRUPT_MESSAGE. */
export function decompress(id: number, data: Uint8Array, maxOutputBytes: number): Uint8Array {
  const codec = codecFor(id);
  try {
    return codec.decompress(data, maxOutputBytes);
  } catch (err) {
    throw new EddyError(
      'CORRUPT_MESSAGE',
      `could not decompress ${compressionName(id)} records: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
