// GELU (tanh approximation, as GPT-2 and BERT) and ReLU, forward and backward.
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32, expectShape, outputLike } from './check.js';

/** out = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), elementwise. */
export function gelu(rt: Runtime, x: Tensor, opts: { out?: Tensor } = {}): Tensor {
  expectF32('gelu', 'x', x);
  const out = outputLike(rt, 'gelu', opts.out, x.shape);
  rt.kernels.gelu_forward(out.ptr, x.ptr, x.size);
  return out;
}

/** dx += gelu'(x) · dout. */
export function geluBackward(rt: Runtime, dx: Tensor, dout: Tensor, x: Tensor): void {
  checkBackward('geluBackward', dx, dout, x, 'x');
  rt.kernels.gelu_backward(dx.ptr, dout.ptr, x.ptr, x.size);
}

/** out = max(x, 0), elementwise. */
export function relu(rt: Runtime, x: Tensor, opts: { out?: Tensor } = {}): Tensor {
  expectF32('relu', 'x', x);
  const out = outputLike(rt, 'relu', opts.out, x.shape);
  rt.kernels.relu_forward(out.ptr, x.ptr, x.size);
  return out;
}

/** dx += (out > 0) · dout, given relu's output `out`. */
export function reluBackward(rt: Runtime, dx: Tensor, dout: Tensor, out: Tensor): void {
  checkBackward('reluBackward', dx, dout, out, 'out');
  rt.kernels.relu_backward(dx.ptr, dout.ptr, out.ptr, out.size);
}

function checkBackward(op: string, dx: Tensor, dout: Tensor, saved: Tensor, savedName: string): void {
  expectF32(op, 'dx', dx);
  expectF32(op, 'dout', dout);
  expectF32(op, savedName, saved);
  expectShape(op, 'dout', dout, saved.shape);
  expectShape(op, 'dx', dx, saved.shape);
}
