// SGD with momentum (and optional Nesterov), weight decay added to the gradient as PyTorch
// does, fused over the flat parameter buffer with the momentum buffer in the same layout.
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { ParameterSet } from '../nn/parameters.js';
import type { Optimizer, StepOptions } from './optimizer.js';
import { checkStep, loadStep, paramsLike } from './adamw.js';

export interface SGDOptions {
  /** Default 0 (plain SGD). */
  momentum?: number;
  /** L2 penalty added to the gradient (decayed group only), default 0. */
  weightDecay?: number;
  nesterov?: boolean;
}

/**
 * @example
 * ```ts
 * const opt = new SGD(model.params, { momentum: 0.9 });
 * opt.step({ lr: 0.1 });
 * ```
 */
export class SGD implements Optimizer {
  readonly name = 'sgd';
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  readonly #params: ParameterSet;
  readonly #buf: Tensor;
  #t = 0;

  constructor(params: ParameterSet, opts: SGDOptions = {}) {
    this.momentum = opts.momentum ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new ValueError(`SGD: momentum is ${this.momentum}, expected 0 ≤ μ < 1`);
    if (!(this.weightDecay >= 0)) throw new ValueError(`SGD: weightDecay is ${this.weightDecay}, expected ≥ 0`);
    if (this.nesterov && this.momentum === 0) throw new ValueError('SGD: nesterov needs momentum > 0');
    this.#params = params;
    this.#buf = paramsLike(params);
  }

  get stepCount(): number {
    return this.#t;
  }

  step({ lr, gradScale = 1 }: StepOptions): void {
    checkStep('SGD', lr, gradScale);
    this.#t++;
    const p = this.#params;
    const at = (t: Tensor, i: number): number => t.ptr + 4 * i;
    const split = p.decayEnd;
    for (const [start, end, wd] of [[0, split, this.weightDecay], [split, p.flat.size, 0]] as const) {
      if (end > start) {
        p.rt.kernels.sgd_f32(at(p.flat, start), at(p.grads, start), at(this.#buf, start), end - start,
          lr, this.momentum, wd, this.nesterov ? 1 : 0, gradScale);
      }
    }
  }

  stateTensors(): Record<string, Tensor> {
    return { momentum_buffer: this.#buf };
  }

  stateMeta(): Record<string, number | string | boolean> {
    return { name: this.name, step: this.#t, momentum: this.momentum, weightDecay: this.weightDecay, nesterov: this.nesterov };
  }

  loadStateMeta(meta: Record<string, unknown>): void {
    this.#t = loadStep(this.name, meta);
  }
}
