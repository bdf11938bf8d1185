// linear: y = x·W + b over the last dimension, with its backward, one GEMM per product.
// Two weight layouts: 'in,out' (Hugging Face GPT-2's Conv1D, (C_in, C_out): y = x·W) and
// 'out,in' (PyTorch nn.Linear and tied output embeddings, (C_out, C_in): y = x·Wᵀ).
// Without gradients (inference, evaluation) a model's weights are read from their packed copies
// (ops/packed.ts): the training-time bits from GEMM_SMALL_M + 1 rows; up to that (decode) each
// row alike whatever the number of rows, within the GEMM bound.
import { ShapeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32, expectShape, rowsCols, type StoreActivation } from '../ops/check.js';
import { gradOf, gradSlot } from './grad.js';
import { packedWeight, matmulPacked, quantizedCopy } from '../ops/packed.js';
import { matmulQuantized } from '../ops/quant.js';
import { matmul } from '../ops/gemm.js';
import { colsum } from '../ops/elementwise.js';

/** How a weight matrix is stored: (C_in, C_out) or (C_out, C_in). */
export type WeightLayout = 'in,out' | 'out,in';

/**
 * y (…, C_out) = x (…, C_in) · W + b. Records its backward when gradients are on.
 * @example
 * ```ts
 * const h = linear(rt, x, cFc.weight, cFc.bias);            // x (B, T, 128), W (128, 512) → (B, T, 512)
 * const logits = linear(rt, h, wte, null, 'out,in');        // tied head: wte (V, C)
 * ```
 */
export function linear(rt: Runtime, x: Tensor, weight: Tensor, bias: Tensor | null, layout: WeightLayout = 'in,out'): Tensor {
  const { cout } = linearShapes('linear', x, weight, bias, layout);
  const training = rt.tape.needsGrad(x, weight, bias);
  const stored = training ? null : storedProduct(rt, x, weight, bias, layout);
  if (stored) return stored;
  const y = rt.empty([...x.shape.slice(0, -1), cout], { arena: 'step' });
  linearInto(rt, y, x, weight, bias, layout);
  if (training) {
    rt.tape.record('linear', y, () => {
      if (y.grad) linearBackward(rt, x, weight, bias, layout, y.grad, true);
    });
  }
  return y;
}

/**
 * Inference (no gradients; shapes already checked): y = x·op(W) + b read from the weight's
 * quantized or packed copy (kept until the parameters change), with `activation` applied in the
 * product's store; null when the weight has neither copy (not model parameters, or a model that
 * keeps none).
 * @example
 * ```ts
 * const h = storedProduct(rt, x, cFc.weight, cFc.bias, 'in,out', 'gelu') ?? activation(rt, 'gelu', linear(rt, x, cFc.weight, cFc.bias));
 * ```
 */
export function storedProduct(rt: Runtime, x: Tensor, weight: Tensor, bias: Tensor | null, layout: WeightLayout, activation: StoreActivation = 'none'): Tensor | null {
  const quantized = quantizedCopy(rt, weight, layout === 'out,in');
  if (quantized) return matmulQuantized(rt, x, quantized, bias, undefined, activation);
  const packed = packedWeight(rt, weight, layout === 'out,in');
  return packed ? matmulPacked(rt, x, packed, bias, undefined, activation) : null;
}

/** Checks x (…, C_in), weight and bias against each other; returns (rows, C_in, C_out). */
export function linearShapes(op: string, x: Tensor, weight: Tensor, bias: Tensor | null, layout: WeightLayout): { rows: number; cin: number; cout: number } {
  expectF32(op, 'x', x);
  expectF32(op, 'weight', weight);
  if (weight.shape.length !== 2) throw new ShapeError(`${op}: weight has shape [${weight.shape.join(', ')}], expected 2 dimensions`);
  const [rows, cin] = rowsCols(x);
  const [wIn, cout] = layout === 'in,out' ? weight.shape as [number, number] : [weight.shape[1]!, weight.shape[0]!];
  if (wIn !== cin) {
    throw new ShapeError(`${op}: x has ${cin} features (shape [${x.shape.join(', ')}]) but weight [${weight.shape.join(', ')}] (${layout}) takes ${wIn}`);
  }
  if (bias) {
    expectF32(op, 'bias', bias);
    expectShape(op, 'bias', bias, [cout]);
  }
  return { rows, cin, cout };
}

/** y (…, C_out) = x (…, C_in) · op(W) + b, shapes already checked (linearShapes): one matmul on the rows. */
export function linearInto(rt: Runtime, y: Tensor, x: Tensor, weight: Tensor, bias: Tensor | null, layout: WeightLayout): void {
  matmul(rt, rows2(x), weight, { transB: layout === 'out,in', bias: bias ?? undefined, out: rows2(y) });
}

/** A (…, C) tensor seen as (rows, C). */
const rows2 = (t: Tensor): Tensor => (t.shape.length === 2 ? t : t.view(rowsCols(t)));

/**
 * The backward of y = x·op(W) + b given dy: dx (when `input` and x needs it), dW and db, each
 * added into its gradient (or written, if it has none yet).
 */
export function linearBackward(rt: Runtime, x: Tensor, weight: Tensor, bias: Tensor | null, layout: WeightLayout, dy: Tensor, input: boolean): void {
  const x2 = rows2(x), dy2 = rows2(dy);
  if (input && x.requiresGrad) {
    // dx (rows, cin) += dy (rows, cout) · op(W)ᵀ
    const [dx, beta] = gradSlot(rt, x);
    matmul(rt, dy2, weight, { transB: layout === 'in,out', beta, out: rows2(dx) });
  }
  if (weight.requiresGrad) {
    const [dw, beta] = gradSlot(rt, weight);
    // 'in,out': dW (cin, cout) += xᵀ (cin, rows) · dy (rows, cout); 'out,in': dW (cout, cin) += dyᵀ · x
    if (layout === 'in,out') matmul(rt, x2, dy2, { transA: true, beta, out: dw });
    else matmul(rt, dy2, x2, { transA: true, beta, out: dw });
  }
  // db (cout) += Σ_rows dy
  if (bias && bias.requiresGrad) colsum(rt, gradOf(rt, bias), dy2);
}
