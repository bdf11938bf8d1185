// Where streamed weights land: a sink per parameter that writes a file tensor's bytes straight
// into the parameter's f32 memory, widening F16 and BF16 on the way. Chunks may end inside an
// element (a 2-byte half split across reads); the sink carries the odd byte over. Weights held
// only quantized pass through a scratch block on their way (HeldWeights).
import { CheckpointError, ValueError, WasmformerError } from '../errors.js';
import { f16ToF32 } from '../io/safetensors.js';
import type { TensorSink } from '../io/safetensors-stream.js';
import type { Parameter } from '../nn/parameters.js';
import { quantizeBlocks, quantizeInto, type QuantizedWeight } from '../ops/quant.js';
import type { Runtime } from '../runtime.js';
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

/** Bytes per element of the file dtypes a weight streams from. */
const FILE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I8: 1 };

/**
 * Fills weights a model holds only quantized (`ParameterSet.holdWeightsAs`) from file tensors
 * without ever holding one whole in f32, unless its quantization needs it: a weight stored (N, K)
 * — a row per output channel: nn.Linear, a tied (V, C) embedding — arrives in blocks of whole
 * slivers of rows (about 4 MiB of f32 each), each converted into one scratch block, quantized into
 * the held weight and forgotten; a (K, N) weight (GPT-2's Conv1D) is gathered whole, since its
 * column scales need every row. So loading adds one scratch block to the held bytes, freed by `dispose`.
 * Values a format cannot hold (NaN, ±inf, f16 overflow) throw CheckpointError naming the file tensor and element.
 * @example
 * ```ts
 * const writer = new HeldWeights(rt, heldParams);
 * sinks.set('transformer.wte.weight', writer.sink(wte, 'F16', 'transformer.wte.weight'));
 * // … stream the file …
 * writer.dispose();
 * ```
 */
export class HeldWeights {
  readonly #rt: Runtime;
  #scratch: Tensor | null;

  constructor(rt: Runtime, params: readonly Parameter[]) {
    this.#rt = rt;
    const elems = Math.max(1, ...params.map((p) => quantizeBlocks(heldOf(p)).elems));
    this.#scratch = params.length ? rt.empty([elems]) : null;
  }

  /** A sink writing file tensor `name` (of `dtype`: F32, F16, BF16, or I8 as its integers) into `param`'s held weight. */
  sink(param: Parameter, dtype: string, name: string): TensorSink {
    const qw = heldOf(param), bytes = FILE_BYTES[dtype];
    if (!bytes) throw new CheckpointError(`${name}: dtype ${dtype} cannot fill a held weight`);
    const { rows, cols, total } = quantizeBlocks(qw);
    const blockBytes = rows * cols * bytes;
    let block = -1, got = 0, want = 0, view: Tensor | null = null, into: TensorSink | null = null;
    return (chunk, at) => {
      for (let i = 0; i < chunk.length;) {
        const pos = at + i, b = Math.floor(pos / blockBytes);
        if (b !== block) {
          const n = Math.min(rows, total - b * rows) * cols;
          view = this.#need().view([n]);
          into = f32Sink(view, dtype);
          block = b;
          got = 0;
          want = n * bytes;
        }
        const take = Math.min(chunk.length - i, (b + 1) * blockBytes - pos);
        into!(chunk.subarray(i, i + take), pos - b * blockBytes);
        got += take;
        i += take;
        if (got === want) this.write(param, view!, b * rows, name);
      }
    };
  }

  /** Quantizes f32 `values` (rows from `first` of the weight as stored) into `param`'s held weight, through the scratch block. */
  write(param: Parameter, values: Tensor | Float32Array, first: number, name: string): void {
    const qw = heldOf(param);
    if (values instanceof Float32Array) {
      const { rows, cols } = quantizeBlocks(qw);
      for (let r = 0; r * cols < values.length; r += rows) {
        const part = values.subarray(r * cols, Math.min(values.length, (r + rows) * cols));
        const view = this.#need().view([part.length]);
        view.f32().set(part);
        this.write(param, view, first + r, name);
      }
      return;
    }
    try {
      quantizeInto(this.#rt, qw, values, first);
    } catch (err) {
      if (err instanceof ValueError) throw new CheckpointError(`${name}: ${err.message.replace(/^quantizeInto: /, '')}`, { cause: err });
      throw err;
    }
  }

  /** Frees the scratch block (idempotent). */
  dispose(): void {
    if (this.#scratch) this.#rt.free(this.#scratch);
    this.#scratch = null;
  }

  #need(): Tensor {
    if (!this.#scratch) throw new WasmformerError('HeldWeights: used after dispose');
    return this.#scratch;
  }
}

function heldOf(p: Parameter): QuantizedWeight {
  if (!p.held) throw new WasmformerError(`${p.name} is not held quantized`);
  return p.held;
}
