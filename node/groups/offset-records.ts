/**
 * The records of `__consumer_offsets`: one per committed (group, topic, partition), keyed so
 * compaction keeps the latest commit of each; a null value (tombstone) deletes the commit.
 * Encoded with the wire schema types, each with a leading version so the layout can evolve.
 */
import { decode, encode, int16, int32, int64, nullableString, string, struct, WireError, type Infer } from '../../protocol/wire/schema.js';

export const OFFSET_RECORD_VERSION = 1;

const OffsetKeyV1 = struct({ version: int16, group: string, topic: string, partition: int32 });
const OffsetValueV1 = struct({ version: int16, offset: int64, metadata: nullableString, commitTimestamp: int64 });

export type OffsetKey = Omit<Infer<typeof OffsetKeyV1>, 'version'>;
export type OffsetValue = Omit<Infer<typeof OffsetValueV1>, 'version'>;

export function encodeOffsetKey(k: OffsetKey): Uint8Array {
  return encode(OffsetKeyV1, { version: OFFSET_RECORD_VERSION, ...k });
}

export function encodeOffsetValue(v: OffsetValue): Uint8Array {
  return encode(OffsetValueV1, { version: OFFSET_RECORD_VERSION, ...v });
}

/**
 * Decodes one record of the offsets topic; value null is a tombstone. Throws WireError for bytes
 * that are not an offset record of a known version, so the loader can skip them and say so.
 */
export function decodeOffsetRecord(key: Uint8Array | null, value: Uint8Array | null): { key: OffsetKey; value: OffsetValue | null } {
  if (key === null) throw new WireError('offset record has no key');
  const k = decode(OffsetKeyV1, checkVersion(key, 'key'));
  if (k.partition < 0) throw new WireError(`offset record key has partition ${k.partition}`);
  const out = { key: { group: k.group, topic: k.topic, partition: k.partition } };
  if (value === null) return { ...out, value: null };
  const v = decode(OffsetValueV1, checkVersion(value, 'value'));
  return { ...out, value: { offset: v.offset, metadata: v.metadata, commitTimestamp: v.commitTimestamp } };
}

function checkVersion(buf: Uint8Array, what: string): Uint8Array {
  if (buf.length < 2) throw new WireError(`offset record ${what} is ${buf.length} bytes`);
  const version = (buf[0]! << 8) | buf[1]!;
  if (version !== OFFSET_RECORD_VERSION) throw new WireError(`offset record ${what} has version ${version}; this node reads version ${OFFSET_RECORD_VERSION}`);
  return buf;
}
