// The GELU feed-forward network as one differentiable op, GELU fused into the GEMM stores:
//   forward:  pre = x·op(W_fc) + b_fc and h = gelu(pre) in one GEMM (the activation applied to
//             each block of the product while it is in cache), then y = h·op(W_proj) + b_proj;
//   backward: dpre = (dy·op(W_proj)ᵀ) ⊙ gelu'(pre) in one GEMM (h's gradient never stored),
//             then the parameter gradients and dx as linear's backward computes them.
// Bit for bit what linear → activation('gelu') → linear computes (forward values and every
// gradient): the fused kernels reproduce the separate ones. Without gradients it is exactly that
// composition on the packed (or quantized) weights, GELU in the first product's store.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { gemmGelu } from '../ops/gemm.js';
import { activation } from './activation.js';
import { linear, linearBackward, linearInto, linearShapes, storedProduct, type WeightLayout } from './linear.js';

/** One linear layer's parameters. */
export interface LinearWeights {
  weight: Tensor;
  bias: Tensor | null;
  layout: WeightLayout;
}

/**
 * y = proj(gelu(fc(x))) over the last dimension: x (…, C) → (…, C_out).
 * @example
 * ```ts
 * const y = geluFeedForward(rt, x, { weight: cFc, bias: bFc, layout: 'in,out' }, { weight: cProj, bias: bProj, layout: 'in,out' });
 * ```
 */
export function geluFeedForward(rt: Runtime, x: Tensor, fc: LinearWeights, proj: LinearWeights): Tensor {
  if (!rt.tape.needsGrad(x, fc.weight, fc.bias, proj.weight, proj.bias)) {
    // GELU in the store of the product on the fc weight's packed or quantized copy, else its own pass
    linearShapes('geluFeedForward (fc)', x, fc.weight, fc.bias, fc.layout);
    const h = storedProduct(rt, x, fc.weight, fc.bias, fc.layout, 'gelu') ?? activation(rt, 'gelu', linear(rt, x, fc.weight, fc.bias, fc.layout));
    return linear(rt, h, proj.weight, proj.bias, proj.layout);
  }
  const { cout: dff } = linearShapes('geluFeedForward (fc)', x, fc.weight, fc.bias, fc.layout);
  const hidden = [...x.shape.slice(0, -1), dff];
  const pre = rt.empty(hidden, { arena: 'step' }), h = rt.empty(hidden, { arena: 'step' });   // (…, d_ff)
  gemmGelu(rt, { out: h, pre, a: x, b: fc.weight, bias: fc.bias, transB: fc.layout === 'out,in' });
  const { cout } = linearShapes('geluFeedForward (proj)', h, proj.weight, proj.bias, proj.layout);
  const y = rt.empty([...x.shape.slice(0, -1), cout], { arena: 'step' });                      // (…, C_out)
  linearInto(rt, y, h, proj.weight, proj.bias, proj.layout);
  rt.tape.record('geluFeedForward', y, () => {
    const dy = y.grad;
    if (!dy) return;
    // dpre (…, d_ff) = (dy · op(W_proj)ᵀ) ⊙ gelu'(pre): proj's input gradient with GELU's backward in its store
    const dpre = rt.empty(hidden, { arena: 'step' });
    gemmGelu(rt, { out: dpre, pre, a: dy, b: proj.weight, transB: proj.layout === 'in,out', grad: true });
    linearBackward(rt, h, proj.weight, proj.bias, proj.layout, dy, false);   // dW_proj, db_proj
    linearBackward(rt, x, fc.weight, fc.bias, fc.layout, dpre, true);        // dx, dW_fc, db_fc
  });
  return y;
}
