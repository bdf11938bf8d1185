// Argument checks shared by the ops: each throws a typed error that names the op, the
// argument and the numbers, so kernels can trust what they are given.
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';

/** Throws unless `t` is an f32 tensor. */
export function expectF32(op: string, name: string, t: Tensor): void {
  if (t.dtype !== 'f32') throw new DTypeError(`${op}: ${name} is ${t.describe()}, expected dtype f32`);
}

/** Throws unless `t` has exactly `shape`. */
export function expectShape(op: string, name: string, t: Tensor, shape: readonly number[]): void {
  let same = t.shape.length === shape.length;
  for (let i = 0; same && i < shape.length; i++) same = t.shape[i] === shape[i];
  if (!same) {
    throw new ShapeError(`${op}: ${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
}

/** Throws unless `t` has `size` elements. */
export function expectSize(op: string, name: string, t: Tensor, size: number, why: string): void {
  if (t.size !== size) throw new ShapeError(`${op}: ${name} has ${t.size} elements (shape [${t.shape.join(', ')}]), expected ${size} (${why})`);
}

/** Throws unless `x` is a finite number. */
export function expectFinite(op: string, name: string, x: number): void {
  if (!Number.isFinite(x)) throw new ValueError(`${op}: ${name} is ${x}, expected a finite number`);
}

/** The last dimension and the product of the others: a tensor seen as (rows, cols). */
export function rowsCols(t: Tensor): [rows: number, cols: number] {
  const cols = t.shape[t.shape.length - 1]!;
  return [t.size / cols, cols];
}

/** `out` if given (checked to be f32 of `shape`), else a new f32 tensor of `shape` in the step arena. */
export function outputLike(rt: Runtime, op: string, out: Tensor | undefined, shape: readonly number[]): Tensor {
  if (!out) return rt.empty(shape, { arena: 'step' });
  expectF32(op, 'out', out);
  expectShape(op, 'out', out, shape);
  return out;
}

/** What a product on a packed or quantized weight applies in its store: nothing, or GELU (the tanh approximation, gelu_forward's arithmetic). */
export type StoreActivation = 'none' | 'gelu';

/** The kernels' code for `activation` (0 none, 1 GELU); throws ValueError for anything else. */
export function storeActivation(op: string, activation: StoreActivation): 0 | 1 {
  if (activation === 'none') return 0;
  if (activation === 'gelu') return 1;
  throw new ValueError(`${op}: activation is ${JSON.stringify(activation)}, expected 'none' or 'gelu'`);
}
