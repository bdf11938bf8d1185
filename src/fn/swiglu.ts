// The SwiGLU feed-forward (Shazeer 2020; Llama's MLP), differentiable:
//   y = W_down · (silu(W_gate·x) ⊙ (W_up·x)),  silu(a) = a·sigmoid(a);
// and GeGLU (T5 v1.1, Flan-T5) with the tanh gelu in place of silu.
// `swiGLU` is the gate alone (forward and backward side by side); `swigluFeedForward` is the
// whole block, running gate and up as one GEMM when given their joined (2F, C) weight.
import { ShapeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { swiglu as swigluOp, swigluBackward, type ColumnRange, type GateActivation } from '../ops/swiglu.js';
import type { LinearWeights } from './feedforward.js';
import { linear, linearShapes } from './linear.js';
import { gradOf } from './grad.js';

/**
 * out (…, F) = act(gate) ⊙ up — silu (SwiGLU, default) or the tanh gelu (GeGLU); gate and up
 * are (…, F) tensors or column ranges of one tensor
 * (`{ t, col, width }`, as attention's ColumnSlice), gradients flowing into the same columns.
 * @example
 * ```ts
 * const gu = linear(rt, x, gateUpWeight, null, 'out,in');                          // (B, T, 2F)
 * const h = swiGLU(rt, { t: gu, col: 0, width: F }, { t: gu, col: F, width: F });  // (B, T, F)
 * ```
 */
export function swiGLU(rt: Runtime, gate: Tensor | ColumnRange, up: Tensor | ColumnRange, act: GateActivation = 'silu'): Tensor {
  const out = swigluOp(rt, gate, up, { act });
  const g = 't' in gate ? gate.t : gate, u = 't' in up ? up.t : up;
  if (rt.tape.needsGrad(g, u)) {
    rt.tape.record('swiGLU', out, () => {
      if (!out.grad) return;
      // out = silu(gate)·up  →  dgate += dout·up·silu'(gate),  dup += dout·silu(gate)
      // (the kernel writes both; a side that needs none gets scratch)
      const scratch = (t: Tensor) => rt.zeros(t.shape, { arena: 'step' });
      const dg = g.requiresGrad ? gradOf(rt, g) : scratch(g);
      const du = u === g ? dg : u.requiresGrad ? gradOf(rt, u) : scratch(u);
      swigluBackward(rt, dg, du, out.grad, gate, up, act);
    });
  }
  return out;
}

/**
 * y (…, C_out) = down(act(gate(x)) ⊙ up(x)) for x (…, C), act silu (SwiGLU) or gelu (GeGLU). `gateUp` is either the two
 * projections, or one joined projection whose first F outputs are the gate and last F the up
 * (their weights side by side in memory, e.g. `ps.joined([gate.weight, up.weight])`): one GEMM.
 * @example
 * ```ts
 * const y = swigluFeedForward(rt, x, [{ weight: wg, bias: null, layout: 'out,in' }, { weight: wu, bias: null, layout: 'out,in' }],
 *   { weight: wd, bias: null, layout: 'out,in' });                      // x (B, T, C) → (B, T, C)
 * ```
 */
export function swigluFeedForward(rt: Runtime, x: Tensor, gateUp: LinearWeights | [LinearWeights, LinearWeights], down: LinearWeights, act: GateActivation = 'silu'): Tensor {
  let h: Tensor;                                                           // (…, F)
  if (Array.isArray(gateUp)) {
    const [g, u] = gateUp;
    h = swiGLU(rt, linear(rt, x, g.weight, g.bias, g.layout), linear(rt, x, u.weight, u.bias, u.layout), act);
  } else {
    const { cout: W } = linearShapes('swigluFeedForward (gate|up)', x, gateUp.weight, gateUp.bias, gateUp.layout);
    if (W % 2 !== 0) throw new ShapeError(`swigluFeedForward: the joined gate|up projection has ${W} outputs, expected an even number (F gate then F up)`);
    const F = W / 2;
    const gu = linear(rt, x, gateUp.weight, gateUp.bias, gateUp.layout);  // (…, 2F)
    h = swiGLU(rt, { t: gu, col: 0, width: F }, { t: gu, col: F, width: F }, act);
  }
  return linear(rt, h, down.weight, down.bias, down.layout);
}
