// Joining sequences and reading one position, differentiable: `concatSeq` stacks (B, Ti, C)
// tensors along the sequence dimension (a (1, Ti, C) part is shared by all B sequences, as
// ViT's [CLS] token is), `selectSeq` takes position t of each sequence (ViT's classifier reads
// position 0). concatSeq copies runs of rows (`copyBlock`) and adds the gradient runs back
// (`addBlock`; a broadcast part's gradient sums over B); selectSeq is a `gatherRows`.
import { ShapeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32 } from '../ops/check.js';
import { addBlock, copyBlock } from '../ops/elementwise.js';
import { gradOf } from './grad.js';
import { gatherRows } from './gather.js';

/**
 * out (B, ΣTi, C) = [parts[0] | parts[1] | …] along dimension 1. Each part is (B, Ti, C), or
 * (1, Ti, C) repeated for every sequence (its gradient is then the sum over the B sequences).
 * @throws ShapeError naming the shapes when a part is not 3-D, widths C differ, or a batch
 *   size is neither B nor 1.
 * @example
 * ```ts
 * const x = concatSeq(rt, [cls, patches]);   // cls (1, 1, C), patches (B, N, C) → (B, N + 1, C)
 * ```
 */
export function concatSeq(rt: Runtime, parts: readonly Tensor[]): Tensor {
  const op = 'concatSeq';
  if (parts.length === 0) throw new ShapeError(`${op}: no tensors to join`);
  const shapes = () => parts.map((p) => `[${p.shape.join(', ')}]`).join(', ');
  let B = 1;
  for (const [i, p] of parts.entries()) {
    expectF32(op, `parts[${i}]`, p);
    if (p.shape.length !== 3) throw new ShapeError(`${op}: parts[${i}] has shape [${p.shape.join(', ')}], expected (B, T, C); shapes ${shapes()}`);
    if (p.shape[0] !== 1) B = p.shape[0]!;
  }
  const C = parts[0]!.shape[2]!;
  for (const [i, p] of parts.entries()) {
    if (p.shape[2] !== C) throw new ShapeError(`${op}: parts[${i}] has width ${p.shape[2]}, parts[0] has ${C}; shapes ${shapes()}`);
    if (p.shape[0] !== B && p.shape[0] !== 1) {
      throw new ShapeError(`${op}: parts[${i}] holds ${p.shape[0]} sequences, expected ${B} or 1 (broadcast); shapes ${shapes()}`);
    }
  }
  const T = parts.reduce((t, p) => t + p.shape[1]!, 0);
  const out = rt.empty([B, T, C], { arena: 'step' });
  // out[b, t0 : t0 + Ti, :] = part[b or 0, :, :], one contiguous run of Ti·C floats per (b, part)
  eachRun(parts, B, T, C, (p, src, dst, n) => copyBlock(rt, out, { at: dst, ld: n }, p, { at: src, ld: n }, 1, n));
  if (rt.tape.needsGrad(...parts)) {
    rt.tape.record(op, out, () => {
      const dout = out.grad;
      if (!dout) return;
      // dpart[b or 0] += dout[b, t0 : t0 + Ti, :]  (a broadcast part adds all B runs into one)
      eachRun(parts, B, T, C, (p, src, dst, n) => {
        if (p.requiresGrad) addBlock(rt, gradOf(rt, p), { at: src, ld: n }, dout, { at: dst, ld: n }, 1, n);
      });
    });
  }
  return out;
}

/**
 * out (B, C) = x[:, t, :]: the vector at position t of every sequence (ViT's [CLS]). Its
 * backward adds dout into row t of each sequence of dx.
 * @throws ShapeError naming the shape and position when x is not 3-D or t is outside [0, T).
 * @example
 * ```ts
 * const cls = selectSeq(rt, h, 0);   // h (B, N + 1, C) → (B, C): the [CLS] position
 * ```
 */
export function selectSeq(rt: Runtime, x: Tensor, t: number): Tensor {
  const op = 'selectSeq';
  expectF32(op, 'x', x);
  if (x.shape.length !== 3) throw new ShapeError(`${op}: x has shape [${x.shape.join(', ')}], expected (B, T, C)`);
  const [B, T] = x.shape as [number, number, number];
  if (!Number.isInteger(t) || t < 0 || t >= T) throw new ShapeError(`${op}: position ${t} is outside 0 … ${T - 1} of x [${x.shape.join(', ')}]`);
  // out[b] = x[b, t, :] = row b·T + t of x seen as (B·T, C); the backward adds dout back there
  return gatherRows(rt, x, Array.from({ length: B }, (_, b) => b * T + t));
}

/**
 * Calls `run(part, srcOffset, dstOffset, n)` for each sequence b and part: the part's rows for b
 * (offset 0 when broadcast) and where they sit in the joined (B, T, C) tensor, in floats.
 */
function eachRun(parts: readonly Tensor[], B: number, T: number, C: number,
  run: (p: Tensor, src: number, dst: number, n: number) => void): void {
  for (let b = 0; b < B; b++) {
    let t0 = 0;
    for (const p of parts) {
      const Ti = p.shape[1]!;
      run(p, p.shape[0] === 1 ? 0 : b * Ti * C, (b * T + t0) * C, Ti * C);
      t0 += Ti;
    }
  }
}
