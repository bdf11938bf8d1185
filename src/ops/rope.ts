// Rotary position embeddings (RoPE), GPT-NeoX / Llama "rotate half" convention, and their
// backward (the inverse rotation). The input is a (B, T, NH·hs) tensor or a column range of a
// fused projection (Q or K inside qkv); the output is contiguous. The cos/sin table is computed
// here in f64 (angle p·θ_i included) and rounded once to f32, cached per (base, rotary dims).
import { DTypeError, ShapeError, ValueError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { exact, type Tensor } from '../tensor.js';
import { ropeTable } from '../ref/rope.js';
import { columns, type ColumnRange, type Columns } from './swiglu.js';
import { expectF32, expectShape } from './check.js';

/** Largest position: the f64 angle p·θ stays within p·2^-51 ≤ 2^-27 rad of exact, below f32 rounding of cos and sin. */
export const ROPE_MAX_POSITION = 2 ** 24 - 1;

/** Options of `rope`. */
export interface RopeOptions {
  /** Position of the first row of every sequence (KV-cache decoding); row t is at pos0 + t. Default 0. */
  pos0?: number;
  /** i32 (B, T): each row's position (left-padded batches); replaces pos0 + t when given. */
  positions?: Tensor | null;
  /** θ_i = base^(−2i/rotaryDim). Default 10000. */
  base?: number;
  /** Rotated dims at the start of each head (even, 2 … hs; GPT-NeoX's rotary_pct·hs). Default hs. */
  rotaryDim?: number;
}

/** What the backward needs (returned by `ropeForward`): the input's layout, sizes, and the positions and table the forward used. */
export interface RopeState {
  x: Columns;
  B: number;
  T: number;
  nHead: number;
  hs: number;
  rd: number;
  /** i32 (B, T) */
  positions: Tensor;
  /** (pmax − p0 + 1, rd): row p − p0 holds [cos | sin] of position p */
  table: Tensor;
  p0: number;
}

// Tables of positions 0 … cap−1 per (base, rd), grown by doubling up to CACHE_ROWS; beyond, the rows needed are computed per call.
const CACHE_ROWS = 1 << 15;
const cache = new Map<string, Float32Array>();

/** Rows [p0, p1] of the table for (base, rd), from the cache where it reaches. */
function tableRows(p0: number, p1: number, rd: number, base: number): Float32Array {
  if (p1 >= CACHE_ROWS) return ropeTable(p0, p1 - p0 + 1, rd, base);
  const key = `${base}/${rd}`;
  let t = cache.get(key);
  if (!t || t.length / rd <= p1) {
    let cap = Math.max(64, t ? 2 * (t.length / rd) : 0);
    while (cap <= p1) cap *= 2;
    t = ropeTable(0, Math.min(cap, CACHE_ROWS), rd, base);
    cache.set(key, t);
  }
  return t.subarray(p0 * rd, (p1 + 1) * rd);
}

/**
 * Rotates the first rotaryDim elements of each of nHead heads of x (B, T, NH·hs) — a tensor or
 * a column range `{ t, col, width }` of one — by position: element i pairs with i + rd/2 and
 * turns by p·θ_i, θ_i = base^(−2i/rd) (x1' = x1·cos − x2·sin, x2' = x2·cos + x1·sin). Returns
 * the contiguous (B, T, NH·hs) result and what `ropeBackward` needs.
 * @example
 * ```ts
 * const { out: q } = ropeForward(rt, { t: qkv, col: 0, width: C }, nHead, { pos0: 0 }); // qkv (B, T, 3C) → q (B, T, C)
 * ```
 */
export function ropeForward(rt: Runtime, x: Tensor | ColumnRange, nHead: number, opts: RopeOptions = {}): { out: Tensor; state: RopeState } {
  const op = 'rope';
  const xc = columns(op, 'x', x);
  if (xc.t.shape.length !== 3) throw new ShapeError(`${op}: x is ${xc.t.describe()}, expected (B, T, W)`);
  const [B, T] = xc.t.shape as [number, number];
  const C = xc.width;
  if (!Number.isInteger(nHead) || nHead < 1 || C % nHead !== 0) throw new ShapeError(`${op}: width ${C} is not divisible by nHead = ${nHead}`);
  const hs = C / nHead;
  if (hs % 2 !== 0) throw new ShapeError(`${op}: head size ${hs} (width ${C} / nHead ${nHead}) is odd; rotary embeddings pair element i with i + hs/2 and need an even head size`);
  const rd = opts.rotaryDim ?? hs;
  if (!Number.isInteger(rd) || rd < 2 || rd > hs || rd % 2 !== 0) throw new ValueError(`${op}: rotaryDim is ${rd}, expected an even integer from 2 to the head size ${hs}`);
  const base = opts.base ?? 10000;
  if (!Number.isFinite(base) || !(base > 0)) throw new ValueError(`${op}: base is ${base}, expected a finite number > 0`);
  const pos0 = opts.pos0 ?? 0;
  let positions: Tensor, p0: number, p1: number;
  if (opts.positions) {
    positions = opts.positions;
    if (positions.dtype !== 'i32') throw new DTypeError(`${op}: positions is ${positions.describe()}, expected dtype i32`);
    expectShape(op, 'positions', positions, [B, T]);
    const ids = positions.i32();
    p0 = Infinity; p1 = -Infinity;
    for (let i = 0; i < ids.length; i++) {
      const p = ids[i]!;
      if (p < 0 || p > ROPE_MAX_POSITION) throw new ValueError(`${op}: positions[${Math.floor(i / T)}, ${i % T}] is ${p}, expected 0 … ${ROPE_MAX_POSITION}`);
      p0 = Math.min(p0, p); p1 = Math.max(p1, p);
    }
    if (ids.length === 0) p0 = p1 = 0;
  } else {
    if (!Number.isInteger(pos0) || pos0 < 0 || pos0 + T - 1 > ROPE_MAX_POSITION) throw new ValueError(`${op}: pos0 is ${pos0}, expected an integer from 0 with pos0 + T − 1 ≤ ${ROPE_MAX_POSITION}`);
    positions = rt.empty([B, T], { arena: 'step', dtype: 'i32' });
    const ids = positions.i32();
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) ids[b * T + t] = pos0 + t;
    p0 = pos0; p1 = pos0 + Math.max(T, 1) - 1;
  }
  const table = exact(rt.tensor(tableRows(p0, p1, rd, base), [p1 - p0 + 1, rd], { arena: 'step' }));
  const out = rt.empty([B, T, C], { arena: 'step' });
  rt.kernels.rope_forward(out.ptr, xc.ptr, table.ptr, positions.ptr, p0, B * T, nHead, hs, rd, xc.ld);
  return { out, state: { x: xc, B, T, nHead, hs, rd, positions, table, p0 } };
}

/**
 * Adds the gradient of `ropeForward` into dx, a tensor shaped like x's own (the gradient lands in
 * the same columns), from dout (B, T, NH·hs): the inverse rotation, angle −p·θ_i.
 * @example
 * ```ts
 * ropeBackward(rt, gradOf(rt, qkv), q.grad, state);
 * ```
 */
export function ropeBackward(rt: Runtime, dx: Tensor, dout: Tensor, state: RopeState): void {
  const op = 'ropeBackward';
  const { x, B, T, nHead, hs, rd, positions, table, p0 } = state;
  expectF32(op, 'dx', dx);
  expectF32(op, 'dout', dout);
  expectShape(op, 'dx', dx, x.t.shape);
  expectShape(op, 'dout', dout, [B, T, nHead * hs]);
  rt.kernels.rope_backward(dx.ptr + 4 * x.col, dout.ptr, table.ptr, positions.ptr, p0, B * T, nHead, hs, rd, x.ld);
}
