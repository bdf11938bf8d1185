// The position-wise feed-forward network: c_fc (C → d_ff), GELU or ReLU, c_proj (d_ff → C),
// residual dropout. GPT-2 names and layout by default; other families pass theirs
// (BERT: intermediate.dense / output.dense, nn.Linear layout). Also the gated SwiGLU network of
// Llama-style models: down(silu(gate(x)) ⊙ up(x)), three projections.
import type { Tensor } from '../tensor.js';
import { activation, type Activation } from '../fn/activation.js';
import { dropout } from '../fn/dropout.js';
import { geluFeedForward, type LinearWeights } from '../fn/feedforward.js';
import { swigluFeedForward } from '../fn/swiglu.js';
import type { GateActivation } from '../ops/swiglu.js';
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

/** Parameter names of a SwiGLU feed-forward, relative to its prefix, and the weights' layout. */
export interface SwiGLUNames {
  gate: string;
  up: string;
  down: string;
  layout: WeightLayout;
}

/** Llama's names (`model.layers.N.` …), nn.Linear layout. */
export const LLAMA_SWIGLU_NAMES: SwiGLUNames = { gate: 'mlp.gate_proj', up: 'mlp.up_proj', down: 'mlp.down_proj', layout: 'out,in' };

/**
 * y = down(silu(gate(x)) ⊙ up(x)), silu(a) = a·sigmoid(a), then residual dropout. gate and up
 * (C → d_ff) are declared one after the other, so their weights lie side by side and run as
 * one (C → 2·d_ff) GEMM (in the 'out,in' layout; 'in,out' runs two).
 * @example
 * ```ts
 * const mlp = new SwiGLUMLP(ctx, ps, 'model.layers.0', { dModel: 128, dFF: 344, bias: false });
 * const y = mlp.forward(x); // (B, T, 128)
 * ```
 */
export class SwiGLUMLP {
  readonly gate: Linear;
  readonly up: Linear;
  readonly down: Linear;
  readonly dropoutP: number;
  /** The gate's activation: 'silu' (SwiGLU) or 'gelu' (GeGLU). */
  readonly act: GateActivation;
  readonly #ps: ParameterSet;
  #joined: LinearWeights | null | undefined;
  constructor(
    readonly ctx: ModelContext, ps: ParameterSet, prefix: string,
    cfg: { dModel: number; dFF: number; bias?: boolean; dropout?: number; std?: number; projStd?: number; act?: GateActivation },
    names: SwiGLUNames = LLAMA_SWIGLU_NAMES,
  ) {
    this.#ps = ps;
    this.act = cfg.act ?? 'silu';
    this.dropoutP = cfg.dropout ?? 0;
    const layout = names.layout;
    this.gate = new Linear(ctx, ps, `${prefix}.${names.gate}`, cfg.dModel, cfg.dFF, { bias: cfg.bias, std: cfg.std, layout });
    this.up = new Linear(ctx, ps, `${prefix}.${names.up}`, cfg.dModel, cfg.dFF, { bias: cfg.bias, std: cfg.std, layout });
    this.down = new Linear(ctx, ps, `${prefix}.${names.down}`, cfg.dFF, cfg.dModel, { bias: cfg.bias, std: cfg.projStd ?? cfg.std, layout });
  }

  /** x (…, C) → (…, C); (…, 2·d_ff) or two (…, d_ff) projections in between. */
  forward(x: Tensor): Tensor {
    const rt = this.ctx.rt;
    const joined = (this.#joined ??= this.#join());
    const y = swigluFeedForward(rt, x, joined ?? [weights(this.gate), weights(this.up)], weights(this.down), this.act);
    return dropout(rt, y, this.dropoutP, this.ctx.rng, this.ctx.training);
  }

  /** gate|up as one (2·d_ff, C) weight (and bias) when they lie side by side in 'out,in' layout, else null. */
  #join(): LinearWeights | null {
    if (this.gate.layout !== 'out,in') return null;
    const w = this.#ps.joined([this.gate.weight, this.up.weight]);
    if (!w) return null;
    if (!this.gate.bias) return { weight: w, bias: null, layout: 'out,in' };
    const b = this.#ps.joined([this.gate.bias, this.up.bias!]);
    return b ? { weight: w, bias: b, layout: 'out,in' } : null;
  }
}
