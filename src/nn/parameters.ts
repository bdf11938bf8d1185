// Parameters carved from one block: modules declare (name, shape, init, decay) while the
// model is built; `allocate` lays them out in one flat f32 buffer (weight-decayed group first,
// then the rest). Gradients live in a second buffer of the same layout without the frozen
// parameters (no gradient memory for them), allocated the first time any gradient is asked for
// (a model only run for inference never holds one). AdamW, zero-grad and the global gradient norm
// are one kernel call each over one or two contiguous ranges (one per run of equal settings with groups).
// `dispose` frees both buffers and every packed copy made from the weights.
// A set may instead hold its matmul weights (and a tied embedding) only quantized
// (`holdWeightsAs`): those get no f32 memory at all, only their int8 / f16 / bf16 copy, filled by a
// loader; the set is then for inference only.
import { DTypeError, ShapeError, ValueError, WasmformerError } from '../errors.js';
import { Rng } from '../random.js';
import type { Runtime } from '../runtime.js';
import { shapeSize, Tensor, Tracked } from '../tensor.js';
import type { Allocator, ArenaReport } from '../memory/arena.js';
import { fill } from '../ops/elementwise.js';
import { holdWeight } from '../ops/packed.js';
import { allocateQuantized, quantizeBlocks, quantizeInto, QUANT_MAX_K, type QuantDType, type QuantizedWeight } from '../ops/quant.js';

/** How a parameter starts: N(0, std²), zeros, ones. */
export type Init = { normal: number } | 'zeros' | 'ones';

/** One row of the shape table. */
export interface ParameterSpec {
  /** Hugging Face name, e.g. `transformer.h.0.attn.c_attn.weight`. */
  name: string;
  shape: number[];
  init: Init;
  /** Whether it is a matmul weight: decayed by default (optimizers' `decay: 'matrices'`); embeddings and other ≥ 2-D tensors are decayed only with `decay: 'all-2d'`, biases and norms never. */
  decay: boolean;
  /** A matmul weight's output axis: 1 for (in, out) storage (GPT-2's Conv1D), 0 for (out, in) (nn.Linear); per-channel quantization scales run along it. */
  outAxis?: 0 | 1;
}

/** A declared parameter; `value` exists after `ParameterSet.allocate` (`value.grad` once gradients are asked for). */
export class Parameter {
  readonly spec: ParameterSpec;
  #value: Tensor | null = null;
  /** Offset in the flat buffers, in elements (−1 for a weight held only quantized). */
  offset = -1;
  /** The weight's only copy when the set holds it quantized (`ParameterSet.holdWeightsAs`); its `value` then has no memory. */
  held: QuantizedWeight | null = null;
  /** No gradient wanted and no update (`ParameterSet.setFrozen`). */
  frozen = false;

  constructor(spec: ParameterSpec) {
    this.spec = spec;
  }

  get name(): string {
    return this.spec.name;
  }

  /** The parameter's tensor (a view of the flat parameter buffer; `.grad` views the gradient buffer, made on first read). */
  get value(): Tensor {
    if (!this.#value) throw new WasmformerError(`parameter ${this.spec.name} is used before its ParameterSet was allocated`);
    return this.#value;
  }

  /** @internal */
  bind(value: Tensor): void {
    this.#value = value;
  }
}

/** Elements between parameters are padded to this many (64 bytes: aligned SIMD rows). */
const PAD = 16;

/**
 * The shape table of a model and, once allocated, its flat parameter and gradient buffers.
 * @example
 * ```ts
 * const ps = new ParameterSet();
 * const w = ps.declare('h.0.mlp.c_fc.weight', [128, 512], { normal: 0.02 }, true);
 * ps.allocate(rt, 1337);
 * w.value.shape;          // [128, 512]
 * ps.zeroGrad();          // one fill over every gradient
 * ```
 */
export class ParameterSet {
  readonly #list: Parameter[] = [];
  readonly #byName = new Map<string, Parameter>();
  #flat: Tensor | null = null;
  #grads: Tensor | null = null;
  /** Where each parameter with gradient memory starts in `grads` (by its offset in `flat`), and the buffer's size. */
  #gradLayout: { at: Map<number, number>; size: number } | null = null;
  #gradLayoutVersion = 0;
  #decayEnd = 0;
  #matrixEnd = 0;
  #rt: Runtime | null = null;
  #disposed = false;
  readonly #tracked = new Tracked();

  /** Adds a row to the shape table. Names must be unique. */
  declare(name: string, shape: number[], init: Init, decay: boolean, outAxis?: 0 | 1): Parameter {
    if (this.#flat) throw new WasmformerError(`declare ${name}: the ParameterSet is already allocated`);
    if (this.#byName.has(name)) throw new WasmformerError(`declare: parameter name ${name} is used twice`);
    shapeSize(shape, name);
    const p = new Parameter({ name, shape: [...shape], init, decay, ...(outAxis === undefined ? {} : { outAxis }) });
    this.#list.push(p);
    this.#byName.set(name, p);
    return p;
  }

  #held: QuantDType | null = null;

  /**
   * Hold the weights inference multiplies and the vocabulary tables — every matmul weight and every
   * token embedding, tied or not (2-D, with an output axis; K ≤ QUANT_MAX_K) — only in `dtype`
   * (int8 per output channel, a token table per row; f16, bf16):
   * `allocate` gives them no f32 memory, just their quantized copy (zeros until a loader fills
   * it; a random initialisation is quantized as it is made), and reading their f32 values throws
   * DTypeError. Biases, norms and position and token-type tables stay f32. The set is then
   * for inference only: it has no gradients. Call before `allocate`; null (default): f32 weights.
   * @example
   * ```ts
   * ps.holdWeightsAs('int8');   // a GPT-2-small: 127 MB held instead of 498 MB
   * ps.allocate(rt, 1, { init: false });
   * ```
   */
  holdWeightsAs(dtype: QuantDType | null): void {
    if (this.#flat || this.#disposed) throw new WasmformerError(`holdWeightsAs: the ParameterSet is already ${this.#disposed ? 'disposed' : 'allocated'}`);
    if (dtype !== null && !['int8', 'f16', 'bf16'].includes(dtype)) throw new ValueError(`holdWeightsAs: ${JSON.stringify(dtype)} is not one of int8, f16, bf16 (or null)`);
    this.#held = dtype;
    if (dtype) this.#tracked.dtype = dtype;
  }

  /** The format the weights are held in only (`holdWeightsAs`), or null when every parameter has f32 values. */
  get heldAs(): QuantDType | null {
    return this.#held;
  }

  /** Whether `p` is (or, before `allocate`, will be) held only quantized under the set's `holdWeightsAs`: 2-D with an output axis and K within the kernels' limit. */
  holds(p: Parameter): boolean {
    const { shape, outAxis } = p.spec;
    return this.#held !== null && shape.length === 2 && outAxis !== undefined && shape[1 - outAxis]! <= QUANT_MAX_K;
  }

  /** Carves every declared parameter from one persistent block and initialises it from `seed` (zeros with `init: false`). */
  allocate(rt: Runtime, seed: number, opts: { init?: boolean | (() => boolean) } = {}): void {
    if (this.#flat || this.#disposed) throw new WasmformerError(`allocate: the ParameterSet is already ${this.#disposed ? 'disposed' : 'allocated'}`);
    // Layout: the weight-decayed group (matmul weights), then the other tensors of ≥ 2
    // dimensions (embeddings, position tables), then the rest (biases, norms), each parameter
    // padded to PAD elements: either decay rule is then one contiguous range from 0.
    const group = (s: ParameterSpec) => (s.decay ? 0 : s.shape.length >= 2 ? 1 : 2);
    let offset = 0;
    for (const g of [0, 1, 2]) {
      for (const p of this.#list) {
        if (group(p.spec) !== g || this.holds(p)) continue;
        p.offset = offset;
        offset += Math.ceil(shapeSize(p.spec.shape) / PAD) * PAD;
      }
      if (g === 0) this.#decayEnd = offset;
      if (g === 1) this.#matrixEnd = offset;
    }
    const total = Math.max(offset, PAD);
    // zeroed by the fill kernel, which a threaded runtime splits: first touches of fresh pages are
    // the cost here (GPT-2 small, 500 MB: 1.34 s on one thread, 0.78 s on two)
    this.#flat = fill(rt, rt.empty([total]), 0).track(this.#tracked);
    this.#rt = rt;
    this.#gradLayout = null;
    try {
      for (const p of this.#list) {
        if (this.holds(p)) {
          this.#hold(rt, p);
          continue;
        }
        const value = this.#flat.view(p.spec.shape, p.offset);
        this.#gradLater(value, p.offset);
        value.requiresGrad = !p.frozen && !this.#held;     // a held set is for inference: nothing records a backward
        p.bind(value);
      }
      if ((typeof opts.init === 'function' ? opts.init() : opts.init) === false) return;
      // Initialise in declaration order so a seed gives the same model whatever the layout.
      const rng = new Rng(seed);
      for (const p of this.#list) {
        const init = p.spec.init;
        const fillIn = (d: Float32Array) => {
          if (init === 'ones') d.fill(1);
          else if (init !== 'zeros') for (let i = 0; i < d.length; i++) d[i] = init.normal * rng.normal();
        };
        if (!p.held) {
          fillIn(p.value.f32());
          continue;
        }
        // a held weight: its values made a block of rows at a time in a scratch tensor (in order, so
        // the same values as an f32 set's) and quantized as a loader's would be
        const { rows, cols, total, elems } = quantizeBlocks(p.held);
        const scratch = rt.empty([elems]);
        try {
          for (let r = 0; r < total; r += rows) {
            const block = scratch.view([Math.min(rows, total - r) * cols]);
            fillIn(block.f32());
            quantizeInto(rt, p.held, block, r);
          }
        } finally {
          rt.free(scratch);
        }
      }
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /** Gives `p` its quantized copy and a value without memory (any read of it throws DTypeError naming it). */
  #hold(rt: Runtime, p: Parameter): void {
    const { shape, outAxis, name } = p.spec;
    const transB = outAxis === 0;
    const [n, k] = transB ? shape : [shape[1]!, shape[0]!];
    const held = allocateQuantized(rt, this.#held!, n!, k!, transB);
    p.held = held;
    p.frozen = true;
    const why = new NotKept(`${name} is held as ${this.#held} only (the model was made or loaded with dtype '${this.#held}' and keepF32: false): it has no f32 values to read, write or train. Load it with keepF32: true for those, or read the held values with dequantizeWeight(param.held)`);
    const value = new Tensor(rt.heap, { arena: why, depth: 0, scope: 0 }, 0, shape, 'f32');
    holdWeight(value, held);
    p.bind(value);
  }

  /** The runtime the parameters live in. */
  get rt(): Runtime {
    if (!this.#rt) throw new ShapeError('the ParameterSet has not been allocated yet');
    return this.#rt;
  }

  /** The flat parameter buffer (all parameters, padded). */
  get flat(): Tensor {
    return this.#need(this.#flat);
  }

  /**
   * The flat gradient buffer (zeros when first asked for): `flat`'s layout without the frozen
   * parameters — the same layout as `flat` when none is frozen. `gradOffset` says where a
   * parameter's gradient starts.
   */
  get grads(): Tensor {
    this.#need(this.#flat);
    if (this.#held) throw new ValueError(`the parameters hold their weights as ${this.#held} only (keepF32: false): an inference-only model has no gradients; load it with keepF32: true to train`);
    if (!this.#grads) this.#grads = fill(this.#rt!, this.#rt!.empty([this.#layout().size]), 0);
    return this.#grads;
  }

  /** Where the gradient of the parameter (or joined view) at element `offset` of `flat` starts in `grads`; undefined for a frozen one (it has none). */
  gradOffset(offset: number): number | undefined {
    this.#need(this.#flat);
    return this.#layout().at.get(offset);
  }

  /** Elements of the gradient buffer in its current layout (whether it exists yet or not). */
  get gradSize(): number {
    this.#need(this.#flat);
    return this.#layout().size;
  }

  /** @internal The current gradient layout: each parameter's start in `grads` by its start in `flat`, with its padded size (optimizer state follows it). */
  gradLayout(): { at: ReadonlyMap<number, number>; sizes: ReadonlyMap<number, number> } {
    const sizes = new Map(this.#list.map((p) => [p.offset, Math.ceil(shapeSize(p.spec.shape) / PAD) * PAD]));
    return { at: new Map(this.#layout().at), sizes };
  }

  /** Counts up whenever the gradient buffer's layout changes (parameters frozen or thawed after it was made). */
  get gradLayoutVersion(): number {
    return this.#gradLayoutVersion;
  }

  /** Whether `p` needs gradient memory: not frozen, or part of a joined view (a fused QKV) with a part that is not. */
  #hasGrad(p: Parameter): boolean {
    return !p.frozen || this.#joinedViews.some((j) => j.parts.includes(p) && j.parts.some((q) => !q.frozen));
  }

  #layout(): { at: Map<number, number>; size: number } {
    if (this.#gradLayout) return this.#gradLayout;
    const at = new Map<number, number>();
    let size = 0;
    for (const p of [...this.#list].sort((a, b) => a.offset - b.offset)) {
      if (!this.#hasGrad(p)) continue;
      at.set(p.offset, size);
      size += Math.ceil(shapeSize(p.spec.shape) / PAD) * PAD;
    }
    return (this.#gradLayout = { at, size: Math.max(size, PAD) });
  }

  /**
   * Whether inference keeps a packed copy of each weight matrix (default true): one more copy of
   * the weights' bytes for GEMMs that stream at memory speed (GPT-2 small decode, relaxed, 2
   * threads, paired: 14.0 ms/token packed, 20.6 unpacked). false frees the copies and runs
   * inference on the weights as they are: a model then holds its weight bytes only.
   */
  get packWeights(): boolean {
    return this.#tracked.pack;
  }

  set packWeights(on: boolean) {
    this.#tracked.pack = on;
    if (on || !this.#rt) return;
    this.#dropDerived(this.#rt);
  }

  /**
   * The format inference multiplies the weight matrices in (the tied head included): 'f32'
   * (default), or 'int8' (symmetric, one scale per output channel), 'f16' or 'bf16' copies made
   * from the f32 weights on first use and rebuilt when they change — 1, 2 or 2 bytes read per
   * weight instead of 4. Training always uses the f32 weights. Changing it frees the copies.
   */
  get inferenceDtype(): 'f32' | 'int8' | 'f16' | 'bf16' {
    return this.#tracked.dtype;
  }

  set inferenceDtype(dtype: 'f32' | 'int8' | 'f16' | 'bf16') {
    if (!['f32', 'int8', 'f16', 'bf16'].includes(dtype)) throw new ValueError(`inferenceDtype: ${JSON.stringify(dtype)} is not one of f32, int8, f16, bf16`);
    if (dtype === this.#tracked.dtype) return;
    if (this.#held) throw new ValueError(`inferenceDtype: the weights are held as ${this.#held} only (keepF32: false), so ${dtype} cannot be made from them; load the model again with dtype '${dtype}'`);
    this.#tracked.dtype = dtype;
    if (this.#rt) this.#dropDerived(this.#rt);
  }

  /** Frees every cache derived from the weights (packed and quantized copies). */
  #dropDerived(rt: Runtime): void {
    for (const d of this.#tracked.derived.values()) {
      if (d.quantized) d.quantized.dispose();
      else if (d.tensor) rt.free(d.tensor);
    }
    this.#tracked.derived.clear();
  }

  /** Whether the gradient buffer exists (it is made the first time a gradient is read). */
  get hasGrads(): boolean {
    return this.#grads !== null;
  }

  /** Marks `t` (elements from `offset` of the flat buffer) as a parameter whose `.grad` is its range of `grads`, made when first read (none while frozen). */
  #gradLater(t: Tensor, offset: number): void {
    t.requiresGrad = true;
    t.grad = null;
    t.onGradNeeded(() => {
      if (this.#held) return;       // inference only: no gradient buffer
      const at = this.gradOffset(offset);
      if (at === undefined) return;
      t.grad = this.grads.view(t.shape, at);
      t.onGradNeeded(null);
    });
  }

  /**
   * Frees the parameters, their gradients and every packed copy of the weights for reuse by the
   * runtime; every tensor over them becomes stale. Idempotent.
   * @example
   * ```ts
   * model.params.dispose();
   * model.params.get('wte.weight')!.value.ptr;   // throws StaleTensorError
   * ```
   */
  dispose(): void {
    if (this.#disposed || !this.#rt) {
      this.#disposed = true;
      return;
    }
    const rt = this.#rt;
    this.#dropDerived(rt);
    for (const p of this.#list) p.held?.dispose();
    if (this.#grads) rt.free(this.#grads);
    rt.free(this.#flat!);
    this.#grads = this.#flat = null;
    this.#gradLayout = null;
    this.#disposed = true;
  }

  /** Elements [0, decayEnd) of the flat buffers hold the weight-decayed parameters (matmul weights). */
  get decayEnd(): number {
    this.#need(this.#flat);
    return this.#decayEnd;
  }

  /** Elements [0, matrixEnd) hold every parameter of ≥ 2 dimensions: the matmul weights, then embeddings and position tables. */
  get matrixEnd(): number {
    this.#need(this.#flat);
    return this.#matrixEnd;
  }

  /** Parameters in declaration order (the model's natural order). */
  list(): readonly Parameter[] {
    return this.#list;
  }

  /** The parameter called `name`, or undefined. */
  get(name: string): Parameter | undefined {
    return this.#byName.get(name);
  }

  /**
   * One tensor over parameters that lie back to back in the flat buffers (stacked along their
   * first dimension), with its gradient view: e.g. separate query/key/value weights (C, C) as one
   * (3C, C) matrix, so the three projections run as one GEMM. Null when they are not adjacent
   * (padding between them, or different groups) or their trailing shapes differ.
   * @example
   * ```ts
   * const qkv = ps.joined([q.weight, k.weight, v.weight]); // (3C, C) or null
   * ```
   */
  joined(parts: readonly Parameter[]): Tensor | null {
    if (parts.some((p) => p.held)) return null;
    let end = parts[0]!.offset;
    const rest = parts[0]!.spec.shape.slice(1);
    let rows = 0;
    for (const p of parts) {
      if (p.offset !== end || p.spec.shape.slice(1).join() !== rest.join()) return null;
      end += shapeSize(p.spec.shape);
      rows += p.spec.shape[0]!;
    }
    const shape = [rows, ...rest];
    const t = this.flat.view(shape, parts[0]!.offset);
    if (!this.#grads) this.#gradLayout = null;          // its parts may now need gradient memory
    this.#gradLater(t, parts[0]!.offset);
    t.requiresGrad = parts.some((p) => !p.frozen);
    this.#joinedViews.push({ t, parts: [...parts] });
    return t;
  }

  readonly #joinedViews: { t: Tensor; parts: Parameter[] }[] = [];

  /**
   * Freezes (or thaws) parameters: a frozen one needs no gradient — backward computes none for it
   * and the gradient buffer holds no room for it, where it stands alone (a joined view over
   * several, such as a fused QKV, still computes theirs while any part is not frozen) — and
   * optimizers leave it as it is. When this changes which parameters have gradients after the
   * gradient buffer was made, the buffer is freed and made again, zeroed, in the new layout.
   * @example
   * ```ts
   * model.params.setFrozen(model.params.list().filter((p) => p.name.includes('embeddings')), true);
   * ```
   */
  setFrozen(params: Iterable<Parameter>, frozen: boolean): void {
    const list = [...params];
    const held = frozen ? undefined : list.find((p) => p.held);
    if (held) throw new ValueError(`setFrozen: ${held.name} is held as ${this.#held} only (keepF32: false) and cannot be trained`);
    for (const p of list) {
      p.frozen = frozen;
      if (this.#flat) p.value.requiresGrad = !frozen;
    }
    for (const j of this.#joinedViews) j.t.requiresGrad = j.parts.some((p) => !p.frozen);
    const old = this.#gradLayout;
    this.#gradLayout = null;
    if (!old || sameLayout(old.at, this.#layout().at)) {
      this.#gradLayout = old ?? this.#gradLayout;
      return;
    }
    // a new layout: the old buffer and every gradient view over it go
    this.#gradLayoutVersion++;
    if (this.#grads) this.#rt!.free(this.#grads);
    this.#grads = null;
    for (const p of this.#list) this.#gradLater(p.value, p.offset);
    for (const j of this.#joinedViews) {
      this.#gradLater(j.t, j.parts[0]!.offset);
      j.t.requiresGrad = j.parts.some((p) => !p.frozen);
    }
    for (const p of this.#list) p.value.requiresGrad = !p.frozen;
  }

  /**
   * Counts up whenever the parameters may have changed: optimizer steps, loads, and any JS-side
   * access to their data (`p.value.f32()`, `set`, …). Packed copies of the weights used for
   * inference are rebuilt when it moved.
   */
  get version(): number {
    return this.#tracked.version;
  }

  /**
   * Declares that the parameters changed. Optimizers and loaders call it; call it yourself after
   * writing parameter memory by other means (a kernel call, or a Float32Array over the wasm memory
   * kept from before), so that inference does not run on stale packed weights.
   * @example
   * ```ts
   * const view = ps.flat.f32();      // taking the view counts as a change, now
   * await nextChunk(view);           // … later writes through it are not seen:
   * ps.changed();
   * ```
   */
  changed(): void {
    this.#tracked.version++;
  }

  /** Number of scalars in all parameters (no padding). */
  count(): number {
    let n = 0;
    for (const p of this.#list) n += shapeSize(p.spec.shape);
    return n;
  }

  /** Sets every gradient to zero: one fill over the gradient buffer. */
  zeroGrad(): void {
    fill(this.#rt!, this.grads, 0);
  }

  #need<T>(t: T | null): T {
    if (!t) throw new ShapeError(this.#disposed ? 'the ParameterSet has been disposed' : 'the ParameterSet has not been allocated yet');
    return t;
  }
}

/** The "allocator" of a held weight's value: it has no memory, and any use of its address says why. */
class NotKept implements Allocator {
  readonly name = 'held quantized';
  constructor(readonly why: string) {}
  take(): never {
    throw new DTypeError(this.why);
  }
  isLive(): boolean {
    return false;
  }
  checkLive(): void {
    throw new DTypeError(this.why);
  }
  report(): ArenaReport {
    return { usedBytes: 0, reservedBytes: 0, peakBytes: 0, chunks: 0 };
  }
}

const sameLayout = (a: Map<number, number>, b: Map<number, number>) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
