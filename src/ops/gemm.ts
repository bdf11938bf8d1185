// matmul: checks shapes, allocates the output, calls gemm_f32 / gemm_batched_f32; gemmGelu: the same with GELU in the store.
// Covers the three products training needs (A·B, A·Bᵀ, Aᵀ·B), a bias epilogue,
// accumulation (beta) and batches of matrices (attention heads), with B shared or not.
import { ShapeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { GEMM_GELU_GRAD, GEMM_TRANS_A, GEMM_TRANS_B } from '../wasm/gemm-layout.js';
import { expectF32, expectFinite, expectShape, outputLike } from './check.js';

export interface MatmulOptions {
  /** Use Aᵀ: a is stored (…, K, M). */
  transA?: boolean;
  /** Use Bᵀ: b is stored (…, N, K), the nn.Linear weight layout. */
  transB?: boolean;
  /** Scales the product (default 1). */
  alpha?: number;
  /** Scales what `out` held before (default 0: `out` is overwritten, never read). Needs `out`. */
  beta?: number;
  /** (N): added to every row of the result. */
  bias?: Tensor;
  /** Where to write; default a new tensor in the step arena. */
  out?: Tensor;
}

/**
 * out = alpha · op(a) · op(b) + beta · out + bias.
 * a is (M, K) or (batch, M, K); b is (K, N) or (batch, K, N) (transposed layouts with the
 * flags); a 2-D b is shared by every matrix of a batched a. out is (M, N) or (batch, M, N).
 *
 * @example
 * ```ts
 * const x = rt.randn([4, 768], { seed: 1 });      // (B·T, C)
 * const w = rt.randn([3072, 768], { seed: 2 });   // nn.Linear weight (out, in)
 * const y = matmul(rt, x, w, { transB: true });   // (4, 3072)
 * ```
 */
export function matmul(rt: Runtime, a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const op = 'matmul';
  expectF32(op, 'a', a);
  expectF32(op, 'b', b);
  const alpha = opts.alpha ?? 1;
  const beta = opts.beta ?? 0;
  expectFinite(op, 'alpha', alpha);
  expectFinite(op, 'beta', beta);
  if (beta !== 0 && !opts.out) throw new ShapeError(`${op}: beta = ${beta} accumulates into out, but no out was given`);
  if (a.shape.length !== 2 && a.shape.length !== 3) throw new ShapeError(`${op}: a has shape [${a.shape.join(', ')}], expected 2 or 3 dimensions`);
  if (b.shape.length !== 2 && b.shape.length !== 3) throw new ShapeError(`${op}: b has shape [${b.shape.join(', ')}], expected 2 or 3 dimensions`);
  const batch = a.shape.length === 3 ? a.shape[0]! : 1;
  if (b.shape.length === 3 && (a.shape.length !== 3 || b.shape[0] !== batch)) {
    throw new ShapeError(`${op}: b has batch ${b.shape[0]} (shape [${b.shape.join(', ')}]) but a has shape [${a.shape.join(', ')}]`);
  }
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [m, k] = opts.transA ? [ac, ar] : [ar, ac];
  const [kb, n] = opts.transB ? [bc, br] : [br, bc];
  if (k !== kb) {
    throw new ShapeError(
      `${op}: inner dimensions differ: op(a) is ${m}×${k} (a [${a.shape.join(', ')}]${opts.transA ? ', transposed' : ''}), ` +
        `op(b) is ${kb}×${n} (b [${b.shape.join(', ')}]${opts.transB ? ', transposed' : ''})`,
    );
  }
  if (opts.bias) {
    expectF32(op, 'bias', opts.bias);
    expectShape(op, 'bias', opts.bias, [n]);
  }
  const outShape = a.shape.length === 3 ? [batch, m, n] : [m, n];
  const out = outputLike(rt, op, opts.out, outShape);
  const flags = (opts.transA ? GEMM_TRANS_A : 0) | (opts.transB ? GEMM_TRANS_B : 0);
  const bias = opts.bias ? opts.bias.ptr : 0;
  const work = rt.gemmWork;
  if (a.shape.length === 2) {
    rt.kernels.gemm_f32(out.ptr, a.ptr, b.ptr, bias, m, n, k, ac, bc, n, flags, alpha, beta, work);
  } else {
    const strideB = b.shape.length === 3 ? br * bc : 0;
    rt.kernels.gemm_batched_f32(out.ptr, a.ptr, b.ptr, bias, m, n, k, ac, bc, n, flags, alpha, beta, work, batch, ar * ac, strideB, m * n, 1, 0, 0, 0);
  }
  return out;
}

/**
 * GELU fused into the GEMM store. Forward: pre = a · op(b) + bias and out = gelu(pre), both
 * written. Backward (`grad`): out = (a · op(b) + bias) ⊙ gelu'(pre), pre read. a is (M, K), b
 * (K, N) or with `transB` (N, K); out and pre are (…, N) with M rows. The same bits as matmul
 * followed by the activation kernel (gelu; geluBackward into zeros).
 * @example
 * ```ts
 * gemmGelu(rt, { out: h, pre, a: x, b: cFc.weight, bias: cFc.bias });            // h = gelu(pre), pre = x·W + b
 * gemmGelu(rt, { out: dpre, pre, a: dy, b: cProj.weight, transB: true, grad: true }); // dpre = (dy·Wᵀ) ⊙ gelu'(pre)
 * ```
 */
export function gemmGelu(rt: Runtime, args: { out: Tensor; pre: Tensor; a: Tensor; b: Tensor; bias?: Tensor | null; transB?: boolean; grad?: boolean }): void {
  const op = 'gemmGelu';
  const { out, pre, a, b, bias } = args;
  for (const [name, t] of [['out', out], ['pre', pre], ['a', a], ['b', b]] as const) expectF32(op, name, t);
  if (b.shape.length !== 2) throw new ShapeError(`${op}: b has shape [${b.shape.join(', ')}], expected 2 dimensions`);
  const k = a.shape[a.shape.length - 1]!, m = a.size / Math.max(1, k);
  const [kb, n] = args.transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (k !== kb) throw new ShapeError(`${op}: a has ${k} columns (shape [${a.shape.join(', ')}]) but op(b) has ${kb} rows (b [${b.shape.join(', ')}]${args.transB ? ', transposed' : ''})`);
  const shape = [...a.shape.slice(0, -1), n];
  expectShape(op, 'out', out, shape);
  expectShape(op, 'pre', pre, shape);
  if (bias) {
    expectF32(op, 'bias', bias);
    expectShape(op, 'bias', bias, [n]);
  }
  const flags = (args.transB ? GEMM_TRANS_B : 0) | (args.grad ? GEMM_GELU_GRAD : 0);
  rt.kernels.gemm_gelu_f32(out.ptr, pre.ptr, a.ptr, b.ptr, bias ? bias.ptr : 0, m, n, k, k, b.shape[1]!, n, flags, rt.gemmWork, 0, m, 0, n);
}
