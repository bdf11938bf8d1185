// The SwiGLU gate, out = silu(gate) ⊙ up (silu(a) = a·sigmoid(a)), or with `act: 'gelu'` the
// GeGLU gate, out = gelu(gate) ⊙ up (tanh GELU), and their backwards. gate and up
// are whole tensors or column ranges of one: the two halves of a single (…, 2F) GEMM output when
// the gate and up projections' weights lie side by side. Also the column-range checks that the
// rotary embedding op shares.
import { ShapeError, ValueError, preview } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectF32, expectShape } from './check.js';

/** Columns [col, col + width) of every row of `t` (…, W): a part of a fused projection. `ColumnSlice` of src/fn/attention.ts fits. */
export interface ColumnRange {
  t: Tensor;
  col: number;
  width: number;
}

/** A checked column range: `rows` rows `ld` floats apart starting at byte address `ptr`; `lead` is t's shape without its last dimension. */
export interface Columns extends ColumnRange {
  rows: number;
  ld: number;
  ptr: number;
  lead: number[];
}

/**
 * Checks that `s` (a whole f32 tensor, or a column range of one) lies inside its tensor.
 * @example
 * ```ts
 * const g = columns('swiglu', 'gate', { t: gateUp, col: 0, width: F }); // g.ld = 2F
 * ```
 */
export function columns(op: string, name: string, s: Tensor | ColumnRange): Columns {
  const r: ColumnRange = 't' in s ? s : { t: s, col: 0, width: s.shape[s.shape.length - 1] ?? 0 };
  expectF32(op, name, r.t);
  const sh = r.t.shape, W = sh[sh.length - 1] ?? 0;
  if (sh.length < 1 || !Number.isInteger(r.col) || !Number.isInteger(r.width) || r.col < 0 || r.width < 1 || r.col + r.width > W) {
    throw new ShapeError(`${op}: ${name} is columns ${r.col}…${r.col + r.width - 1} of shape [${sh.join(', ')}], expected a range inside its last dimension`);
  }
  return { ...r, rows: r.t.size / W, ld: W, ptr: r.t.ptr + 4 * r.col, lead: sh.slice(0, -1) };
}

/** Checks gate and up against each other: same rows, widths and row stride. */
function gateUp(op: string, gate: Tensor | ColumnRange, up: Tensor | ColumnRange): [Columns, Columns] {
  const g = columns(op, 'gate', gate), u = columns(op, 'up', up);
  if (g.lead.join() !== u.lead.join() || g.width !== u.width) {
    throw new ShapeError(`${op}: gate is [${[...g.lead, g.width].join(', ')}] but up is [${[...u.lead, u.width].join(', ')}]; they must match`);
  }
  if (g.ld !== u.ld) throw new ShapeError(`${op}: gate rows are ${g.ld} floats apart but up rows ${u.ld}; they must be equal (two tensors of one shape, or two ranges of one tensor)`);
  return [g, u];
}

/**
 * out (…, F) = silu(gate) ⊙ up, silu(a) = a·sigmoid(a), elementwise; gate and up are (…, F)
 * tensors or column ranges of one (…, W) tensor.
 * @example
 * ```ts
 * const h = swiglu(rt, { t: gu, col: 0, width: F }, { t: gu, col: F, width: F }); // gu (B, T, 2F) → h (B, T, F)
 * ```
 */
export function swiglu(rt: Runtime, gate: Tensor | ColumnRange, up: Tensor | ColumnRange, opts: { out?: Tensor; act?: GateActivation } = {}): Tensor {
  const op = 'swiglu';
  const act = gateAct(op, opts.act);
  const [g, u] = gateUp(op, gate, up);
  const shape = [...g.lead, g.width];
  let out = opts.out;
  if (out) {
    expectF32(op, 'out', out);
    expectShape(op, 'out', out, shape);
  } else {
    out = rt.empty(shape, { arena: 'step' });
  }
  rt.kernels[act === 'gelu' ? 'geglu_forward' : 'swiglu_forward'](out.ptr, g.ptr, u.ptr, g.rows, g.width, g.ld);
  return out;
}

/**
 * Adds the gradients of `swiglu` into dgate and dup, tensors shaped like gate's and up's own
 * tensors (the gradient lands in the same columns): dgate += dout·up·silu'(gate),
 * dup += dout·silu(gate). Both may be the same tensor (gate and up ranges of one).
 * @example
 * ```ts
 * swigluBackward(rt, gradOf(rt, gu), gradOf(rt, gu), h.grad, { t: gu, col: 0, width: F }, { t: gu, col: F, width: F });
 * ```
 */
export function swigluBackward(rt: Runtime, dgate: Tensor, dup: Tensor, dout: Tensor,
  gate: Tensor | ColumnRange, up: Tensor | ColumnRange, act?: GateActivation): void {
  const op = 'swigluBackward';
  gateAct(op, act);
  const [g, u] = gateUp(op, gate, up);
  expectF32(op, 'dout', dout);
  expectShape(op, 'dout', dout, [...g.lead, g.width]);
  expectF32(op, 'dgate', dgate);
  expectF32(op, 'dup', dup);
  expectShape(op, 'dgate', dgate, g.t.shape);
  expectShape(op, 'dup', dup, u.t.shape);
  rt.kernels[act === 'gelu' ? 'geglu_backward' : 'swiglu_backward'](dgate.ptr + 4 * g.col, dup.ptr + 4 * u.col, dout.ptr, g.ptr, u.ptr, g.rows, g.width, g.ld);
}

/** The gate's activation: 'silu' (SwiGLU, default) or 'gelu' (GeGLU, the tanh GELU: T5 v1.1's gated-gelu). */
export type GateActivation = 'silu' | 'gelu';

function gateAct(op: string, act: GateActivation | undefined): GateActivation {
  if (act === undefined || act === 'silu' || act === 'gelu') return act ?? 'silu';
  throw new ValueError(`${op}: act is ${preview(act)}, expected 'silu' or 'gelu'`);
}
