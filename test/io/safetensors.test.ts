// safetensors encode/decode: round trips, a hand-built file in the reference layout (F16,
// BF16, I64, unpadded header, unaligned start), exhaustive half-precision conversions with
// round-to-nearest-even checked against the neighbours, and every validation error.
import { describe, expect, it } from 'vitest';
import { CheckpointError, DTypeError, Rng, ShapeError, ValueError } from '../../src/index.js';
import {
  bf16ToF32, decodeSafetensors, encodeSafetensors, f16ToF32, f32ToBf16, f32ToF16,
} from '../../src/io/safetensors.js';

/** A safetensors file from a header object (written as given, unpadded) and a data section. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function le(view: (dv: DataView) => void, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  view(new DataView(out.buffer));
  return out;
}

const f32Bits = (bits: number): number => new Float32Array(new Uint32Array([bits]).buffer)[0]!;

describe('safetensors encoding', () => {
  it('round-trips f32 and i32 tensors and metadata, in order, with an 8-aligned data section', () => {
    const w = new Float32Array([1.5, -2, 0, 3.25, Infinity, -0]);
    const ids = new Int32Array([0, -1, 2147483647, -2147483648]);
    const bytes = encodeSafetensors(
      { 'h.0.attn.weight': { dtype: 'F32', shape: [2, 3], data: w }, ids: { dtype: 'I32', shape: [4], data: ids }, empty: { dtype: 'F32', shape: [0, 5], data: new Float32Array(0) } },
      { step: '100', config: '{"C":64}' },
    );
    const headerLength = new DataView(bytes.buffer).getUint32(0, true);
    expect(headerLength % 8).toBe(0);
    expect(bytes.length).toBe(8 + headerLength + 6 * 4 + 4 * 4);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
    expect(header.trimEnd()).toBe(
      '{"__metadata__":{"step":"100","config":"{\\"C\\":64}"},' +
        '"h.0.attn.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},' +
        '"ids":{"dtype":"I32","shape":[4],"data_offsets":[24,40]},' +
        '"empty":{"dtype":"F32","shape":[0,5],"data_offsets":[40,40]}}',
    );
    expect(/^ *$/.test(header.slice(header.trimEnd().length))).toBe(true);
    // Little-endian on disk: 1.5f is 0x3fc00000.
    expect([...bytes.subarray(8 + headerLength, 8 + headerLength + 4)]).toEqual([0x00, 0x00, 0xc0, 0x3f]);

    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ step: '100', config: '{"C":64}' });
    expect([...tensors.keys()]).toEqual(['h.0.attn.weight', 'ids', 'empty']);
    expect(tensors.get('h.0.attn.weight')).toEqual({ dtype: 'F32', shape: [2, 3], data: w });
    expect(Object.is(tensors.get('h.0.attn.weight')!.data[5], -0)).toBe(true);
    expect(tensors.get('ids')).toEqual({ dtype: 'I32', shape: [4], data: ids });
    expect(tensors.get('empty')!.data).toEqual(new Float32Array(0));
  });

  it('writes no __metadata__ without metadata, and scalars with shape []', () => {
    const bytes = encodeSafetensors({ loss: { dtype: 'F32', shape: [], data: new Float32Array([0.5]) } });
    expect(new TextDecoder().decode(bytes).includes('__metadata__')).toBe(false);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({});
    expect(tensors.get('loss')).toEqual({ dtype: 'F32', shape: [], data: new Float32Array([0.5]) });
  });

  it('decodes into aligned copies, never views into the input', () => {
    const bytes = encodeSafetensors({ a: { dtype: 'F32', shape: [3], data: new Float32Array([1, 2, 3]) } });
    // Place the file at an odd offset so that a view would not even be constructible.
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const input = shifted.subarray(1);
    const a = decodeSafetensors(input).tensors.get('a')!.data;
    expect(a.buffer).not.toBe(shifted.buffer);
    expect(a.byteOffset).toBe(0);
    input.fill(0);
    expect(a).toEqual(new Float32Array([1, 2, 3]));
  });

  it('rejects bad names, shapes, dtypes and metadata with the values at fault', () => {
    const f = (n: number): Float32Array => new Float32Array(n);
    expect(() => encodeSafetensors({ '': { dtype: 'F32', shape: [1], data: f(1) } })).toThrow(ValueError);
    expect(() => encodeSafetensors({ __metadata__: { dtype: 'F32', shape: [1], data: f(1) } })).toThrow(/'__metadata__' is reserved/);
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [2, 3], data: f(5) } }))
      .toThrow(/tensor 'w' has shape \[2, 3\] \(6 elements\) but 5 values/);
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [2, 3], data: f(5) } })).toThrow(ShapeError);
    expect(() => encodeSafetensors({ w: { dtype: 'F32', shape: [-1], data: f(1) } })).toThrow(/dimension -1/);
    expect(() => encodeSafetensors({ w: { dtype: 'I32', shape: [2], data: f(2) } })).toThrow(DTypeError);
    expect(() => encodeSafetensors({ w: { dtype: 'I32', shape: [2], data: f(2) } })).toThrow(/dtype I32 but its data is a Float32Array, expected Int32Array/);
    expect(() => encodeSafetensors({ w: { dtype: 'F64' as 'F32', shape: [2], data: f(2) } })).toThrow(/dtype F64/);
    expect(() => encodeSafetensors({}, { step: 3 as unknown as string })).toThrow(/metadata 'step' is number 3, expected a string/);
  });

  it('keeps a tensor named __proto__ as an ordinary tensor', () => {
    const tensors = JSON.parse('{"__proto__": 0}') as Record<string, unknown>;
    tensors['__proto__'] = { dtype: 'I32', shape: [1], data: new Int32Array([7]) };
    const out = decodeSafetensors(encodeSafetensors(tensors as never));
    expect(out.tensors.get('__proto__')!.data).toEqual(new Int32Array([7]));
  });
});

describe('safetensors decoding of files written elsewhere', () => {
  it('reads F16, BF16 and I64 from an unpadded header, in any range order', () => {
    const data = le((dv) => {
      // bytes [0, 16): I64 [5, -3]; [16, 22): F16 [1, -2, 2^-24]; [22, 26): BF16 [1, -Inf]
      dv.setBigInt64(0, 5n, true);
      dv.setBigInt64(8, -3n, true);
      dv.setUint16(16, 0x3c00, true);
      dv.setUint16(18, 0xc000, true);
      dv.setUint16(20, 0x0001, true);
      dv.setUint16(22, 0x3f80, true);
      dv.setUint16(24, 0xff80, true);
    }, 26);
    const file = rawFile({
      bf: { dtype: 'BF16', shape: [2], data_offsets: [22, 26] },
      half: { dtype: 'F16', shape: [3, 1], data_offsets: [16, 22] },
      __metadata__: { format: 'pt' },
      pos: { dtype: 'I64', shape: [2], data_offsets: [0, 16] },
    }, data);
    const { tensors, metadata } = decodeSafetensors(file);
    expect(metadata).toEqual({ format: 'pt' });
    expect([...tensors.keys()]).toEqual(['bf', 'half', 'pos']);
    expect(tensors.get('half')).toEqual({ dtype: 'F16', shape: [3, 1], data: new Float32Array([1, -2, 2 ** -24]) });
    expect(tensors.get('bf')).toEqual({ dtype: 'BF16', shape: [2], data: new Float32Array([1, -Infinity]) });
    expect(tensors.get('pos')).toEqual({ dtype: 'I64', shape: [2], data: new Int32Array([5, -3]) });
  });

  it('refuses I64 values outside int32, naming the element and its bytes', () => {
    const data = le((dv) => { dv.setBigInt64(0, -2147483648n, true); dv.setBigInt64(8, 2147483648n, true); }, 16);
    const file = rawFile({ pos: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data);
    const at = 8 + (file.length - 8 - 16);
    expect(() => decodeSafetensors(file)).toThrow(new RegExp(`'pos' \\(I64\\) element 1 \\(file bytes \\[${at + 8}, ${at + 16}\\)\\) is 2147483648`));
  });

  it('accepts a null __metadata__ as none', () => {
    expect(decodeSafetensors(rawFile({ __metadata__: null })).metadata).toEqual({});
  });
});

describe('safetensors validation', () => {
  const entry = (dtype: string, shape: number[], offsets: number[]): unknown => ({ dtype, shape, data_offsets: offsets });
  const bad = (bytes: Uint8Array, message: RegExp): void => {
    expect(() => decodeSafetensors(bytes)).toThrow(CheckpointError);
    expect(() => decodeSafetensors(bytes)).toThrow(message);
  };

  it('rejects truncated files and absurd header lengths', () => {
    bad(new Uint8Array(5), /file has 5 bytes, fewer than the 8-byte header length/);
    const long = rawFile({});
    new DataView(long.buffer).setUint32(0, 1000, true);
    bad(long, /header length \(bytes 0\.\.8\) says 1000 bytes, but only 2 bytes follow it/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setUint32(4, 1, true); // 2^32
    bad(huge, /says 4294967296 bytes, more than the 100000000-byte limit/);
    // a text file read as safetensors: its first 8 bytes give the exact (not a rounded) length
    bad(new TextEncoder().encode('{"hello": 1}'), /says 2481321132518023803 bytes, more than the 100000000-byte limit; the file is corrupt or not safetensors/);
  });

  it('rejects headers that are not UTF-8 JSON objects', () => {
    const notUtf8 = rawFile(null, undefined, '{"a"}');
    notUtf8[9] = 0xff;
    bad(notUtf8, /header \(bytes 8\.\.13\) is not valid UTF-8/);
    bad(rawFile(null, undefined, '{"a": '), /header \(bytes 8\.\.14\) is not valid JSON .* it starts "\{\\"a\\": "/);
    bad(rawFile([1, 2]), /is JSON an array, expected an object/);
    bad(rawFile(null, undefined, '7'), /is JSON number 7, expected an object/);
  });

  it('rejects bad entries: missing fields, unknown dtypes, bad shapes and offsets', () => {
    const four = new Uint8Array(4);
    bad(rawFile({ w: { dtype: 'F32', shape: [1] } }, four), /tensor 'w' lacks data_offsets/);
    bad(rawFile({ w: 3 }, four), /tensor 'w' is number 3/);
    bad(rawFile({ w: entry('F64', [1], [0, 8]) }, new Uint8Array(8)), /tensor 'w' has dtype "F64", which is not supported/);
    bad(rawFile({ w: entry('toString', [1], [0, 4]) }, four), /dtype "toString"/);
    bad(rawFile({ w: entry('F32', [1.5], [0, 4]) }, four), /tensor 'w' has shape \[1\.5\]/);
    bad(rawFile({ w: entry('F32', [1], [0, 4.5]) }, four), /has data_offsets \[0,4\.5\]/);
    bad(rawFile({ w: entry('F32', [1], [0]) }, four), /has data_offsets \[0\]/);
    bad(rawFile({ w: entry('F32', [1], [4, 0]) }, four), /data_offsets \[4, 0\] with begin > end/);
    bad(rawFile({ w: entry('F32', [2], [0, 8]) }, four), /data_offsets \[0, 8\] but the data section has only 4 bytes/);
    bad(rawFile({ w: entry('F32', [2], [0, 4]) }, four), /'w' \(F32\[2\]\) spans data bytes \[0, 4\) = 4 bytes, expected 2 × 4 = 8/);
  });

  it('rejects overlaps, holes and trailing bytes: the ranges must tile the data section', () => {
    const eight = new Uint8Array(8);
    bad(rawFile({ a: entry('F32', [2], [0, 8]), b: entry('F32', [1], [4, 8]) }, eight), /tensor 'b' \(data bytes \[4, 8\)\) overlaps tensor 'a', which ends at 8/);
    const hole = rawFile({ a: entry('F32', [1], [0, 4]), b: entry('I32', [1], [8, 12]) }, new Uint8Array(12));
    const start = hole.length - 12;
    bad(hole, new RegExp(`data bytes \\[4, 8\\) \\(file bytes \\[${start + 4}, ${start + 8}\\)\\) belong to no tensor; the format allows no holes`));
    bad(rawFile({ a: entry('F32', [1], [0, 4]) }, eight), /data bytes \[4, 8\) .* allows no trailing bytes/);
    bad(rawFile({}, eight), /data bytes \[0, 8\)/);
  });

  it('rejects metadata that is not string to string', () => {
    bad(rawFile({ __metadata__: { step: 3 } }), /__metadata__ 'step' is number 3, expected a string/);
    bad(rawFile({ __metadata__: ['a'] }), /__metadata__ is an array/);
  });
});

describe('half-precision conversions', () => {
  it('f16ToF32 is exact at the special values', () => {
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0xc000)).toBe(-2);
    expect(f16ToF32(0x3555)).toBe(0.333251953125);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16ToF32(0x0400)).toBe(2 ** -14);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(f16ToF32(0x7e00)).toBeNaN();
    expect(f16ToF32(0xfc01)).toBeNaN();
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
  });

  it('f16: every one of the 65536 bit patterns survives f16 → f32 → f16, in increasing order', () => {
    let previous = -1;
    for (let b = 0; b < 65536; b++) {
      const x = f16ToF32(b);
      if (Number.isNaN(x)) {
        expect((b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0).toBe(true);
        expect(f16ToF32(f32ToF16(x))).toBeNaN();
        continue;
      }
      if (f32ToF16(x) !== b) throw new Error(`f16 bits 0x${b.toString(16)} (${x}) came back as 0x${f32ToF16(x).toString(16)}`);
      if (b <= 0x7c00) {
        if (b > 0 && !(x > previous)) throw new Error(`f16 0x${b.toString(16)} = ${x} is not above ${previous}`);
        previous = x;
      }
    }
  });

  it('f32ToF16 rounds to the nearest half, ties to even, over 100k random floats', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 100_000; i++) {
      // Random sign and mantissa, exponents from far below the subnormals to just past 65504.
      const exp = -30 + rng.int(47);
      const x = f32Bits((rng.int(2) << 31) | ((exp + 127) << 23) | (rng.nextU32() & 0x7fffff));
      const h = f32ToF16(x);
      const m = h & 0x7fff;
      const a = Math.abs(x);
      if ((h & 0x8000) !== (x < 0 ? 0x8000 : 0)) throw new Error(`f32ToF16(${x}) = 0x${h.toString(16)} has the wrong sign`);
      if (m === 0x7c00) {
        if (a < 65520) throw new Error(`f32ToF16(${x}) is Inf below 65520`);
        continue;
      }
      const d = Math.abs(a - f16ToF32(m));
      for (const n of [m - 1, m + 1]) {
        if (n < 0) continue;
        const dn = Math.abs(a - (n === 0x7c00 ? 65536 : f16ToF32(n))); // Inf sits where 2^16 would
        if (dn < d || (dn === d && (m & 1) === 1)) throw new Error(`f32ToF16(${x}) = 0x${h.toString(16)} but 0x${n.toString(16)} is nearer or the even tie`);
      }
    }
  });

  it('f32ToF16 ties and edges', () => {
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie, down to even
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, up to even
    expect(f32ToF16(65519)).toBe(0x7bff);
    expect(f32ToF16(65520)).toBe(0x7c00);
    expect(f32ToF16(1e9)).toBe(0x7c00);
    expect(f32ToF16(-Infinity)).toBe(0xfc00);
    expect(f32ToF16(2 ** -25)).toBe(0); // tie between 0 and the smallest subnormal
    expect(f32ToF16(2 ** -25 * 1.5)).toBe(1);
    expect(f32ToF16(3 * 2 ** -25)).toBe(2); // tie between 1 and 2 subnormal units
    expect(f32ToF16(-(2 ** -30))).toBe(0x8000);
    expect(f32ToF16(1023.5 * 2 ** -24)).toBe(0x0400); // rounds out of the subnormals
    expect(f32ToF16(f32Bits(1))).toBe(0); // an f32 subnormal
    expect(f16ToF32(f32ToF16(NaN))).toBeNaN();
  });

  it('bf16: exact widening, round trip of all bit patterns, ties to even', () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0xc040)).toBe(-3);
    expect(bf16ToF32(0x0001)).toBe(f32Bits(0x10000)); // a subnormal
    expect(bf16ToF32(0x7f80)).toBe(Infinity);
    expect(bf16ToF32(0x7fc0)).toBeNaN();
    for (let b = 0; b < 65536; b++) {
      const x = bf16ToF32(b);
      if (Number.isNaN(x)) continue;
      if (f32ToBf16(x) !== b) throw new Error(`bf16 bits 0x${b.toString(16)} came back as 0x${f32ToBf16(x).toString(16)}`);
    }
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80);
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(f32ToBf16(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81);
    expect(f32ToBf16(f32Bits(0x7f7fffff))).toBe(0x7f80); // the largest f32 rounds to Inf
    expect(f32ToBf16(-Infinity)).toBe(0xff80);
    expect(bf16ToF32(f32ToBf16(NaN))).toBeNaN();
  });
});
