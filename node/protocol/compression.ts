import { gunzipSync, gzipSync } from 'node:zlib';
import { EddyError } from './errors.js';

/**
 * Compression codecs by their id in the batch attributes (bits 0-2), Kafka's numbering.
 * Only none and gzip are implemented; 2-4 are reserved so that a fast codec (lz4, zstd) can
 * be added later without a format change.
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
      `batch uses codec ${compressionName(id)} (id ${id}); this node supports none and gzip`,
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
