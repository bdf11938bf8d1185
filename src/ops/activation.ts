// GELU (the tanh approximation of GPT-2 and the original BERT, and the exact erf form of
// transformers' "gelu"), ReLU and tanh (BERT's pooler), forward and backward.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32, expectShape, outputLike } from './check.js';

/** out = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), elementwise. */
export function gelu(rt: Runtime, x: Tensor, opts: { out?: Tensor } = {}): Tensor {
  const out = checkForward(rt, 'gelu', x, opts.out);
  rt.kernels.gelu_forward(out.ptr, x.ptr, x.size);
  return out;
}

/** dx += gelu'(x) · dout. */
export function geluBackward(rt: Runtime, dx: Tensor, dout: Tensor, x: Tensor): void {
  checkBackward('geluBackward', dx, dout, x, 'x');
  rt.kernels.gelu_backward(dx.ptr, dout.ptr, x.ptr, x.size);
}

/**
 * out = x·Φ(x) = 0.5·x·(1 + erf(x/√2)), elementwise: the exact-CDF GELU (transformers' "gelu").
 * @example
 * ```ts
 * geluErf(rt, rt.tensor([-1, 0, 1])).toArray(); // [-0.15865526, 0, 0.8413447]
 * ```
 */
export function geluErf(rt: Runtime, x: Tensor, opts: { out?: Tensor } = {}): Tensor {
  const out = checkForward(rt, 'geluErf', x, opts.out);
  rt.kernels.gelu_erf_forward(out.ptr, x.ptr, x.size);
  return out;
}

/** dx += (Φ(x) + x·φ(x)) · dout. */
export function geluErfBackward(rt: Runtime, dx: Tensor, dout: Tensor, x: Tensor): void {
  checkBackward('geluErfBackward', dx, dout, x, 'x');
  rt.kernels.gelu_erf_backward(dx.ptr, dout.ptr, x.ptr, x.size);
}

/** out = max(x, 0), elementwise. */
export function relu(rt: Runtime, x: Tensor, opts: { out?: Tensor } = {}): Tensor {
  const out = checkForward(rt, 'relu', x, opts.out);
  rt.kernels.relu_forward(out.ptr, x.ptr, x.size);
  return out;
}

/** dx += (out > 0) · dout, given relu's output `out`. */
export function reluBackward(rt: Runtime, dx: Tensor, dout: Tensor, out: Tensor): void {
  checkBackward('reluBackward', dx, dout, out, 'out');
  rt.kernels.relu_backward(dx.ptr, dout.ptr, out.ptr, out.size);
}

/**
 * out = tanh(x), elementwise; exactly ±1 for large |x|, x itself for tiny |x|.
 * @example
 * ```ts
 * tanh(rt, rt.tensor([-30, 0, 0.5])).toArray(); // [-1, 0, 0.46211716]
 * ```
 */
export function tanh(rt: Runtime, x: Tensor, opts: { out?: Tensor } = {}): Tensor {
  const out = checkForward(rt, 'tanh', x, opts.out);
  rt.kernels.tanh_forward(out.ptr, x.ptr, x.size);
  return out;
}

/**
 * dx += (1 − out²) · dout, given tanh's output `out`.
 * @example
 * ```ts
 * const y = tanh(rt, x);
 * tanhBackward(rt, dx, dy, y);
 * ```
 */
export function tanhBackward(rt: Runtime, dx: Tensor, dout: Tensor, out: Tensor): void {
  checkBackward('tanhBackward', dx, dout, out, 'out');
  rt.kernels.tanh_backward(dx.ptr, dout.ptr, out.ptr, out.size);
}

function checkForward(rt: Runtime, op: string, x: Tensor, out: Tensor | undefined): Tensor {
  expectF32(op, 'x', x);
  return outputLike(rt, op, out, x.shape);
}

function checkBackward(op: string, dx: Tensor, dout: Tensor, saved: Tensor, savedName: string): void {
  expectF32(op, 'dx', dx);
  expectF32(op, 'dout', dout);
  expectF32(op, savedName, saved);
  expectShape(op, 'dout', dout, saved.shape);
  expectShape(op, 'dx', dx, saved.shape);
}
