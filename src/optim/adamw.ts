// AdamW (Loshchilov & Hutter, decoupled weight decay) fused over the flat parameter buffer:
// two kernel calls per step, one over the weight-decayed range and one over the rest (biases,
// norms, embeddings), as nanoGPT groups them. Moments live in buffers of the same layout.
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { ParameterSet } from '../nn/parameters.js';
import type { Optimizer, StepOptions } from './optimizer.js';

export interface AdamWOptions {
  /** (β1, β2), default (0.9, 0.999). */
  betas?: [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay of the decayed group, default 0.01 (PyTorch's). */
  weightDecay?: number;
}

/**
 * @example
 * ```ts
 * const opt = new AdamW(model.params, { betas: [0.9, 0.99], weightDecay: 0.1 });
 * opt.step({ lr: 1e-3, gradScale: clip.scale });
 * ```
 */
export class AdamW implements Optimizer {
  readonly name = 'adamw';
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly #params: ParameterSet;
  readonly #m: Tensor;
  readonly #v: Tensor;
  #t = 0;

  constructor(params: ParameterSet, opts: AdamWOptions = {}) {
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.01;
    for (const [name, v] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(v >= 0 && v < 1)) throw new ValueError(`AdamW: ${name} is ${v}, expected 0 ≤ β < 1`);
    }
    if (!(this.eps > 0)) throw new ValueError(`AdamW: eps is ${this.eps}, expected > 0`);
    if (!(this.weightDecay >= 0)) throw new ValueError(`AdamW: weightDecay is ${this.weightDecay}, expected ≥ 0`);
    this.#params = params;
    this.#m = paramsLike(params);
    this.#v = paramsLike(params);
  }

  get stepCount(): number {
    return this.#t;
  }

  step({ lr, gradScale = 1 }: StepOptions): void {
    checkStep('AdamW', lr, gradScale);
    this.#t++;
    const bc1 = 1 - Math.pow(this.beta1, this.#t);
    const bc2 = 1 - Math.pow(this.beta2, this.#t);
    const p = this.#params;
    const k = p.rt.kernels;
    const split = p.decayEnd;
    const total = p.flat.size;
    const at = (t: Tensor, i: number): number => t.ptr + 4 * i;
    for (const [start, end, wd] of [[0, split, this.weightDecay], [split, total, 0]] as const) {
      if (end > start) {
        k.adamw_f32(at(p.flat, start), at(p.grads, start), at(this.#m, start), at(this.#v, start), end - start,
          lr, this.beta1, this.beta2, this.eps, wd, bc1, bc2, gradScale);
      }
    }
  }

  stateTensors(): Record<string, Tensor> {
    return { exp_avg: this.#m, exp_avg_sq: this.#v };
  }

  stateMeta(): Record<string, number | string | boolean> {
    return { name: this.name, step: this.#t, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }

  loadStateMeta(meta: Record<string, unknown>): void {
    this.#t = loadStep(this.name, meta);
  }
}

/** A zeroed persistent buffer with the layout of the flat parameters. */
export function paramsLike(params: ParameterSet): Tensor {
  return params.rt.zeros(params.flat.shape);
}

/** Throws ValueError for a learning rate or gradient scale that is not a finite number ≥ 0. */
export function checkStep(op: string, lr: number, gradScale: number): void {
  if (!(lr >= 0) || !Number.isFinite(lr)) throw new ValueError(`${op}.step: lr is ${lr}, expected a finite number ≥ 0`);
  if (!(gradScale >= 0) || !Number.isFinite(gradScale)) throw new ValueError(`${op}.step: gradScale is ${gradScale}, expected a finite number ≥ 0`);
}

/** The step count from saved optimizer metadata, checked. */
export function loadStep(name: string, meta: Record<string, unknown>): number {
  if (meta.name !== name) throw new ValueError(`optimizer state is for '${String(meta.name)}', this optimizer is '${name}'`);
  const t = meta.step;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 0) throw new ValueError(`optimizer state: step is ${String(t)}, expected an integer ≥ 0`);
  return t;
}
