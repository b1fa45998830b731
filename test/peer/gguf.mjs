// A small GGUF (v3) reader and writer: metadata of every type, tensor infos, f32 tensor data. Enough to read a
// llama.cpp vocabulary file's `tokenizer.*` keys and to write a model around them; nothing is downloaded.
// Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
import { closeSync, openSync, readSync, writeSync } from "node:fs";

const MAGIC = 0x46554747; // "GGUF", little-endian
const ALIGNMENT = 32;

/** GGUF's value types. */
export const T = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 };
const SIZE = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const GGML_F32 = 0;

/** A value with its GGUF type: `{ type, value }`, arrays as `{ type: T.array, itemType, value: [...] }`. */
export const typed = (type, value, itemType) => (itemType === undefined ? { type, value } : { type, value, itemType });

/** Reads a GGUF file's metadata (typed values, in file order) and tensor infos; tensor data is not read. */
export function readGGUF(path) {
  const fd = openSync(path, "r");
  try {
    // Metadata sits at the front; read in growing windows until it parses.
    for (let size = 1 << 22; ; size *= 2) {
      const bytes = Buffer.alloc(size);
      const length = readSync(fd, bytes, 0, size, 0);
      try {
        return parse(bytes.subarray(0, length));
      } catch (error) {
        if (!(error instanceof RangeError) || length < size) throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
}

function parse(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const u32 = () => ((at += 4), view.getUint32(at - 4, true));
  const u64 = () => ((at += 8), Number(view.getBigUint64(at - 8, true)));
  const string = () => {
    const length = u64();
    if (at + length > bytes.length) throw new RangeError("past the end");
    return bytes.toString("utf8", at, (at += length));
  };
  const scalar = (type) => {
    if (type === T.string) return string();
    const size = SIZE[type];
    if (size === undefined) throw new Error(`GGUF value type ${type} is unknown`);
    at += size;
    const o = at - size;
    switch (type) {
      case T.u8: return view.getUint8(o);
      case T.i8: return view.getInt8(o);
      case T.u16: return view.getUint16(o, true);
      case T.i16: return view.getInt16(o, true);
      case T.u32: return view.getUint32(o, true);
      case T.i32: return view.getInt32(o, true);
      case T.f32: return view.getFloat32(o, true);
      case T.bool: return view.getUint8(o) !== 0;
      case T.u64: return view.getBigUint64(o, true);
      case T.i64: return view.getBigInt64(o, true);
      default: return view.getFloat64(o, true);
    }
  };
  if (u32() !== MAGIC) throw new Error("not a GGUF file");
  const version = u32();
  if (version !== 3) throw new Error(`GGUF version ${version} is not supported (3 is)`);
  const tensorCount = u64();
  const kvCount = u64();
  const metadata = new Map();
  for (let i = 0; i < kvCount; i++) {
    const key = string();
    const type = u32();
    if (type === T.array) {
      const itemType = u32();
      const count = u64();
      const value = new Array(count);
      for (let j = 0; j < count; j++) value[j] = scalar(itemType);
      metadata.set(key, typed(type, value, itemType));
    } else metadata.set(key, typed(type, scalar(type)));
  }
  const tensors = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = string();
    const dims = Array.from({ length: u32() }, u64);
    tensors.push({ name, dims, type: u32(), offset: u64() });
  }
  return { version, metadata, tensors };
}

/** Little-endian bytes of the header: metadata then tensor infos, padded to the data's alignment. */
function encodeHeader(metadata, tensors) {
  const parts = [];
  let length = 0;
  const push = (buffer) => (parts.push(buffer), (length += buffer.length));
  const num = (bytes, write) => {
    const b = Buffer.alloc(bytes);
    write(b);
    push(b);
  };
  const u32 = (v) => num(4, (b) => b.writeUInt32LE(v));
  const u64 = (v) => num(8, (b) => b.writeBigUInt64LE(BigInt(v)));
  const string = (s) => {
    const b = Buffer.from(s, "utf8");
    u64(b.length);
    push(b);
  };
  const scalar = (type, v) => {
    switch (type) {
      case T.string: return string(v);
      case T.u8: return num(1, (b) => b.writeUInt8(v));
      case T.i8: return num(1, (b) => b.writeInt8(v));
      case T.u16: return num(2, (b) => b.writeUInt16LE(v));
      case T.i16: return num(2, (b) => b.writeInt16LE(v));
      case T.u32: return u32(v);
      case T.i32: return num(4, (b) => b.writeInt32LE(v));
      case T.f32: return num(4, (b) => b.writeFloatLE(v));
      case T.bool: return num(1, (b) => b.writeUInt8(v ? 1 : 0));
      case T.u64: return u64(v);
      case T.i64: return num(8, (b) => b.writeBigInt64LE(BigInt(v)));
      case T.f64: return num(8, (b) => b.writeDoubleLE(v));
      default: throw new Error(`GGUF value type ${type} is unknown`);
    }
  };
  u32(MAGIC);
  u32(3);
  u64(tensors.length);
  u64(metadata.size);
  for (const [key, { type, value, itemType }] of metadata) {
    string(key);
    u32(type);
    if (type === T.array) {
      u32(itemType);
      u64(value.length);
      for (const v of value) scalar(itemType, v);
    } else scalar(type, value);
  }
  let offset = 0;
  for (const t of tensors) {
    string(t.name);
    u32(t.dims.length);
    for (const d of t.dims) u64(d);
    u32(GGML_F32);
    u64(offset);
    offset += padded(t.data.byteLength);
  }
  push(Buffer.alloc(padded(length) - length));
  return Buffer.concat(parts, length);
}

const padded = (n) => Math.ceil(n / ALIGNMENT) * ALIGNMENT;

/**
 * Writes a GGUF file: `metadata` a Map of typed values (see `typed`), `tensors` an array of
 * `{ name, dims, data }` with `dims` in ggml order (fastest-moving first) and `data` a Float32Array.
 */
export function writeGGUF(path, metadata, tensors) {
  const fd = openSync(path, "w");
  try {
    writeSync(fd, encodeHeader(metadata, tensors));
    for (const t of tensors) {
      const expected = t.dims.reduce((a, b) => a * b, 1);
      if (t.data.length !== expected) throw new Error(`tensor ${t.name}: ${t.data.length} values for dims ${t.dims.join("×")}`);
      const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      writeSync(fd, bytes);
      writeSync(fd, Buffer.alloc(padded(bytes.length) - bytes.length));
    }
  } finally {
    closeSync(fd);
  }
}
