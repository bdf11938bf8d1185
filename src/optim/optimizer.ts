// What the training loop needs of an optimizer — a fused step over the flat parameter buffer
// (with the gradient scale that clipping chose) and its state as named tensors for
// checkpoints — and the base class that AdamW and SGD share: the step count, argument
// checks, and the split of the flat buffer into the weight-decayed range and the rest.
import { ValueError, preview } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { Parameter, ParameterSet } from '../nn/parameters.js';
import { copy } from '../ops/elementwise.js';

/**
 * Which parameters weight decay applies to. 'matrices' (default): the matmul weights only —
 * embeddings, position tables, biases and norms are not decayed (GPT-2's and Hugging Face's
 * usual grouping, and nanoGPT's until 2023). 'all-2d': every parameter of ≥ 2 dimensions,
 * embeddings included, biases and norms not — what nanoGPT's configure_optimizers does now
 * (`p.dim() >= 2`).
 */
export type DecayRule = 'matrices' | 'all-2d';

/** Parameters that train differently from the rest (`groups` of AdamW and SGD). */
export interface ParamGroup {
  /** Which parameters: their names, a RegExp on the name, or a test. Every group must match at least one. */
  params: readonly string[] | RegExp | ((name: string) => boolean);
  /** Multiplies the step's learning rate for these (default 1; 0 freezes them in effect, but keeps computing their gradients). */
  lrScale?: number;
  /** Their weight decay (default: the optimizer's, by its decay rule). */
  weightDecay?: number;
  /** No updates, no gradients computed and no gradient memory for them: the optimizer freezes them (`ParameterSet.setFrozen`), which can thaw them later. */
  frozen?: boolean;
}

/** Options shared by AdamW and SGD for training parameters differently. */
export interface GroupOptions {
  /** Parameter groups; a parameter may be in one group at most. */
  groups?: readonly ParamGroup[];
  /**
   * Layer-wise learning-rate decay for fine-tuning: the parameters of layer k (0 = embeddings,
   * 1 … L = the transformer layers by their index in the name, L = final norms and heads) train at
   * lr · decay^(L − k); multiplies any group's lrScale. In (0, 1].
   */
  layerDecay?: number;
}

/** The layer k of a parameter name for layer-wise decay, given L layers: embeddings 0, block i (`.h.i.`, `.layer.i.`, `.layers.i.`) i + 1, anything else L. */
export function layerOf(name: string, layers: number): number {
  const block = /\.(?:h|layer|layers)\.(\d+)\./.exec(name);
  if (block) return Math.min(layers, Number(block[1]) + 1);
  return /embed|\.wte\.|\.wpe\.|cls_token|position_embeddings/.test(name) ? 0 : layers;
}

/** Arguments of one update. */
export interface StepOptions {
  /** Learning rate of this update (schedules compute it per step). */
  lr: number;
  /** Multiplies every gradient first (global-norm clipping), default 1. */
  gradScale?: number;
}

/** A run of parameters with equal settings: elements [start, end) of the flat buffers, their gradients from element `grad` of the gradient buffer (−1 when frozen). */
interface Range { start: number; end: number; grad: number; wd: number; lrScale: number; frozen: boolean }

/** An optimizer over one ParameterSet's flat buffers. */
export interface Optimizer {
  readonly name: string;
  /** Updates applied so far. */
  readonly stepCount: number;
  step(opts: StepOptions): void;
  /** State buffers by name (the gradients' layout: the parameters' without the frozen ones), for checkpoints. */
  stateTensors(): Record<string, Tensor>;
  /** Hyper-parameters and the step count, JSON-serialisable. */
  stateMeta(): Record<string, number | string | boolean>;
  /** Restores `stepCount` (buffers are restored by writing into `stateTensors()`). */
  loadStateMeta(meta: Record<string, unknown>): void;
  /** Frees the state buffers (made again, as zeros, if the optimizer is used after). */
  dispose(): void;
}

/** Shared by the fused optimizers: subclasses implement `update` over one contiguous range. */
export abstract class FlatOptimizer implements Optimizer {
  abstract readonly name: string;
  readonly params: ParameterSet;
  readonly weightDecay: number;
  /** Which parameters weight decay applies to (`DecayRule`). */
  readonly decay: DecayRule;
  #t = 0;

  constructor(params: ParameterSet, weightDecay: number, decay: DecayRule = 'matrices') {
    if (typeof weightDecay !== 'number' || !(weightDecay >= 0) || !Number.isFinite(weightDecay)) throw new ValueError(`${new.target.name}: weightDecay is ${preview(weightDecay)}, expected a finite number ≥ 0`);
    if (decay !== 'matrices' && decay !== 'all-2d') throw new ValueError(`${new.target.name}: decay is ${String(decay)}, expected 'matrices' or 'all-2d'`);
    if (params.heldAs) throw new ValueError(`${new.target.name}: the model holds its weights as ${params.heldAs} only (loaded with dtype '${params.heldAs}' and keepF32: false), so it cannot train; load it with keepF32: true`);
    this.params = params;
    this.weightDecay = weightDecay;
    this.decay = decay;
  }

  /**
   * Throws ValueError for an option `known` does not list — notably `lr`, which is given per
   * step (`train({ lr })`, `step({ lr })`), not to the constructor.
   */
  protected static checkKeys(name: string, opts: object, known: readonly string[]): void {
    const unknown = Object.keys(opts ?? {}).filter((k) => !known.includes(k));
    if (unknown.length === 0) return;
    const lr = unknown.includes('lr') ? '; the learning rate is given per step: train({ lr }) or optimizer.step({ lr })' : '';
    throw new ValueError(`${name}: unknown option ${unknown.map((k) => `'${k}'`).join(', ')} (options: ${known.join(', ')})${lr}`);
  }

  get stepCount(): number {
    return this.#t;
  }

  step({ lr, gradScale = 1 }: StepOptions): void {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new ValueError(`${this.name}.step: lr is ${lr}, expected a finite number ≥ 0`);
    if (!(gradScale >= 0) || !Number.isFinite(gradScale)) throw new ValueError(`${this.name}.step: gradScale is ${gradScale}, expected a finite number ≥ 0`);
    this.#t++;
    for (const r of this.#ranges()) if (!r.frozen) this.update(r.start, r.end, r.grad, r.wd, lr * r.lrScale, gradScale, this.#t);
    this.params.changed();
  }

  /** Per-parameter settings of the groups and layer decay (null: none, one rule for all). */
  #settings: Map<Parameter, { wd: number | null; lrScale: number; frozen: boolean }> | null = null;

  /**
   * Resolves `groups` and `layerDecay` against the parameters (called by the subclass's constructor).
   * @throws ValueError for a parameter in two groups, a group that matches nothing, or a value out of range.
   */
  protected setGroups(opts: GroupOptions): void {
    const { groups = [], layerDecay } = opts;
    if (groups.length === 0 && layerDecay === undefined) return;
    if (layerDecay !== undefined && !(layerDecay > 0 && layerDecay <= 1)) throw new ValueError(`${this.name}: layerDecay is ${preview(layerDecay)}, expected a number in (0, 1]`);
    const list = this.params.list();
    const layers = Math.max(0, ...list.map((p) => { const m = /\.(?:h|layer|layers)\.(\d+)\./.exec(p.name); return m ? Number(m[1]) + 1 : 0; }));
    const settings = new Map(list.map((p) => [p, { wd: null as number | null, lrScale: layerDecay === undefined ? 1 : layerDecay ** (layers - layerOf(p.name, layers)), frozen: false }]));
    const owner = new Map<Parameter, number>();
    groups.forEach((g, i) => {
      const test = Array.isArray(g.params) ? (n: string) => (g.params as readonly string[]).includes(n)
        : g.params instanceof RegExp ? (n: string) => (g.params as RegExp).test(n) : typeof g.params === 'function' ? g.params as (n: string) => boolean : null;
      if (!test) throw new ValueError(`${this.name}: groups[${i}].params is ${preview(g.params)}, expected names, a RegExp or a test`);
      if (g.lrScale !== undefined && !(g.lrScale >= 0 && Number.isFinite(g.lrScale))) throw new ValueError(`${this.name}: groups[${i}].lrScale is ${preview(g.lrScale)}, expected a finite number ≥ 0`);
      if (g.weightDecay !== undefined && !(g.weightDecay >= 0 && Number.isFinite(g.weightDecay))) throw new ValueError(`${this.name}: groups[${i}].weightDecay is ${preview(g.weightDecay)}, expected a finite number ≥ 0`);
      const members = list.filter((p) => test(p.name));
      if (members.length === 0) throw new ValueError(`${this.name}: groups[${i}] matches no parameter (${preview(g.params)})`);
      for (const p of members) {
        if (owner.has(p)) throw new ValueError(`${this.name}: parameter ${p.name} is in groups[${owner.get(p)}] and groups[${i}]; a parameter may be in one group`);
        owner.set(p, i);
        const s = settings.get(p)!;
        s.lrScale *= g.lrScale ?? 1;
        if (g.weightDecay !== undefined) s.wd = g.weightDecay;
        s.frozen = g.frozen === true;
      }
    });
    this.params.setFrozen(list.filter((p) => settings.get(p)!.frozen), true);
    this.#settings = settings;
  }

  #rangeCache: { key: string; ranges: Range[] } | null = null;

  /** The flat buffers as ranges of equal settings, in order (two ranges without groups or frozen parameters: the decayed ones and the rest); worked out again only when parameters are frozen or thawed. */
  #ranges(): Range[] {
    const key = `${this.params.gradLayoutVersion}:${this.params.list().map((p) => (p.frozen ? 1 : 0)).join('')}`;
    if (this.#rangeCache?.key !== key) this.#rangeCache = { key, ranges: this.#layout() };
    return this.#rangeCache.ranges;
  }

  #layout(): Range[] {
    const split = this.decay === 'all-2d' ? this.params.matrixEnd : this.params.decayEnd;
    const total = this.params.flat.size;
    const list = [...this.params.list()].sort((a, b) => a.offset - b.offset);
    if (!this.#settings && !list.some((p) => p.frozen)) {   // the gradients have the parameters' layout
      return [{ start: 0, end: split, grad: 0, wd: this.weightDecay, lrScale: 1, frozen: false }, { start: split, end: total, grad: split, wd: 0, lrScale: 1, frozen: false }]
        .filter((r) => r.end > r.start);
    }
    const ranges: Range[] = [];
    list.forEach((p, i) => {
      const s = this.#settings?.get(p) ?? { wd: null, lrScale: 1, frozen: false };
      const wd = s.wd ?? (p.offset < split ? this.weightDecay : 0), frozen = p.frozen;   // a group's `frozen` set it; setFrozen may change it since
      const end = i + 1 < list.length ? list[i + 1]!.offset : total;   // padding goes with the parameter before it
      const last = ranges[ranges.length - 1];
      // a run of trainable parameters is one run in the gradient buffer too (frozen ones, left out there, end runs)
      if (last && last.wd === wd && last.lrScale === s.lrScale && last.frozen === frozen) last.end = end;
      else ranges.push({ start: p.offset, end, grad: frozen ? -1 : this.params.gradOffset(p.offset)!, wd, lrScale: s.lrScale, frozen });
    });
    return ranges;
  }

  /** Updates elements [start, end) of the flat parameters, whose gradients and state start at element `grad` of theirs, with weight decay `wd`; `t` is the 1-based step. */
  protected abstract update(start: number, end: number, grad: number, wd: number, lr: number, gradScale: number, t: number): void;

  abstract stateTensors(): Record<string, Tensor>;

  stateMeta(): Record<string, number | string | boolean> {
    return { name: this.name, step: this.#t, weightDecay: this.weightDecay, decay: this.decay, ...this.hyper() };
  }

  /** Hyper-parameters other than weight decay, for `stateMeta`. */
  protected abstract hyper(): Record<string, number | boolean>;

  loadStateMeta(meta: Record<string, unknown>): void {
    if (meta.name !== this.name) throw new ValueError(`optimizer state is for '${String(meta.name)}', this optimizer is '${this.name}'`);
    const t = meta.step;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0) throw new ValueError(`optimizer state: step is ${String(t)}, expected an integer ≥ 0`);
    this.#t = t;
  }

  /**
   * The state buffer `name` (moments, momentum): zeros when first asked for, in the gradients'
   * layout — no room for frozen parameters. When parameters were frozen or thawed since, every
   * buffer is laid out again first: each parameter keeps its state, a thawed one starts at zero.
   */
  protected state(name: string): Tensor {
    const ps = this.params, rt = ps.rt, version = ps.gradLayoutVersion;
    if (this.#stateLayout?.version !== version) {
      const old = this.#stateLayout, now = ps.gradLayout();
      for (const [key, t] of old ? this.#state : []) {
        const moved = rt.zeros([ps.gradSize]);
        for (const [offset, from] of old!.at) {
          const to = now.at.get(offset), n = now.sizes.get(offset)!;
          if (to !== undefined) copy(rt, t.view([n], from), { out: moved.view([n], to) });
        }
        rt.free(t);
        this.#state.set(key, moved);
      }
      this.#stateLayout = { version, at: now.at };
    }
    let t = this.#state.get(name);
    if (!t) this.#state.set(name, (t = rt.zeros([ps.gradSize])));
    return t;
  }

  readonly #state = new Map<string, Tensor>();
  #stateLayout: { version: number; at: ReadonlyMap<number, number> } | null = null;

  /**
   * Frees the optimizer state for reuse; a later `step` starts it again from zeros (step count kept).
   * @example
   * ```ts
   * opt.dispose(); model.dispose();   // everything training held goes back to the runtime
   * ```
   */
  dispose(): void {
    for (const t of this.#state.values()) if (t.isLive) this.params.rt.free(t);
    this.#state.clear();
    this.#stateLayout = null;
  }
}
