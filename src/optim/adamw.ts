// AdamW (Loshchilov & Hutter, decoupled weight decay) fused over the flat parameter buffer:
// two kernel calls per step, one over the weight-decayed range and one over the rest (which
// range decays: `DecayRule`). Moments live in buffers of the gradients' layout.
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { ParameterSet } from '../nn/parameters.js';
import { FlatOptimizer, type DecayRule, type GroupOptions } from './optimizer.js';
import { adamwUpdate } from '../ops/optim.js';

export interface AdamWOptions extends GroupOptions {
  /** (β1, β2), default (0.9, 0.999). */
  betas?: [number, number];
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay of the decayed group, default 0.01 (PyTorch's). */
  weightDecay?: number;
  /** Which parameters are decayed: 'matrices' (default: matmul weights) or 'all-2d' (nanoGPT's: embeddings too). */
  decay?: DecayRule;
}

/**
 * @example
 * ```ts
 * const opt = new AdamW(model.params, { betas: [0.9, 0.99], weightDecay: 0.1 });
 * opt.step({ lr: 1e-3, gradScale: clip.scale });
 * ```
 */
export class AdamW extends FlatOptimizer {
  readonly name = 'adamw';
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;

  constructor(params: ParameterSet, opts: AdamWOptions = {}) {
    FlatOptimizer.checkKeys('AdamW', opts, ['betas', 'eps', 'weightDecay', 'decay', 'groups', 'layerDecay']);
    super(params, opts.weightDecay ?? 0.01, opts.decay);
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    if (!(this.beta1 >= 0 && this.beta1 < 1 && this.beta2 >= 0 && this.beta2 < 1)) throw new ValueError(`AdamW: betas are ${JSON.stringify(opts.betas)}, expected two numbers in [0, 1)`);
    if (!(this.eps > 0) || !Number.isFinite(this.eps)) throw new ValueError(`AdamW: eps is ${this.eps}, expected a finite number > 0`);
    this.setGroups(opts);
    for (const [name, v] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(v >= 0 && v < 1)) throw new ValueError(`AdamW: ${name} is ${v}, expected 0 ≤ β < 1`);
    }
    if (!(this.eps > 0)) throw new ValueError(`AdamW: eps is ${this.eps}, expected > 0`);
  }

  protected update(start: number, end: number, grad: number, wd: number, lr: number, gradScale: number, t: number): void {
    const p = this.params, range = (b: Tensor, at = grad) => b.view([end - start], at);
    adamwUpdate(p.rt, { param: range(p.flat, start), grad: range(p.grads), m: range(this.state('exp_avg')), v: range(this.state('exp_avg_sq')) },
      { lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: wd, step: t, gradScale });
  }

  /** The moments, zeros until the first step (made then, or when a checkpoint reads or restores them). */
  stateTensors(): Record<string, Tensor> {
    return { exp_avg: this.state('exp_avg'), exp_avg_sq: this.state('exp_avg_sq') };
  }

  protected hyper(): Record<string, number> {
    return { beta1: this.beta1, beta2: this.beta2, eps: this.eps };
  }
}
