// The parameterised building blocks: Linear, Embedding, LayerNorm, RMSNorm. Each declares its
// parameters under a Hugging Face style prefix and calls the differentiable op in src/fn.
import type { Tensor } from '../tensor.js';
import { linear, type WeightLayout } from '../fn/linear.js';
import { embedding } from '../fn/embedding.js';
import { layerNorm } from '../fn/layernorm.js';
import { rmsNorm } from '../fn/rmsnorm.js';
import type { ModelContext } from './context.js';
import type { Parameter, ParameterSet } from './parameters.js';

/**
 * y = x·W + b. `layout` 'in,out' stores W as (C_in, C_out) (GPT-2's Conv1D), 'out,in' as
 * PyTorch's nn.Linear (C_out, C_in).
 * @example
 * ```ts
 * const fc = new Linear(ctx, ps, 'h.0.mlp.c_fc', 128, 512, { std: 0.02 });
 * const y = fc.forward(x); // (…, 128) → (…, 512)
 * ```
 */
export class Linear {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  constructor(
    readonly ctx: ModelContext, ps: ParameterSet, prefix: string, readonly inFeatures: number, readonly outFeatures: number,
    opts: { bias?: boolean; std?: number; layout?: WeightLayout } = {},
  ) {
    this.layout = opts.layout ?? 'in,out';
    const shape = this.layout === 'in,out' ? [inFeatures, outFeatures] : [outFeatures, inFeatures];
    this.weight = ps.declare(`${prefix}.weight`, shape, { normal: opts.std ?? 0.02 }, true, this.layout === 'in,out' ? 1 : 0);
    this.bias = opts.bias === false ? null : ps.declare(`${prefix}.bias`, [outFeatures], 'zeros', false);
  }
  readonly layout: WeightLayout;

  /** x (…, C_in) → (…, C_out) */
  forward(x: Tensor): Tensor {
    return linear(this.ctx.rt, x, this.weight.value, this.bias ? this.bias.value : null, this.layout);
  }
}

/**
 * A table of learned vectors looked up by id (token or position). `tokenTable`: a vocabulary's
 * table (the big one; often also the output projection, logits = x · tableᵀ), declared with its
 * rows as output channels (outAxis 0), so a set holding its weights quantized holds it too, a
 * scale per row; position tables stay f32.
 * @example
 * ```ts
 * const wte = new Embedding(ctx, ps, 'transformer.wte', 65, 128, 0.02, true);
 * const x = wte.forward(idx); // idx i32 (B, T) → (B, T, 128)
 * ```
 */
export class Embedding {
  readonly weight: Parameter;
  constructor(readonly ctx: ModelContext, ps: ParameterSet, prefix: string, readonly count: number, readonly dim: number, std = 0.02, tokenTable = false) {
    this.weight = ps.declare(`${prefix}.weight`, [count, dim], { normal: std }, false, tokenTable ? 0 : undefined);
  }

  /** ids i32 (…) → (…, dim) */
  forward(ids: Tensor): Tensor {
    return embedding(this.ctx.rt, ids, this.weight.value);
  }
}

/**
 * Layer normalisation over the last dimension with a learned gain and (optionally) bias.
 * @example
 * ```ts
 * const ln = new LayerNorm(ctx, ps, 'h.0.ln_1', 128);
 * const y = ln.forward(x); // (…, 128)
 * ```
 */
export class LayerNorm {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  constructor(readonly ctx: ModelContext, ps: ParameterSet, prefix: string, readonly dim: number, opts: { bias?: boolean; eps?: number } = {}) {
    this.weight = ps.declare(`${prefix}.weight`, [dim], 'ones', false);
    this.bias = opts.bias === false ? null : ps.declare(`${prefix}.bias`, [dim], 'zeros', false);
    this.eps = opts.eps ?? 1e-5;
  }
  readonly eps: number;

  /** x (…, C) → (…, C) */
  forward(x: Tensor): Tensor {
    const rt = this.ctx.rt;
    // Without a bias the kernel still adds one: a zero vector for this call, not a parameter
    const bias = this.bias ? this.bias.value : rt.zeros([this.dim], { arena: 'step' });
    return layerNorm(rt, x, this.weight.value, bias, this.eps);
  }
}

/**
 * RMS normalisation over the last dimension with a learned gain only (T5's LayerNorm, Llama's
 * RMSNorm): y = x / sqrt(mean(x²) + eps) · weight. One parameter, `<prefix>.weight`.
 * @example
 * ```ts
 * const norm = new RMSNorm(ctx, ps, 'model.layers.0.input_layernorm', 128, { eps: 1e-6 });
 * const y = norm.forward(x); // (…, 128)
 * ```
 */
export class RMSNorm {
  readonly weight: Parameter;
  readonly eps: number;
  constructor(readonly ctx: ModelContext, ps: ParameterSet, prefix: string, readonly dim: number, opts: { eps?: number } = {}) {
    this.weight = ps.declare(`${prefix}.weight`, [dim], 'ones', false);
    this.eps = opts.eps ?? 1e-6;
  }

  /** x (…, C) → (…, C) */
  forward(x: Tensor): Tensor {
    return rmsNorm(this.ctx.rt, x, this.weight.value, this.eps);
  }
}
