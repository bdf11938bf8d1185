// The safetensors file format as pure bytes, no I/O: an 8-byte little-endian header length,
// a JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian
// data. Decoding validates every byte range (the data section must be covered exactly once)
// and returns aligned copies; F16/BF16 widen to f32, I64 narrows to i32 when every value fits.
import { CheckpointError, DTypeError, ShapeError, ValueError, preview } from '../errors.js';

/**
 * A tensor to write, row-major, with `shape`'s product elements: F32 and I32 as they are; F16 and
 * BF16 from f32 values (rounded to nearest even); I8 from an Int8Array.
 */
export interface SafetensorsInput {
  dtype: 'F32' | 'I32' | 'F16' | 'BF16' | 'I8';
  shape: number[];
  data: Float32Array | Int32Array | Int8Array;
}

/** Bytes per element written for each input dtype. */
const WRITE_BYTES = { F32: 4, I32: 4, F16: 2, BF16: 2, I8: 1 } as const;

/** A tensor read back. `dtype` is the file's dtype; F32/F16/BF16 come back as Float32Array, I32/I64/I8 as Int32Array. */
export interface SafetensorsTensor {
  dtype: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** What {@link decodeSafetensors} returns. Tensors keep the header's order. */
export interface SafetensorsFile {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

/** Bytes per element of every dtype this module reads. */
const DTYPE_BYTES: ReadonlyMap<string, number> = new Map([['F32', 4], ['F16', 2], ['BF16', 2], ['I32', 4], ['I64', 8], ['I8', 1]]);

/** Headers larger than this are taken as corruption, not as a real file. */
const MAX_HEADER_BYTES = 100_000_000;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// Scratch words for reinterpreting f32 bits (both views share the host's byte order).
const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

// ---------------------------------------------------------------------------------------
// Half-precision conversions
// ---------------------------------------------------------------------------------------

/**
 * The value of IEEE binary16 bits (0..65535), exactly: subnormals, ±0, ±Inf and NaN included.
 * @example
 * f16ToF32(0x3c00); // 1
 * f16ToF32(0x0001); // 5.960464477539063e-8 (2^-24, the smallest subnormal)
 */
export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 5.960464477539063e-8; // frac · 2^-24
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/**
 * The value of bfloat16 bits (0..65535): the top half of an f32, so the conversion is exact.
 * @example
 * bf16ToF32(0x3f80); // 1
 */
export function bf16ToF32(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0]!;
}

/**
 * The binary16 bits nearest to `x` rounded to f32 first, ties to even. Values at or beyond
 * 65520 become ±Inf, below 2^-25 become ±0; NaN becomes a quiet NaN of the same sign.
 * @example
 * f32ToF16(1);      // 0x3c00
 * f32ToF16(65519);  // 0x7bff (65504, the largest finite half)
 * f32ToF16(65520);  // 0x7c00 (Inf)
 */
export function f32ToF16(x: number): number {
  scratchF32[0] = x;
  const u = scratchU32[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 255) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  const e = exp - 127;
  if (e > 15) return sign | 0x7c00;
  if (e >= -14) {
    // Normal half: keep 10 of 23 mantissa bits; a carry out of the mantissa bumps the
    // exponent, and out of the largest exponent gives Inf (0x7c00), as it should.
    let h = ((e + 15) << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
    return sign | h;
  }
  // Subnormal half: value = m · 2^(e−23) = (m >> shift) · 2^-24 with shift = −e − 1 ≥ 14.
  // An f32 subnormal (exp 0) is below 2^-126 and rounds to zero.
  if (exp === 0) return sign;
  const m = mant | 0x800000;
  const shift = -e - 1;
  if (shift > 24) return sign; // m < 2^24, so m / 2^25 < ½ rounds to zero
  let q = m >>> shift;
  const rest = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rest > half || (rest === half && (q & 1) === 1)) q++; // q = 0x400 is the smallest normal
  return sign | q;
}

/**
 * The bfloat16 bits nearest to `x` rounded to f32 first, ties to even; NaN stays a quiet NaN.
 * @example
 * f32ToBf16(1);          // 0x3f80
 * f32ToBf16(1 + 2 ** -8); // 0x3f80 (a tie, rounded to the even neighbour)
 */
export function f32ToBf16(x: number): number {
  scratchF32[0] = x;
  const u = scratchU32[0]!;
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0) return (u >>> 16) | 0x40;
  // u + 0x7fff + lsb stays below 2^32 for every finite or infinite u, so plain addition is exact.
  return Math.floor((u + 0x7fff + ((u >>> 16) & 1)) / 65536) & 0xffff;
}

// ---------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------

/**
 * Serialises f32/i32 tensors (in the object's key order) and optional string metadata
 * into a safetensors file. The header is padded with spaces so the data starts 8-byte aligned.
 * @throws ValueError for an empty or reserved name or a non-string metadata value;
 *   ShapeError when a shape does not match its data; DTypeError when dtype and array type disagree.
 * @example
 * const bytes = encodeSafetensors(
 *   { 'wte.weight': { dtype: 'F32', shape: [2, 3], data: new Float32Array(6) } },
 *   { step: '100' },
 * );
 * decodeSafetensors(bytes).tensors.get('wte.weight')!.shape; // [2, 3]
 */
export function encodeSafetensors(
  tensors: Record<string, SafetensorsInput>,
  metadata?: Record<string, string>,
): Uint8Array {
  // No prototype, so a tensor named '__proto__' is an ordinary key.
  const header = Object.create(null) as Record<string, unknown>;
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') {
        throw new ValueError(`encodeSafetensors: metadata '${key}' is ${describeValue(value)}, expected a string`);
      }
    }
    header.__metadata__ = { ...metadata };
  }
  const entries = Object.entries(tensors);
  let offset = 0;
  for (const [name, t] of entries) {
    checkInput(name, t);
    const bytes = t.data.length * WRITE_BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerBytes + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes % 4294967296, true);
  view.setUint32(4, Math.floor(headerBytes / 4294967296), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerBytes); // space padding
  let at = 8 + headerBytes;
  for (const [, t] of entries) {
    if (t.dtype === 'F16' || t.dtype === 'BF16') {
      const half = t.dtype === 'F16' ? f32ToF16 : f32ToBf16;
      for (let i = 0; i < t.data.length; i++) view.setUint16(at + 2 * i, half(t.data[i]!), true);
    } else if (t.dtype === 'I8') {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.length), at);
    } else {
      writeLittleEndian(out, view, at, t.data as Float32Array | Int32Array);
    }
    at += t.data.length * WRITE_BYTES[t.dtype];
  }
  return out;
}

function checkInput(name: string, t: SafetensorsInput): void {
  if (name === '') throw new ValueError('encodeSafetensors: a tensor name is empty');
  if (name === '__metadata__') throw new ValueError(`encodeSafetensors: '__metadata__' is reserved and cannot name a tensor`);
  if (!Object.hasOwn(WRITE_BYTES, t.dtype)) {
    throw new DTypeError(`encodeSafetensors: tensor '${name}' has dtype ${String(t.dtype)}, expected F32, I32, F16, BF16 or I8`);
  }
  const wanted = t.dtype === 'I32' ? Int32Array : t.dtype === 'I8' ? Int8Array : Float32Array;
  if (!(t.data instanceof wanted)) {
    throw new DTypeError(`encodeSafetensors: tensor '${name}' has dtype ${t.dtype} but its data is a ${describeValue(t.data)}, expected ${wanted.name}`);
  }
  let size = 1;
  for (const d of t.shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new ShapeError(`encodeSafetensors: tensor '${name}' has shape [${t.shape.join(', ')}] with dimension ${d}, expected integers ≥ 0`);
    }
    size *= d;
  }
  if (size !== t.data.length) {
    throw new ShapeError(
      `encodeSafetensors: tensor '${name}' has shape [${t.shape.join(', ')}] (${size} elements) but ${t.data.length} values`,
    );
  }
}

function writeLittleEndian(out: Uint8Array, view: DataView, at: number, data: Float32Array | Int32Array): void {
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
  } else if (data instanceof Float32Array) {
    for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i]!, true);
  } else {
    for (let i = 0; i < data.length; i++) view.setInt32(at + 4 * i, data[i]!, true);
  }
}

// ---------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------

/** One tensor of a safetensors header: its byte range [begin, end) is relative to the data section. */
export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}
type Entry = SafetensorsEntry;

/** A parsed safetensors header: where the data starts, each tensor's entry (header order), the metadata. */
export interface SafetensorsHeader {
  dataStart: number;
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
}

/**
 * The header length the first 8 bytes of a safetensors file give, checked against the limit and,
 * when known, the file's length.
 * @throws CheckpointError naming the bytes at fault.
 * @example
 * ```ts
 * const n = safetensorsHeaderLength(bytes.subarray(0, 8), bytes.length);   // the JSON is bytes 8 … 8 + n
 * ```
 */
export function safetensorsHeaderLength(first8: Uint8Array, fileLength: number | null): number {
  if (first8.length < 8) throw new CheckpointError(`safetensors: file has ${first8.length} bytes, fewer than the 8-byte header length`);
  const exact = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);   // exact even past 2^53, for the message
  if (exact > BigInt(MAX_HEADER_BYTES)) {
    throw new CheckpointError(`safetensors: header length (bytes 0..8) says ${exact} bytes, more than the ${MAX_HEADER_BYTES}-byte limit; the file is corrupt or not safetensors`);
  }
  const headerLength = Number(exact);
  if (fileLength !== null && 8 + headerLength > fileLength) {
    throw new CheckpointError(`safetensors: header length (bytes 0..8) says ${headerLength} bytes, but only ${fileLength - 8} bytes follow it`);
  }
  return headerLength;
}

/**
 * Parses and checks a safetensors header (the JSON of bytes 8 … 8 + n): every entry's dtype, shape
 * and byte range, and — given the data section's length — that the ranges tile it exactly.
 * Without the length (a stream of unknown size) the ranges must tile [0, largest end).
 * @throws CheckpointError naming the tensor or bytes at fault.
 * @example
 * ```ts
 * const h = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length - 8 - n);
 * h.entries[0];   // { name: 'wte.weight', dtype: 'F32', shape: [50257, 768], begin: 0, end: 154389504 }
 * ```
 */
export function parseSafetensorsHeader(json: Uint8Array, dataLength: number | null): SafetensorsHeader {
  const header = parseHeader(json);
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') metadata = parseMetadata(value);
    else entries.push(parseEntry(name, value, dataLength ?? Infinity));
  }
  checkCoverage(entries, 8 + json.length, dataLength ?? entries.reduce((m, e) => Math.max(m, e.end), 0));
  return { dataStart: 8 + json.length, entries, metadata };
}

/**
 * Parses a safetensors file. Every structural fault throws a CheckpointError naming the
 * bytes at fault; the returned arrays are fresh, aligned copies (never views into `bytes`).
 * Reads F32, F16 and BF16 (as Float32Array), I32, I64 (if every value fits) and I8 (as Int32Array).
 * @example
 * const { tensors, metadata } = decodeSafetensors(bytes);
 * const w = tensors.get('wte.weight'); // { dtype: 'F32', shape: [V, C], data: Float32Array }
 */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  const headerLength = safetensorsHeaderLength(bytes.subarray(0, 8), bytes.length);
  const { dataStart, entries, metadata } = parseSafetensorsHeader(bytes.subarray(8, 8 + headerLength), bytes.length - 8 - headerLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    const data = readData(view, dataStart + e.begin, e);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

function parseHeader(raw: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new CheckpointError(`safetensors: header (bytes 8..${8 + raw.length}) is not valid UTF-8`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const start = JSON.stringify(text.slice(0, 40));
    throw new CheckpointError(`safetensors: header (bytes 8..${8 + raw.length}) is not valid JSON (${(err as Error).message}); it starts ${start}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CheckpointError(`safetensors: header (bytes 8..${8 + raw.length}) is JSON ${describeValue(parsed)}, expected an object`);
  }
  const dup = duplicateKey(text);
  if (dup !== null) throw new CheckpointError(`safetensors: header key '${dup.slice(0, 200)}' appears twice (JSON would keep only the last); the file is ambiguous`);
  return parsed as Record<string, unknown>;
}

function parseMetadata(value: unknown): Record<string, string> {
  if (value === null) return {}; // the reference implementation reads null as "no metadata"
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new CheckpointError(`safetensors: __metadata__ is ${describeValue(value)}, expected an object of strings`);
  }
  const pairs = Object.entries(value as Record<string, unknown>);
  for (const [key, v] of pairs) {
    if (typeof v !== 'string') throw new CheckpointError(`safetensors: __metadata__ '${key}' is ${describeValue(v)}, expected a string`);
  }
  return Object.fromEntries(pairs) as Record<string, string>; // own data properties, even for '__proto__'
}

function parseEntry(name: string, value: unknown, dataLength: number): Entry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CheckpointError(`safetensors: tensor '${name}' is ${describeValue(value)}, expected {dtype, shape, data_offsets}`);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (dtype === undefined || shape === undefined || offsets === undefined) {
    const missing = ['dtype', 'shape', 'data_offsets'].filter((k) => (value as Record<string, unknown>)[k] === undefined);
    throw new CheckpointError(`safetensors: tensor '${name}' lacks ${missing.join(', ')}`);
  }
  const dtypeBytes = typeof dtype === 'string' ? DTYPE_BYTES.get(dtype) : undefined;
  if (typeof dtype !== 'string' || dtypeBytes === undefined) {
    throw new CheckpointError(`safetensors: tensor '${name}' has dtype ${preview(dtype)}, which is not supported (F32, F16, BF16, I32, I64, I8)`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new CheckpointError(`safetensors: tensor '${name}' has shape ${preview(shape)}, expected an array of integers ≥ 0`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw new CheckpointError(`safetensors: tensor '${name}' has data_offsets ${preview(offsets)}, expected [begin, end] integers ≥ 0`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw new CheckpointError(`safetensors: tensor '${name}' has data_offsets [${begin}, ${end}] with begin > end`);
  if (end > dataLength) {
    throw new CheckpointError(`safetensors: tensor '${name}' has data_offsets [${begin}, ${end}] but the data section has only ${dataLength} bytes`);
  }
  const size = (shape as number[]).reduce((a, d) => a * d, 1);
  const expected = size * dtypeBytes;
  if (end - begin !== expected) {
    throw new CheckpointError(
      `safetensors: tensor '${name}' (${dtype}[${shape.join(', ')}]) spans data bytes [${begin}, ${end}) = ${end - begin} bytes, ` +
        `expected ${size} × ${dtypeBytes} = ${expected}`,
    );
  }
  return { name, dtype, shape: [...(shape as number[])], begin, end };
}

/** The format requires the tensors' byte ranges to tile the data section: no overlap, no hole, no trailing bytes. */
function checkCoverage(entries: Entry[], dataStart: number, dataLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous = '';
  for (const e of sorted) {
    if (e.begin < covered) {
      throw new CheckpointError(`safetensors: tensor '${e.name}' (data bytes [${e.begin}, ${e.end})) overlaps tensor '${previous}', which ends at ${covered}`);
    }
    if (e.begin > covered) {
      throw new CheckpointError(
        `safetensors: data bytes [${covered}, ${e.begin}) (file bytes [${dataStart + covered}, ${dataStart + e.begin})) belong to no tensor; the format allows no holes`,
      );
    }
    covered = e.end;
    previous = e.name;
  }
  if (covered !== dataLength) {
    throw new CheckpointError(
      `safetensors: data bytes [${covered}, ${dataLength}) (file bytes [${dataStart + covered}, ${dataStart + dataLength})) belong to no tensor; the format allows no trailing bytes`,
    );
  }
}

function readData(view: DataView, at: number, e: Entry): Float32Array | Int32Array {
  const bytes = e.end - e.begin;
  switch (e.dtype) {
    case 'F32':
    case 'I32': {
      const out = e.dtype === 'F32' ? new Float32Array(bytes / 4) : new Int32Array(bytes / 4);
      if (LITTLE_ENDIAN_HOST) {
        new Uint8Array(out.buffer).set(new Uint8Array(view.buffer, view.byteOffset + at, bytes));
      } else if (out instanceof Float32Array) {
        for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(at + 4 * i, true);
      } else {
        for (let i = 0; i < out.length; i++) out[i] = view.getInt32(at + 4 * i, true);
      }
      return out;
    }
    case 'I8':
      return Int32Array.from(new Int8Array(view.buffer, view.byteOffset + at, bytes));
    case 'F16':
    case 'BF16': {
      const out = new Float32Array(bytes / 2);
      const convert = e.dtype === 'F16' ? f16ToF32 : bf16ToF32;
      for (let i = 0; i < out.length; i++) out[i] = convert(view.getUint16(at + 2 * i, true));
      return out;
    }
    default: {
      // I64: narrow to i32, refusing any value outside [−2^31, 2^31).
      const out = new Int32Array(bytes / 8);
      for (let i = 0; i < out.length; i++) {
        const lo = view.getUint32(at + 8 * i, true);
        const hi = view.getInt32(at + 8 * i + 4, true);
        if (hi !== (lo >= 0x80000000 ? -1 : 0)) {
          throw new CheckpointError(
            `safetensors: tensor '${e.name}' (I64) element ${i} (file bytes [${at + 8 * i}, ${at + 8 * i + 8})) is ` +
              `${view.getBigInt64(at + 8 * i, true)}, outside the int32 range this library reads I64 into`,
          );
        }
        out[i] = lo | 0;
      }
      return out;
    }
  }
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${preview(v)}`;
}

/**
 * The first key that appears twice in one object of the JSON `text` (JSON.parse keeps the last
 * silently), with the path to that object, or null. `text` is valid JSON (parsed already).
 */
export function duplicateKey(text: string): string | null {
  const stack: (Set<string> | null)[] = [];   // one entry per open container: its keys (objects) or null (arrays)
  const path: string[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.has(key)) return [...path.slice(0, stack.length - 1), key].join('.');
        top.add(key);
        path[stack.length - 1] = key;
        expectKey = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      stack.push(null);
    } else if (c === '}' || c === ']') {
      stack.pop();
      path.length = Math.max(0, stack.length - 1);
    } else if (c === ',') {
      expectKey = stack[stack.length - 1] !== null && stack.length > 0;
    }
  }
  return null;
}
