// Where streamed weights land: a sink per parameter that writes a file tensor's bytes straight
// into the parameter's f32 memory, widening F16 and BF16 on the way. Chunks may end inside an
// element (a 2-byte half split across reads); the sink carries the odd byte over.
import { f16ToF32 } from '../io/safetensors.js';
import type { TensorSink } from '../io/safetensors-stream.js';
import type { Tensor } from '../tensor.js';

let f16Table: Float32Array | null = null;

/** f32 values of all 65,536 binary16 bit patterns (256 KB, made on first use). */
function halfTable(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let b = 0; b < 65536; b++) f16Table[b] = f16ToF32(b);
  }
  return f16Table;
}

/**
 * A sink writing a file tensor of `dtype` (F32, F16, BF16 little-endian, or I8 as its integer
 * values) into f32 memory of the same element count: a tensor (wasm memory, little-endian, so F32
 * bytes are copied as they are) or a Float32Array.
 * @example
 * ```ts
 * const sinks = new Map([['wte.weight', f32Sink(model.params.get('transformer.wte.weight')!.value, 'F16')]]);
 * ```
 */
export function f32Sink(dst: Tensor | Float32Array, dtype: string): TensorSink {
  const view = dst instanceof Float32Array ? () => dst : () => dst.f32();
  const elements = dst instanceof Float32Array ? dst.length : dst.size;
  if (dtype === 'F32') {
    return (chunk, at) => {
      const v = view();
      new Uint8Array(v.buffer, v.byteOffset, elements * 4).set(chunk, at);
    };
  }
  if (dtype === 'I8') {
    return (chunk, at) => {
      const out = view();
      for (let i = 0; i < chunk.length; i++) out[at + i] = (chunk[i]! << 24) >> 24;
    };
  }
  const half = dtype === 'F16' ? halfTable() : null;
  let carry = -1;   // the low byte of an element split across chunks
  return (chunk, at) => {
    const out = view();
    const outBits = new Uint32Array(out.buffer, out.byteOffset, elements);
    let i = 0, e = at >> 1;
    const put = (bits: number) => {
      if (half) out[e++] = half[bits]!;
      else outBits[e++] = bits << 16;   // bf16 is the top half of an f32
    };
    if (at & 1) {   // finish the element whose low byte came last time
      put(carry | (chunk[0]! << 8));
      i = 1;
    }
    for (; i + 1 < chunk.length; i += 2) put(chunk[i]! | (chunk[i + 1]! << 8));
    if (i < chunk.length) carry = chunk[i]!;
  };
}
