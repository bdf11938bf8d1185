// SGD with momentum (and optional Nesterov), weight decay added to the gradient as PyTorch
// does, fused over the flat parameter buffer with the momentum buffer in the gradients' layout.
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { ParameterSet } from '../nn/parameters.js';
import { FlatOptimizer, type DecayRule, type GroupOptions } from './optimizer.js';
import { sgdUpdate } from '../ops/optim.js';

export interface SGDOptions extends GroupOptions {
  /** Default 0 (plain SGD). */
  momentum?: number;
  /** L2 penalty added to the gradient (decayed group only), default 0. */
  weightDecay?: number;
  nesterov?: boolean;
  /** Which parameters are decayed: 'matrices' (default: matmul weights) or 'all-2d' (embeddings too). */
  decay?: DecayRule;
}

/**
 * @example
 * ```ts
 * const opt = new SGD(model.params, { momentum: 0.9 });
 * opt.step({ lr: 0.1 });
 * ```
 */
export class SGD extends FlatOptimizer {
  readonly name = 'sgd';
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(params: ParameterSet, opts: SGDOptions = {}) {
    FlatOptimizer.checkKeys('SGD', opts, ['momentum', 'weightDecay', 'nesterov', 'decay', 'groups', 'layerDecay']);
    super(params, opts.weightDecay ?? 0, opts.decay);
    this.momentum = opts.momentum ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (!(this.momentum >= 0 && this.momentum < 1)) throw new ValueError(`SGD: momentum is ${this.momentum}, expected 0 ≤ μ < 1`);
    if (this.nesterov && this.momentum === 0) throw new ValueError('SGD: nesterov needs momentum > 0');
    this.setGroups(opts);
  }

  protected update(start: number, end: number, grad: number, wd: number, lr: number, gradScale: number): void {
    const p = this.params, range = (b: Tensor, at = grad) => b.view([end - start], at);
    sgdUpdate(p.rt, { param: range(p.flat, start), grad: range(p.grads), buf: range(this.state('momentum_buffer')) },
      { lr, momentum: this.momentum, weightDecay: wd, nesterov: this.nesterov, gradScale });
  }

  /** The momentum buffer, zeros until the first step. */
  stateTensors(): Record<string, Tensor> {
    return { momentum_buffer: this.state('momentum_buffer') };
  }

  protected hyper(): Record<string, number | boolean> {
    return { momentum: this.momentum, nesterov: this.nesterov };
  }
}
