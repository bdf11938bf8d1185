// How each kernel call is split across the worker pool, and the kernels object that does it.
// Every split keeps results bit-identical to one thread: GEMM is cut on its tile grid
// (gemm_block_f32), row-wise kernels by whole rows (by whole causal blocks or mask groups where
// the rows depend on their index), flat elementwise kernels at multiples of 64 elements (so the
// vector loops see the same lanes). Sums over rows (colsum, embedding_backward's scatter, the
// parameter gradients of layernorm_backward) are split by bands of columns, each column summed
// over the rows in order as in one call. Products on quantized / half-precision weights are split
// into bands of whole slivers (every output computed alike whatever the band; int8's rows of X
// quantized once, on the caller, before the bands), their pack kernels into sliver ranges; fused attention into ranges of its independent units (forward: blocks of
// query rows of one head; backward: whole heads), decoding several sequences into whole sequences, one
// sequence's decoding into ranges of its key blocks (then their merge on the caller); f32 ↔ bf16 conversions as flat kernels. Not split: sumsq (one f64 sum) and the
// index-hashed dropout.
// Calls too small to pay for waking the workers run on the caller; the limits are measured.
import type { Kernels, KernelName, ModuleExports } from './abi.js';
import type { WorkerPool } from './pool.js';
import { ATTN_BQ, ATTN_ROWS_BK } from '../ref/attention.js';

/**
 * Smallest calls worth splitting, and the least work per task: GEMM in flops (2·M·N·K), row-wise
 * and flat kernels in bytes read + written. Below them the caller runs the call alone. Measured
 * with bench/thresholds.ts (relaxed, 2 threads vs 1, every call split; Zen 5 VM, load 0.4): GEMM
 * 48³ (0.22 MFLOP) 0.88×, 64³ (0.52 MFLOP) 1.26×, 96³ 1.61×, 128³ 1.88×; GELU over 131 KB 1.31×,
 * 262 KB 1.43×; layernorm (less work per byte) 262 KB 0.98×, 524 KB 1.26×, 1 MB 1.57×. Hence GEMM
 * from 0.4 MFLOP in tasks of at least 0.2, row-wise from 256 KiB in tasks of at least 64 KiB.
 * Kernels with almost no work per byte pay later (load 0.5): fill 524 KB 0.90×, 1.6 MB 1.37×; add
 * 786 KB 1.14×, 1.6 MB 1.84×: from 1 MiB (`memoryMinBytes`). Sums over rows split into bands of
 * columns pay hardly ever: colsum 0.70–0.93× from 262 KB to 4.2 MB, 1.15× at 16.8 MB; layernorm's
 * backward (rows, then its parameter sums by bands) 1.05–1.25× from 1.3 to 21 MB, 0.73× at 84 MB:
 * from 16 MiB (`columnMinBytes`). Products on quantized weights (one decode row) stream their weight
 * in bands of at least 256 KiB (`quantTaskBytes`): 2 threads, relaxed, G weights/s, tasks of 64 K /
 * 128 K / 256 K / 512 K / no split — int8 768×768 21.4 / 25.9 / 31.6 / 21.3 / 21.4, bf16 768×768
 * 15.5 / 15.7 / 17.8 / 19.6 / 11.7, int8 768×2304 31.2 / 31.5 / 33.8 / 31.9 / 23.8 (load 1.2).
 * `setSplitLimits` changes them (benches).
 */
export const SPLIT_LIMITS = {
  gemmMinFlops: 4e5, gemmTaskFlops: 2e5, rowwiseMinBytes: 256 << 10, rowwiseTaskBytes: 64 << 10,
  memoryMinBytes: 1 << 20, columnMinBytes: 16 << 20, quantTaskBytes: 256 << 10,
};

/** @internal Overrides SPLIT_LIMITS (bench/thresholds.ts measures below them); returns the old values. */
export function setSplitLimits(limits: Partial<typeof SPLIT_LIMITS>): typeof SPLIT_LIMITS {
  const old = { ...SPLIT_LIMITS };
  Object.assign(SPLIT_LIMITS, limits);
  return old;
}
/** Tasks per thread: more than one, so a thread whose core is busy elsewhere takes fewer. */
const TASKS_PER_THREAD = 4;
/** Tasks per thread for GEMM: every row block packs its own copy of B and every column block its own copy of A, so fewer, larger blocks than for row-wise kernels. */
const GEMM_TASKS_PER_THREAD = 2;
/** Column bands per thread of a small-M product on a packed weight: each band is one contiguous
 *  stream, and several per thread let a thread that started late or reads slower take fewer.
 *  Measured on GPT-2-small decode, 2 threads (best of 3, ms/token): 1 band 19.7, 2 16.7, 4 15.7,
 *  8 15.3, 16 16.9. */
const BANDS_PER_THREAD = 4;
/** Flat kernels split at multiples of this many elements (a multiple of every vector loop's step). */
const GRAIN = 64;

/** One stage of a split call: the export to run and one full argument list per task. */
export interface Plan {
  fn: KernelName;
  tasks: number[][];
}

const ceilTo = (x: number, grid: number) => Math.ceil(x / grid) * grid;

/** `units` units of work, `grain` at a time, into at most `want` contiguous ranges. */
function ranges(units: number, grain: number, want: number): [number, number][] {
  const step = ceilTo(Math.ceil(units / Math.max(1, want)), grain);
  const out: [number, number][] = [];
  for (let u = 0; u < units; u += step) out.push([u, Math.min(units, u + step)]);
  return out;
}

/** How many tasks `work` units of cost deserve on `threads` threads, given the least per task. */
const taskCount = (threads: number, work: number, perTask: number) => Math.max(1, Math.min(threads * TASKS_PER_THREAD, Math.floor(work / perTask)));

/** A row-wise or flat kernel: which argument counts the units, their grain, bytes per unit, and the arguments of units [u0, u1). */
interface Sliced {
  /** Which smallest call is worth splitting (SPLIT_LIMITS): compute-heavy rows, memory-bound, sums by columns. */
  min?: 'memoryMinBytes' | 'columnMinBytes';
  units(a: number[]): number;
  grain(a: number[]): number;
  bytes(a: number[]): number;
  slice(a: number[], u0: number, u1: number): number[];
}

/** Pointer arguments `ptrs` advance by `width(a)` floats per unit; argument `count` holds the units. */
function rowsOf(count: number, ptrs: number[], width: (a: number[]) => number, perRowPtrs: number[] = [], grain: (a: number[]) => number = () => 1): Sliced {
  return {
    units: (a) => a[count]!,
    grain,
    bytes: (a) => 4 * (ptrs.length * width(a) + perRowPtrs.length),
    slice(a, u0, u1) {
      const s = a.slice();
      for (const p of ptrs) if (a[p]) s[p] = a[p]! + 4 * u0 * width(a);
      for (const p of perRowPtrs) if (a[p]) s[p] = a[p]! + 4 * u0;
      s[count] = u1 - u0;
      return s;
    },
  };
}
const flat = (count: number, ptrs: number[]) => rowsOf(count, ptrs, () => 1, [], () => GRAIN);
/** A flat kernel with almost no work per byte (SPLIT_LIMITS.memoryMinBytes). */
const memoryBound = (count: number, ptrs: number[]): Sliced => ({ ...flat(count, ptrs), min: 'memoryMinBytes' });

/** Bands of columns: argument `count` holds the columns, pointers `ptrs` start one column later per column. */
function columnsOf(count: number, ptrs: number[], bytesPerColumn: (a: number[]) => number, grain: number): Sliced {
  return {
    min: 'columnMinBytes',
    units: (a) => a[count]!,
    grain: () => grain,
    bytes: bytesPerColumn,
    slice(a, u0, u1) {
      const s = a.slice();
      for (const p of ptrs) s[p] = a[p]! + 4 * u0;
      s[count] = u1 - u0;
      return s;
    },
  };
}

const SLICED: Partial<Record<KernelName, Sliced>> = {
  // rows: softmax's causal mask depends on r % block, so causal calls split at whole blocks
  softmax_forward: rowsOf(2, [0, 1], (a) => a[3]!, [], (a) => (a[6] ? a[4]! : 1)),
  softmax_backward: rowsOf(3, [0, 1, 2], (a) => a[4]!),
  layernorm_forward: rowsOf(6, [0, 3], (a) => a[7]!, [1, 2]),
  embedding_forward: rowsOf(3, [0], (a) => a[4]!, [1]),
  gather_quant: rowsOf(4, [0], (a) => a[5]!, [1]),
  crossentropy_forward: rowsOf(4, [2], (a) => a[5]!, [0, 1, 3]),
  crossentropy_backward: rowsOf(4, [0, 1], (a) => a[5]!, [2, 3]),
  attention_mask_f32: {     // row r reads mask row ⌊r / group⌋: split at whole groups
    units: (a) => a[2]!,
    grain: (a) => a[4]!,
    bytes: (a) => 8 * a[3]!,
    slice(a, u0, u1) {
      const s = a.slice();
      s[0] = a[0]! + 4 * u0 * a[3]!;
      s[1] = a[1]! + 4 * (u0 / a[4]!) * a[5]!;
      s[2] = u1 - u0;
      return s;
    },
  },
  // flat
  gelu_forward: flat(2, [0, 1]),
  gelu_backward: flat(3, [0, 1, 2]),
  relu_forward: memoryBound(2, [0, 1]),
  relu_backward: memoryBound(3, [0, 1, 2]),
  tanh_forward: flat(2, [0, 1]),
  tanh_backward: flat(3, [0, 1, 2]),
  add_f32: memoryBound(3, [0, 1, 2]),
  mul_f32: memoryBound(3, [0, 1, 2]),
  scale_f32: memoryBound(3, [0, 1]),
  axpy_f32: memoryBound(3, [0, 1]),
  fill_f32: memoryBound(2, [0]),
  // sums over rows, by bands of columns (argument `ld` keeps the row stride)
  colsum_f32: columnsOf(3, [0, 1], (a) => 4 * (a[2]! + 1), 16),
  embedding_backward: columnsOf(4, [0, 1], (a) => 8 * a[3]!, 16),
  adamw_f32: flat(4, [0, 1, 2, 3]),
  pack_weight_f32: {        // slivers [s0, s1) of the packed weight: each read and written once
    units: (a) => a[7]! - a[6]!,
    grain: () => 1,
    bytes: (a) => 64 * a[3]!,
    slice(a, u0, u1) {
      const s = a.slice();
      s[6] = a[6]! + u0;
      s[7] = a[6]! + u1;
      return s;
    },
  },
  sgd_f32: memoryBound(3, [0, 1, 2]),
  // quantized weights: sliver ranges [s0, s1), as pack_weight_f32 (each sliver reads 8·K floats, writes 8·K values)
  quant_pack_i8: sliverRange(7, (a) => 40 * a[4]!),
  quant_pack_f16: sliverRange(6, (a) => 48 * a[3]!),
  quant_pack_bf16: sliverRange(6, (a) => 48 * a[3]!),
  // fused attention: ranges of independent units (forward: query blocks of one head; backward: heads),
  // work per unit counted as 4·rows·keys·hs (the bytes of one f32 product of that size)
  // (decoding several sequences: whole sequences a task, so that each reads its keys and values row by row for all
  // its heads; one sequence: keySplit)
  attention_fused_forward: { ...sliverRange(25, (a) => 4 * Math.min(ATTN_BQ, a[7]!) * a[8]! * a[10]!), grain: (a) => (a[7]! < 4 && a[26]! - a[25]! >= 2 * a[9]! ? a[9]! : 1) },
  attention_fused_backward: sliverRange(30, (a) => 4 * a[12]! * a[13]! * a[15]!),
  attention_fused_probs: sliverRange(20, (a) => 4 * Math.min(ATTN_BQ, a[6]!) * a[7]! * a[9]!),
  // rmsnorm: rows; its weight gradient (a sum over rows) by bands of columns, as colsum
  rmsnorm_forward: rowsOf(4, [0, 2], (a) => a[5]!, [1]),
  rmsnorm_backward: rowsOf(5, [0, 1, 2], (a) => a[6]!, [4]),
  rmsnorm_backward_params: columnsOf(5, [0, 1, 2], (a) => 8 * a[4]! + 4, 4),
  // rows whose pointers step by different widths: gate/up rows ld apart, out / dout rows c apart
  swiglu_forward: rowsStrided(3, [[0, (a) => a[4]!], [1, (a) => a[5]!], [2, (a) => a[5]!]], [], (a) => 12 * a[4]!),
  swiglu_backward: rowsStrided(5, [[0, (a) => a[7]!], [1, (a) => a[7]!], [2, (a) => a[6]!], [3, (a) => a[7]!], [4, (a) => a[7]!]], [], (a) => 28 * a[6]!),
  geglu_forward: rowsStrided(3, [[0, (a) => a[4]!], [1, (a) => a[5]!], [2, (a) => a[5]!]], [], (a) => 12 * a[4]!),
  geglu_backward: rowsStrided(5, [[0, (a) => a[7]!], [1, (a) => a[7]!], [2, (a) => a[6]!], [3, (a) => a[7]!], [4, (a) => a[7]!]], [], (a) => 28 * a[6]!),
  // rope: the strided side rows ld apart, the contiguous side nHead·hs, one position per row
  rope_forward: rowsStrided(5, [[0, (a) => a[6]! * a[7]!], [1, (a) => a[9]!]], [3], (a) => 8 * a[6]! * a[7]! + 4),
  rope_backward: rowsStrided(5, [[0, (a) => a[9]!], [1, (a) => a[6]! * a[7]!]], [3], (a) => 12 * a[6]! * a[7]! + 4),
  // f32 ↔ bf16 storage: flat, the f32 side 4 bytes per element, the bf16 side 2 (half a float)
  pack_bf16: { ...rowsStrided(2, [[1, () => 1], [0, () => 0.5]], [], () => 6), grain: () => GRAIN, min: 'memoryMinBytes' },
  unpack_bf16: { ...rowsStrided(2, [[0, () => 1], [1, () => 0.5]], [], () => 6), grain: () => GRAIN, min: 'memoryMinBytes' },
};

/**
 * Whole rows counted by argument `count`, each pointer [arg, width] stepping its own width(a)
 * floats per row (strided views beside contiguous ones), `perRowPtrs` one element per row;
 * `bytes(a)` read and written per row.
 */
function rowsStrided(count: number, ptrs: [number, (a: number[]) => number][], perRowPtrs: number[], bytes: (a: number[]) => number): Sliced {
  return {
    units: (a) => a[count]!,
    grain: () => 1,
    bytes,
    slice(a, u0, u1) {
      const s = a.slice();
      for (const [p, width] of ptrs) s[p] = a[p]! + 4 * u0 * width(a);
      for (const p of perRowPtrs) s[p] = a[p]! + 4 * u0;
      s[count] = u1 - u0;
      return s;
    },
  };
}

/** A kernel over units [u0, u1) (arguments `at`, `at` + 1: a pack kernel's slivers, fused attention's blocks), `bytes` of work per unit. */
function sliverRange(at: number, bytes: (a: number[]) => number): Sliced {
  return {
    units: (a) => a[at + 1]! - a[at]!,
    grain: () => 1,
    bytes,
    slice(a, u0, u1) {
      const s = a.slice();
      s[at] = a[at]! + u0;
      s[at + 1] = a[at]! + u1;
      return s;
    },
  };
}

/** GEMM tile grid and path, read from the module once, and the scratch rows of one-row products. */
interface GemmShape {
  mr: number;
  nr: number;
  /** Up to this many rows a product on a packed weight is split by columns only. */
  smallM: number;
  /** Rows of B per chunk of the one-row A·B (gemv_chunks_f32). */
  kc: number;
  smallPath(m: number, k: number, flags: number): boolean;
  /** Bytes quant_rows_q8 writes for m rows of K values. */
  quantRowsBytes(m: number, k: number): number;
  /** Bytes of attention_rows_split's shared scratch (0: not the decoding path). */
  splitBytes(tq: number, tk: number, nHead: number, hs: number): number;
  /** Scratch for chunk sums and quantized rows: byte address and size (owned by the runtime, used by one call at a time). */
  scratch: number;
  scratchBytes: number;
}

/**
 * One row of A·B (decode): B (K,N) streamed by chunks of whole rows — long contiguous runs — the
 * chunks spread over the threads, then their sums added by bands of columns (gemv_sum_f32). Same
 * bits as one thread, which sums the same chunks in the same order. Null when it does not apply.
 */
function gemvPlan(g: GemmShape, a: number[], threads: number): Plan[] | null {
  const n = a[5]!, k = a[6]!, flags = a[10]!;
  const chunks = Math.ceil(k / g.kc);
  if (a[4] !== 1 || (flags & 2) !== 0 || !g.smallPath(1, k, flags) || chunks < threads || 4 * chunks * n > g.scratchBytes) return null;
  const as = flags & 1 ? a[7]! : 1;
  const sums = ranges(chunks, 1, Math.min(chunks, threads * GEMM_TASKS_PER_THREAD)).map(([q0, q1]) =>
    [g.scratch, a[1]!, a[2]!, n, k, as, a[8]!, n, q0, q1]);
  const bands = ranges(n, GRAIN, n >= 1024 ? threads : 1).map(([j0, j1]) =>
    [a[0]! + 4 * j0, g.scratch + 4 * j0, a[3] ? a[3] + 4 * j0 : 0, j1 - j0, chunks, n, a[11]!, a[12]!]);
  return [{ fn: 'gemv_chunks_f32', tasks: sums }, { fn: 'gemv_sum_f32', tasks: bands }];
}

/**
 * gemm_f32 as blocks of C on the tile grid: columns only on the small-M path; else a grid of R row
 * blocks × S column blocks, R·S ≈ the tasks wanted, chosen to copy the least in packing (each row
 * block packs all of B's columns it meets: R·N·K; each column block all of A's rows: S·M·K).
 */
function gemmBlocks(g: GemmShape, a: number[], threads: number, out: number[][], offsets: [number, number, number] = [0, 0, 0]): void {
  const [c, A, B] = offsets;
  const m = a[4]!, n = a[5]!, k = a[6]!, flags = a[10]!;
  const want = Math.max(1, Math.min(threads * GEMM_TASKS_PER_THREAD, Math.floor(2 * m * n * k / SPLIT_LIMITS.gemmTaskFlops)));
  const base = [a[0]! + c, a[1]! + A, a[2]! + B, ...a.slice(3, 14)];
  if (g.smallPath(m, k, flags)) {   // B streamed from memory: one wide band per thread keeps each stream long
    for (const [j0, j1] of ranges(n, g.nr, Math.min(want, threads))) out.push([...base, 0, m, j0, j1]);
    return;
  }
  const maxR = Math.ceil(m / g.mr), maxS = Math.ceil(n / g.nr);
  let best = { r: 1, s: 1, cost: Infinity };
  for (let r = 1; r <= Math.min(want, maxR); r++) {
    const s = Math.min(maxS, Math.ceil(want / r));
    const cost = r * n + s * m;
    if (cost < best.cost || (cost === best.cost && r * s > best.r * best.s)) best = { r, s, cost };
  }
  for (const [i0, i1] of ranges(m, g.mr, best.r)) for (const [j0, j1] of ranges(n, g.nr, best.s)) out.push([...base, i0, i1, j0, j1]);
}

/** The stages of one call (run one after the other), or null when it is too small to split. */
export function plan(g: GemmShape, name: KernelName, a: number[], threads: number): Plan[] | null {
  if (name === 'layernorm_backward') {
    // dinp by rows (no parameter gradients), then dweight and dbias by bands of columns
    const n = a[8]!, c = a[9]!, bytes = 16 * n * c;
    if (bytes < SPLIT_LIMITS.columnMinBytes) return null;
    const want = taskCount(threads, bytes, SPLIT_LIMITS.rowwiseTaskBytes);
    const rows = ranges(n, 1, want).map(([r0, r1]) => [a[0]! + 4 * r0 * c, 0, 0, a[3]! + 4 * r0 * c, a[4]! + 4 * r0 * c, a[5]!, a[6]! + 4 * r0, a[7]! + 4 * r0, r1 - r0, c]);
    const cols = ranges(c, 4, want).map(([j0, j1]) => [a[1]! + 4 * j0, a[2]! + 4 * j0, a[3]! + 4 * j0, a[4]! + 4 * j0, a[6]!, a[7]!, n, j1 - j0, c]);
    return [{ fn: 'layernorm_backward', tasks: rows }, { fn: 'layernorm_backward_params', tasks: cols }];
  }
  if (name === 'gemm_batched_f32' && a[18]! > 1) {
    // outer groups whose C may overlap (a shared output accumulated over the groups) run one after another
    const [m, n, ldc, batch, sc, oc] = [a[4]!, a[5]!, a[9]!, a[14]!, a[17]!, a[21]!];
    if (Math.abs(oc) < (batch - 1) * Math.abs(sc) + (m - 1) * ldc + n) {
      return Array.from({ length: a[18]! }, (_, o) => {
        const s = a.slice();
        s[0] = a[0]! + 4 * o * oc; s[1] = a[1]! + 4 * o * a[19]!; s[2] = a[2]! + 4 * o * a[20]!;
        s[18] = 1;
        return plan1(g, name, s, threads) ?? { fn: name, tasks: [s] };
      });
    }
  }
  if (name === 'gemm_q8_f32' || name === 'gemm_f16_f32' || name === 'gemm_bf16_f32') {
    const q8 = name === 'gemm_q8_f32', bands = quantBlocks(g, a, threads, q8 ? 1 : 0);
    if (!bands || bands.length < 2) return null;
    const m = a[5]!, k = a[7]!;   // int8's rows and depth (its scales argument shifts them by one)
    if (!q8 || a[16] || g.quantRowsBytes(m, k) > g.scratchBytes) return [{ fn: name, tasks: bands }];
    // int8: the rows of X quantized once on the caller into the scratch, then the bands read them
    // (each would otherwise quantize every row itself: the same arithmetic, made once per band)
    for (const t of bands) t[16] = g.scratch;
    return [{ fn: 'quant_rows_q8', tasks: [[g.scratch, a[1]!, m, k, a[8]!]] }, { fn: name, tasks: bands }];
  }
  if (name === 'attention_fused_forward') {
    const split = keySplit(g, a, threads);
    if (split) return split;
  }
  if (name === 'gemm_f32' && a[4] === 1 && 2 * a[5]! * a[6]! >= SPLIT_LIMITS.gemmMinFlops) {
    const chunked = gemvPlan(g, a, threads);
    if (chunked) return chunked;
  }
  const one = plan1(g, name, a, threads);
  return one ? [one] : null;
}

/**
 * Decoding attention over one sequence (tq < 4, all its heads): its key blocks split across the
 * threads (attention_rows_split stage 0: each block's scores, softmax sums and output sums on the
 * shared scratch), then their merge on the caller (stage 1), instead of its heads: every thread
 * reads whole rows of K and V, contiguous, where a split by heads had each read a strip of every
 * row (slower from memory than one thread). Same bits as one thread. From rowwiseMinBytes of K and
 * V read (GPT-2's width: context 43; at context 48 it was already 1.1× from cache and from memory,
 * 2 threads, Zen 4). Null when it does not apply.
 */
function keySplit(g: GemmShape, a: number[], threads: number): Plan[] | null {
  const [tq, tk, nHead, hs] = a.slice(7, 11) as [number, number, number, number];
  const u0 = a[25]!, u1 = a[26]!, nb = Math.ceil(tk / ATTN_ROWS_BK);
  if (tq >= 4 || u1 - u0 !== nHead || u0 % nHead !== 0 || nb < 2 || 8 * tk * nHead * hs < SPLIT_LIMITS.rowwiseMinBytes) return null;
  const bytes = g.splitBytes(tq, tk, nHead, hs);
  if (bytes === 0 || bytes > g.scratchBytes) return null;
  const b = u0 / nHead, at = (ptr: number, stride: number) => ptr + 4 * b * stride;
  const [y, lse, q, k, v, mask, rel] = a as [number, number, number, number, number, number, number];
  const [ldq, ldk, ldv, ldy, bsq, bsk, bsv, bsy, maskLd, scale, flags, window, globals, work] = a.slice(11, 25) as number[];
  const call = [g.scratch, at(y, bsy!), at(lse, nHead * tq), at(q, bsq!), at(k, bsk!), at(v, bsv!), mask ? at(mask, maskLd!) : 0, rel,
    tq, tk, nHead, hs, ldq!, ldk!, ldv!, ldy!, scale!, flags!, window!, globals!, work!];
  return [
    // one contiguous range of key blocks a thread: the longest streams
    { fn: 'attention_rows_split', tasks: ranges(nb, 1, Math.min(nb, threads)).map(([c0, c1]) => [0, ...call, c0, c1]) },
    { fn: 'attention_rows_split', tasks: [[1, ...call, 0, nb]] },
  ];
}

/**
 * gemm_packed_f32's block C[i0:i1, j0:j1]: up to GEMM_SMALL_M rows, bands of its columns
 * (BANDS_PER_THREAD per thread, each streams its part of the packed weight once); beyond, blocks
 * of its rows, which share the packed weight as it is (nothing of B is copied per block).
 */
function packedBlocks(g: GemmShape, a: number[], threads: number): number[][] | null {
  const m = a[4]!, [i0, i1, j0, j1] = a.slice(13, 17) as [number, number, number, number];
  const rows = m <= g.smallM ? m : Math.max(0, i1 - i0), cols = j1 - j0, flops = 2 * rows * cols * a[6]!;
  if (flops < SPLIT_LIMITS.gemmMinFlops) return null;
  const perThread = m <= g.smallM ? BANDS_PER_THREAD : GEMM_TASKS_PER_THREAD;
  const want = Math.max(1, Math.min(threads * perThread, Math.floor(flops / SPLIT_LIMITS.gemmTaskFlops)));
  const base = a.slice(0, 13);
  if (m <= g.smallM) return ranges(cols, g.nr, want).map(([u0, u1]) => [...base, 0, m, j0 + u0, j0 + u1]);
  return ranges(rows, g.mr, want).map(([u0, u1]) => [...base, i0 + u0, i0 + u1, j0, j1]);
}

/** gemm_gelu_f32 over all of C (its activation is elementwise): gemm_f32's blocks, each with its epilogue. */
function geluBlocks(g: GemmShape, a: number[], threads: number): number[][] | null {
  const [c, pre, A, B, bias, m, n, k, lda, ldb, ldc, flags, work, i0, i1, j0, j1] = a as [number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number];
  if (i0 !== 0 || i1 !== m || j0 !== 0 || j1 !== n || 2 * m * n * k < SPLIT_LIMITS.gemmMinFlops) return null;
  const blocks: number[][] = [];
  gemmBlocks(g, [c, A, B, bias, m, n, k, lda, ldb, ldc, flags & 3, 1, 0, work], threads, blocks);
  return blocks.map((t) => [c, pre, A, B, bias, m, n, k, lda, ldb, ldc, flags, work, ...t.slice(14)]);
}

/**
 * A product on a quantized weight (gemm_q8_f32: `extra` = 1 for its scales argument; gemm_f16_f32,
 * gemm_bf16_f32: 0), block Y[i0:i1, j0:j1]: bands of columns on the sliver grid, BANDS_PER_THREAD
 * per thread, each one contiguous stream of the weight; every task quantizes (int8) or pre-scales
 * (f16) the rows it needs itself, with the same arithmetic, so any split gives the same bits.
 */
function quantBlocks(g: GemmShape, a: number[], threads: number, extra: number): number[][] | null {
  const m = a[4 + extra]!, k = a[6 + extra]!;
  const [i0, i1, j0, j1] = a.slice(10 + extra, 14 + extra) as [number, number, number, number];
  const rows = Math.min(i1, m) - i0, cols = j1 - j0, flops = 2 * rows * cols * k;
  if (rows <= 0 || flops < SPLIT_LIMITS.gemmMinFlops) return null;
  // per task at least quantTaskBytes of weight (int8 1, f16 / bf16 2 bytes each) times the rows it serves
  const bytes = rows * cols * k * (extra ? 1 : 2);
  const want = Math.max(1, Math.min(threads * BANDS_PER_THREAD, Math.floor(flops / SPLIT_LIMITS.gemmTaskFlops), Math.floor(bytes / SPLIT_LIMITS.quantTaskBytes)));
  const base = a.slice(0, 10 + extra), act = a.slice(14 + extra);
  return ranges(cols, g.nr, want).map(([u0, u1]) => [...base, i0, i1, j0 + u0, j0 + u1, ...act]);
}

function plan1(g: GemmShape, name: KernelName, a: number[], threads: number): Plan | null {
  if (name === 'gemm_gelu_f32') {
    const tasks = geluBlocks(g, a, threads);
    return tasks && tasks.length > 1 ? { fn: name, tasks } : null;
  }
  if (name === 'gemm_packed_f32') {
    const tasks = packedBlocks(g, a, threads);
    return tasks && tasks.length > 1 ? { fn: name, tasks } : null;
  }
  if (name === 'gemm_f32') {
    if (2 * a[4]! * a[5]! * a[6]! < SPLIT_LIMITS.gemmMinFlops) return null;
    const tasks: number[][] = [];
    gemmBlocks(g, a, threads, tasks);
    return tasks.length > 1 ? { fn: 'gemm_block_f32', tasks } : null;
  }
  if (name === 'gemm_batched_f32') {
    const batch = a[14]!, outer = a[18]!, flops = 2 * a[4]! * a[5]! * a[6]!, total = batch * outer;
    if (total * flops < SPLIT_LIMITS.gemmMinFlops) return null;
    const [sa, sb, sc, oa, ob, oc] = [a[15]!, a[16]!, a[17]!, a[19]!, a[20]!, a[21]!];
    const want = taskCount(threads, total * flops, SPLIT_LIMITS.gemmTaskFlops);
    // the matrices [i0, i1) of outer groups [o0, o1), as one call
    const part = (o0: number, o1: number, i0: number, i1: number) => {
      const s = a.slice();
      s[0] = a[0]! + 4 * (o0 * oc + i0 * sc); s[1] = a[1]! + 4 * (o0 * oa + i0 * sa); s[2] = a[2]! + 4 * (o0 * ob + i0 * sb);
      s[14] = i1 - i0; s[18] = o1 - o0;
      return s;
    };
    if (outer >= want) return { fn: 'gemm_batched_f32', tasks: ranges(outer, 1, want).map(([o0, o1]) => part(o0, o1, 0, batch)) };
    if (total >= want) {    // whole matrices per task, each task inside one outer group
      const tasks: number[][] = [];
      for (let o = 0; o < outer; o++) for (const [i0, i1] of ranges(batch, 1, Math.ceil(want / outer))) tasks.push(part(o, o + 1, i0, i1));
      return { fn: 'gemm_batched_f32', tasks };
    }
    const tasks: number[][] = [];   // few large matrices: blocks of each
    const per = Math.ceil(threads / total);
    for (let o = 0; o < outer; o++) for (let t = 0; t < batch; t++) gemmBlocks(g, a, per, tasks, [4 * (o * oc + t * sc), 4 * (o * oa + t * sa), 4 * (o * ob + t * sb)]);
    return { fn: 'gemm_block_f32', tasks };
  }
  const s = SLICED[name];
  if (!s) return null;
  const units = s.units(a), bytes = units * s.bytes(a);
  if (bytes < SPLIT_LIMITS[s.min ?? 'rowwiseMinBytes']) return null;
  const parts = ranges(units, s.grain(a), taskCount(threads, bytes, SPLIT_LIMITS.rowwiseTaskBytes));
  return parts.length > 1 ? { fn: name, tasks: parts.map(([u0, u1]) => s.slice(a, u0, u1)) } : null;
}

/**
 * The kernels of a threaded runtime: the module's exports, where each call big enough is split
 * (`plan`) and run across the pool; everything else (and every call while the pool runs only
 * the caller) goes straight to the export. `names` fixes the pool's export indices (as given to
 * its workers); `scratch` holds the chunk sums of one-row products. A broken pool refuses every
 * call: a late worker could still write the memory.
 */
export function threadedKernels(exports: ModuleExports, pool: WorkerPool, names: readonly KernelName[], scratch: { ptr: number; bytes: number }): Kernels {
  const constant = (name: string) => Number((exports as unknown as Record<string, WebAssembly.Global>)[name]!.value);
  const g: GemmShape = {
    mr: constant('GEMM_MR'), nr: constant('GEMM_NR'), kc: constant('GEMM_GEMV_KC'), smallM: constant('GEMM_SMALL_M'),
    smallPath: (m, k, flags) => exports.gemm_small_path(m, k, flags) === 1,
    quantRowsBytes: (m, k) => exports.quant_rows_bytes(m, k),
    splitBytes: (tq, tk, nHead, hs) => exports.attention_split_bytes(tq, tk, nHead, hs),
    scratch: scratch.ptr, scratchBytes: scratch.bytes,
  };
  const index = new Map(names.map((n, i) => [n, i]));
  const out = { ...exports } as unknown as Record<KernelName, (...args: number[]) => void>;   // constants and helpers as they are
  for (const name of names) {
    const direct = exports[name] as (...args: number[]) => void;
    out[name] = (...args: number[]) => {
      if (pool.broken) pool.assertUsable();
      const threads = pool.size;
      const stages = threads > 1 ? plan(g, name, args, threads) : null;
      if (!stages) return direct(...args);
      for (const p of stages) {
        if (p.tasks.length === 1) (exports[p.fn] as (...a: number[]) => void)(...p.tasks[0]!);   // one task: the caller, without waking the pool
        else pool.run(index.get(p.fn)!, p.tasks);
      }
    };
  }
  return out as unknown as Kernels;
}
