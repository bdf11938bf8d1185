// A transformer block: attention then feed-forward, each wrapped in a residual connection
// with LayerNorm either before the sublayer (pre-norm, GPT-2) or after the sum (post-norm,
// "Attention Is All You Need").
import type { Tensor } from '../tensor.js';
import { residual } from '../fn/residual.js';
import type { Activation } from '../fn/activation.js';
import type { ModelContext } from './context.js';
import { LayerNorm } from './layers.js';
import { Attention, GPT2_ATTENTION_NAMES, type LayerCache } from './attention.js';
import { MLP } from './mlp.js';
import type { ParameterSet } from './parameters.js';

/** Where LayerNorm sits in a block. */
export type NormPlacement = 'pre' | 'post';

export interface BlockConfig {
  dModel: number;
  nHead: number;
  dFF: number;
  bias?: boolean;
  dropout?: number;
  activation?: Activation;
  norm?: NormPlacement;
  causal?: boolean;
  layerNormEps?: number;
  /** Init std of the two output projections (GPT-2: 0.02 / √(2·nLayer)). */
  projStd?: number;
}

/**
 * pre-norm:  x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))
 * post-norm: x = ln_1(x + attn(x)); x = ln_2(x + mlp(x))
 * @example
 * ```ts
 * const block = new Block(ctx, ps, 'transformer.h.0', { dModel: 128, nHead: 4, dFF: 512 });
 * x = block.forward(x); // (B, T, 128)
 * ```
 */
export class Block {
  readonly ln_1: LayerNorm;
  readonly attn: Attention;
  readonly ln_2: LayerNorm;
  readonly mlp: MLP;
  readonly norm: NormPlacement;
  constructor(readonly ctx: ModelContext, ps: ParameterSet, prefix: string, cfg: BlockConfig) {
    this.norm = cfg.norm ?? 'pre';
    const ln = { bias: cfg.bias, eps: cfg.layerNormEps };
    this.ln_1 = new LayerNorm(ctx, ps, `${prefix}.ln_1`, cfg.dModel, ln);
    this.attn = new Attention(ctx, ps, `${prefix}.attn`, { ...cfg, causal: cfg.causal ?? true }, GPT2_ATTENTION_NAMES);
    this.ln_2 = new LayerNorm(ctx, ps, `${prefix}.ln_2`, cfg.dModel, ln);
    this.mlp = new MLP(ctx, ps, `${prefix}.mlp`, cfg);
  }

  /** x (B, T, C) → (B, T, C) */
  forward(x: Tensor): Tensor {
    const rt = this.ctx.rt;
    if (this.norm === 'pre') {
      x = residual(rt, x, this.attn.forward(this.ln_1.forward(x)));
      return residual(rt, x, this.mlp.forward(this.ln_2.forward(x)));
    }
    x = this.ln_1.forward(residual(rt, x, this.attn.forward(x)));
    return this.ln_2.forward(residual(rt, x, this.mlp.forward(x)));
  }

  /** The same with attention over a KV cache (incremental decoding, no gradients). */
  forwardCached(x: Tensor, cache: LayerCache, pos: number): Tensor {
    const rt = this.ctx.rt;
    if (this.norm === 'pre') {
      x = residual(rt, x, this.attn.forward(this.ln_1.forward(x), { cache, pos }));
      return residual(rt, x, this.mlp.forward(this.ln_2.forward(x)));
    }
    x = this.ln_1.forward(residual(rt, x, this.attn.forward(x, { cache, pos })));
    return this.ln_2.forward(residual(rt, x, this.mlp.forward(x)));
  }
}
