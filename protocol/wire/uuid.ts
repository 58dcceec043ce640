/**
 * The two kinds of uuid in the cluster metadata, and their 16-byte wire type.
 *
 * Topic ids are shown as Kafka shows them: 16 random bytes in unpadded base64url (22
 * characters). They are stable for the topic's life, so a topic deleted and created again under
 * the same name is a different topic. Incarnation ids (one per broker process start) are
 * canonical uuid strings. On the wire both are the raw 16 bytes, so any 16 bytes decode to a
 * well-formed id and a hostile record cannot smuggle in a malformed one.
 */
import { randomBytes } from 'node:crypto';
import { type Reader, type Type, type Writer } from './schema.js';

/** 21 free characters, then one that holds the last 2 bits of the 16th byte (4 trailing zero bits). */
const TOPIC_ID = /^[A-Za-z0-9_-]{21}[AQgw]$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Kafka reserves the all-zero uuid (no id) and the uuid 1 (the metadata topic). */
export const ZERO_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
export const METADATA_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';

export function isTopicId(id: string): boolean {
  return TOPIC_ID.test(id);
}

export function topicIdFromBytes(b: Uint8Array): string {
  if (b.length !== 16) throw new RangeError(`a topic id is 16 bytes, not ${b.length}`);
  return Buffer.from(b.buffer, b.byteOffset, 16).toString('base64url');
}

/** A fresh random topic id, never one of the reserved ones. */
export function newTopicId(random: (n: number) => Uint8Array = randomBytes): string {
  for (;;) {
    const id = topicIdFromBytes(random(16));
    if (id !== ZERO_TOPIC_ID && id !== METADATA_TOPIC_ID) return id;
  }
}

function topicIdBytes(id: string): Uint8Array {
  if (!TOPIC_ID.test(id)) throw new RangeError(`topic id "${id}" is not 22 characters of base64url`);
  return Buffer.from(id, 'base64url');
}

function uuidBytes(id: string): Uint8Array {
  const lower = id.toLowerCase();
  if (!UUID.test(lower)) throw new RangeError(`"${id}" is not a uuid`);
  return Buffer.from(lower.replaceAll('-', ''), 'hex');
}

function uuidFromBytes(b: Uint8Array): string {
  const h = Buffer.from(b.buffer, b.byteOffset, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function fixed16(doc: string, toBytes: (v: string) => Uint8Array, fromBytes: (b: Uint8Array) => string): Type<string> {
  return {
    doc,
    write: (w: Writer, v: string) => w.raw(toBytes(v)),
    read(r: Reader) {
      r.need(16, doc);
      return fromBytes(r.bytes(16));
    },
  };
}

/** A topic id: 16 bytes on the wire, base64url in memory. */
export const topicIdType = fixed16('uuid (16 bytes; base64url topic id)', topicIdBytes, topicIdFromBytes);
/** A uuid: 16 bytes on the wire, canonical lower-case text in memory. */
export const uuidType = fixed16('uuid (16 bytes)', uuidBytes, uuidFromBytes);
