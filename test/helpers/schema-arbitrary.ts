/**
 * fast-check arbitraries from wire schemas: any message a schema can encode, built by walking the
 * schema (struct fields, array items) down to its primitives. Strings are whole Unicode
 * graphemes, so they survive UTF-8 and come back equal.
 */
import fc from 'fast-check';
import { bool, bytes, int16, int32, int64, int8, nullableString, string, type ArrayType, type StructType, type Type } from '../../protocol/wire/schema.js';
import { topicIdFromBytes, topicIdType } from '../../protocol/wire/uuid.js';

const text = fc.string({ unit: 'grapheme', maxLength: 12 });

const PRIMITIVES = new Map<Type<never>, fc.Arbitrary<unknown>>([
  [int8 as Type<never>, fc.integer({ min: -128, max: 127 })],
  [int16 as Type<never>, fc.integer({ min: -32768, max: 32767 })],
  [int32 as Type<never>, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })],
  [int64 as Type<never>, fc.oneof(fc.constantFrom(-1, 0, 1), fc.maxSafeInteger(), fc.integer({ min: Number.MIN_SAFE_INTEGER, max: 0 }))],
  [bool as Type<never>, fc.boolean()],
  [string as Type<never>, text],
  [nullableString as Type<never>, fc.option(text, { nil: null })],
  [bytes as Type<never>, fc.uint8Array({ maxLength: 24 })],
  // Any 16 bytes are a topic id on the wire (AlterPartition).
  [topicIdType as Type<never>, fc.uint8Array({ minLength: 16, maxLength: 16 }).map(topicIdFromBytes)],
]);

/** Messages of `type`; arrays hold at most `maxItems` items. */
export function arbitraryOf<T>(type: Type<T>, maxItems = 3): fc.Arbitrary<T> {
  const primitive = PRIMITIVES.get(type as Type<never>);
  if (primitive) return primitive as fc.Arbitrary<T>;
  const s = type as unknown as Partial<StructType<Record<string, Type<unknown>>> & ArrayType<unknown, unknown>>;
  if (s.fields) {
    const fields = Object.fromEntries(Object.entries(s.fields).map(([k, t]) => [k, arbitraryOf(t, maxItems)]));
    return fc.record(fields) as unknown as fc.Arbitrary<T>;
  }
  if (s.item) {
    const items = fc.array(arbitraryOf(s.item, maxItems), { maxLength: maxItems });
    return (s.nullable ? fc.option(items, { nil: null }) : items) as fc.Arbitrary<T>;
  }
  throw new Error(`no arbitrary for wire type ${type.doc}`);
}
