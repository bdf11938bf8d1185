// The position-wise feed-forward network: c_fc (C → d_ff), GELU or ReLU, c_proj (d_ff → C),
// residual dropout. GPT-2 names and layout by default; other families pass theirs
// (BERT: intermediate.dense / output.dense, nn.Linear layout).
import type { Tensor } from '../tensor.js';
import { activation, type Activation } from '../fn/activation.js';
import { dropout } from '../fn/dropout.js';
import { geluFeedForward, type LinearWeights } from '../fn/feedforward.js';
import type { ModelContext } from './context.js';
import { Linear } from './layers.js';
import type { WeightLayout } from '../fn/linear.js';
import type { ParameterSet } from './parameters.js';

/**
 * y = c_proj(act(c_fc(x))).
 * @example
 * ```ts
 * const mlp = new MLP(ctx, ps, 'transformer.h.0.mlp', { dModel: 128, dFF: 512 });
 * const y = mlp.forward(x); // (B, T, 128)
 * ```
 */
export class MLP {
  readonly c_fc: Linear;
  readonly c_proj: Linear;
  readonly activation: Activation;
  readonly dropoutP: number;
  constructor(
    readonly ctx: ModelContext, ps: ParameterSet, prefix: string,
    cfg: { dModel: number; dFF: number; bias?: boolean; activation?: Activation; dropout?: number; std?: number; projStd?: number },
    names: { fc: string; proj: string; layout: WeightLayout } = { fc: 'c_fc', proj: 'c_proj', layout: 'in,out' },
  ) {
    this.activation = cfg.activation ?? 'gelu';
    this.dropoutP = cfg.dropout ?? 0;
    const layout = names.layout;
    this.c_fc = new Linear(ctx, ps, `${prefix}.${names.fc}`, cfg.dModel, cfg.dFF, { bias: cfg.bias, std: cfg.std, layout });
    this.c_proj = new Linear(ctx, ps, `${prefix}.${names.proj}`, cfg.dFF, cfg.dModel, { bias: cfg.bias, std: cfg.projStd ?? cfg.std, layout });
  }

  /** x (…, C) → (…, C). GELU runs fused into the two GEMMs' stores (fn/feedforward.ts). */
  forward(x: Tensor): Tensor {
    const rt = this.ctx.rt;
    const y = this.activation === 'gelu'
      ? geluFeedForward(rt, x, weights(this.c_fc), weights(this.c_proj))
      : this.c_proj.forward(activation(rt, this.activation, this.c_fc.forward(x)));   // (…, d_ff) in between
    return dropout(rt, y, this.dropoutP, this.ctx.rng, this.ctx.training);
  }
}

const weights = (l: Linear): LinearWeights => ({ weight: l.weight.value, bias: l.bias ? l.bias.value : null, layout: l.layout });
