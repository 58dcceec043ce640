/**
 * Wire schemas as data. Each API's request and response is a `struct` of Kafka's classic
 * primitive types (big-endian ints, int16-length strings, int32-length bytes and arrays), and
 * one generic encoder/decoder serves them all. TypeScript infers each message's type from its
 * schema (`Infer<typeof S>`), so the schema is the single definition of a message: encoder,
 * decoder, types and PROTOCOL.md cannot drift apart.
 *
 * Decoding is hostile-input safe: every length and count is checked against the bytes that
 * remain before anything is allocated, and any violation throws WireError.
 */

/** A malformed message: the caller answers INVALID_REQUEST or closes the connection. */
export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

export class Reader {
  pos = 0;
  readonly #dv: DataView;
  constructor(readonly buf: Uint8Array) {
    this.#dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  need(n: number, what: string): void {
    if (n > this.remaining) throw new WireError(`${what} needs ${n} bytes but only ${this.remaining} remain`);
  }
  int8(): number {
    this.need(1, 'int8');
    return this.#dv.getInt8(this.pos++);
  }
  int16(): number {
    this.need(2, 'int16');
    const v = this.#dv.getInt16(this.pos);
    this.pos += 2;
    return v;
  }
  int32(): number {
    this.need(4, 'int32');
    const v = this.#dv.getInt32(this.pos);
    this.pos += 4;
    return v;
  }
  int64(): number {
    this.need(8, 'int64');
    const v = this.#dv.getBigInt64(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new WireError(`int64 ${v} is outside the 53-bit range Eddy supports`);
    }
    return Number(v);
  }
  bytes(len: number): Uint8Array {
    this.need(len, 'bytes');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
}

export class Writer {
  #buf: Uint8Array;
  #dv: DataView;
  pos = 0;
  /** `capacity`: the expected size, so a large message is allocated once, not grown by copying. */
  constructor(capacity = 256) {
    this.#buf = new Uint8Array(Math.max(16, capacity));
    this.#dv = new DataView(this.#buf.buffer);
  }
  #grow(n: number): void {
    if (this.pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.pos));
    this.#buf = next;
    this.#dv = new DataView(next.buffer);
  }
  int8(v: number): void {
    this.#grow(1);
    this.#dv.setInt8(this.pos++, v);
  }
  int16(v: number): void {
    this.#grow(2);
    this.#dv.setInt16(this.pos, v);
    this.pos += 2;
  }
  int32(v: number): void {
    this.#grow(4);
    this.#dv.setInt32(this.pos, v);
    this.pos += 4;
  }
  int64(v: number): void {
    this.#grow(8);
    this.#dv.setBigInt64(this.pos, BigInt(v));
    this.pos += 8;
  }
  raw(b: Uint8Array): void {
    this.#grow(b.length);
    this.#buf.set(b, this.pos);
    this.pos += b.length;
  }
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.pos);
  }
}

/** A wire type: how to write and read one value, and its name for the docs. */
export interface Type<T> {
  readonly doc: string;
  write(w: Writer, v: T): void;
  read(r: Reader): T;
}

export type Infer<S> = S extends Type<infer T> ? T : never;

function intType(doc: string, bits: 8 | 16 | 32, min: number, max: number): Type<number> {
  return {
    doc,
    write(w, v) {
      if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${doc} value ${v} out of range`);
      if (bits === 8) w.int8(v);
      else if (bits === 16) w.int16(v);
      else w.int32(v);
    },
    read: (r) => (bits === 8 ? r.int8() : bits === 16 ? r.int16() : r.int32()),
  };
}

export const int8 = intType('int8', 8, -128, 127);
export const int16 = intType('int16', 16, -32768, 32767);
export const int32 = intType('int32', 32, -(2 ** 31), 2 ** 31 - 1);

export const int64: Type<number> = {
  doc: 'int64',
  write(w, v) {
    if (!Number.isSafeInteger(v)) throw new RangeError(`int64 value ${v} is not a safe integer`);
    w.int64(v);
  },
  read: (r) => r.int64(),
};

export const bool: Type<boolean> = {
  doc: 'bool (int8 0|1)',
  write: (w, v) => w.int8(v ? 1 : 0),
  read(r) {
    const b = r.int8();
    if (b !== 0 && b !== 1) throw new WireError(`bool must be 0 or 1, got ${b}`);
    return b === 1;
  },
};

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function readString(r: Reader, len: number): string {
  try {
    return utf8Decoder.decode(r.bytes(len));
  } catch (err) {
    if (err instanceof WireError) throw err;
    throw new WireError('string is not valid UTF-8');
  }
}

export const string: Type<string> = {
  doc: 'string (int16 length, UTF-8)',
  write(w, v) {
    const b = utf8Encoder.encode(v);
    if (b.length > 32767) throw new RangeError(`string of ${b.length} bytes is too long`);
    w.int16(b.length);
    w.raw(b);
  },
  read(r) {
    const len = r.int16();
    if (len < 0) throw new WireError(`string length ${len} is negative (null is not allowed here)`);
    return readString(r, len);
  },
};

export const nullableString: Type<string | null> = {
  doc: 'nullable string (int16 length, -1 = null)',
  write: (w, v) => (v === null ? w.int16(-1) : string.write(w, v)),
  read(r) {
    const len = r.int16();
    if (len === -1) return null;
    if (len < 0) throw new WireError(`string length ${len} is invalid`);
    return readString(r, len);
  },
};

export const bytes: Type<Uint8Array> = {
  doc: 'bytes (int32 length)',
  write(w, v) {
    w.int32(v.length);
    w.raw(v);
  },
  read(r) {
    const len = r.int32();
    if (len < 0) throw new WireError(`bytes length ${len} is negative`);
    return r.bytes(len);
  },
};

/** An array type keeps its item type, so tests can walk a schema (to generate messages, say). */
export interface ArrayType<T, V = T[]> extends Type<V> {
  readonly item: Type<T>;
  readonly nullable: boolean;
}

/** An int32 count, then the items. Counts beyond the remaining bytes are refused up front. */
export function array<T>(item: Type<T>): ArrayType<T> {
  return {
    item,
    nullable: false,
    doc: `array of ${item.doc} (int32 count)`,
    write(w, v) {
      w.int32(v.length);
      for (const x of v) item.write(w, x);
    },
    read(r) {
      const n = r.int32();
      if (n < 0) throw new WireError(`array count ${n} is negative`);
      if (n > r.remaining) throw new WireError(`array count ${n} exceeds the ${r.remaining} bytes that remain`);
      const out: T[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = item.read(r);
      return out;
    },
  };
}

export function nullableArray<T>(item: Type<T>): ArrayType<T, T[] | null> {
  const inner = array(item);
  return {
    item,
    nullable: true,
    doc: `nullable array of ${item.doc} (int32 count, -1 = null)`,
    write: (w, v) => (v === null ? w.int32(-1) : inner.write(w, v)),
    read(r) {
      const at = r.pos;
      if (r.int32() === -1) return null;
      r.pos = at;
      return inner.read(r);
    },
  };
}

type Fields = Record<string, Type<unknown>>;
type StructValue<F extends Fields> = { [K in keyof F]: Infer<F[K]> };

export interface StructType<F extends Fields> extends Type<StructValue<F>> {
  readonly fields: F;
}

/** Fields in declaration order. */
export function struct<F extends Fields>(fields: F): StructType<F> {
  const entries = Object.entries(fields);
  return {
    fields,
    doc: `{ ${entries.map(([k, t]) => `${k}: ${t.doc}`).join(', ')} }`,
    write(w, v) {
      for (const [k, t] of entries) t.write(w, (v as Record<string, unknown>)[k]);
    },
    read(r) {
      const out: Record<string, unknown> = {};
      for (const [k, t] of entries) out[k] = t.read(r);
      return out as StructValue<F>;
    },
  };
}

export function encode<T>(type: Type<T>, value: T, capacity?: number): Uint8Array {
  const w = new Writer(capacity);
  type.write(w, value);
  return w.finish();
}

/** Decodes a whole buffer; trailing bytes are an error. */
export function decode<T>(type: Type<T>, buf: Uint8Array): T {
  const r = new Reader(buf);
  const v = type.read(r);
  if (r.remaining !== 0) throw new WireError(`${r.remaining} unexpected bytes after the message`);
  return v;
}
