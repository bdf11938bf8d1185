// attention_fused_forward / attention_fused_backward / attention_fused_probs (assembly/attention.ts) against their
// plain-JS twin (src/ref/attention.ts, f64, no tiling) on every wasm variant: head sizes 1 … 256
// (tails of 4 and 8), one and several key and query blocks, causal T×T, causal with Tq < Tk (a KV
// cache) and Tq > Tk (rows that see nothing), key masks per sequence and shared, fully masked
// sequences, strided views with heads inside a wider row, K/V shared by all sequences, sliding
// windows with and without global tokens, relative position biases and their gradient, and the
// gradients written or added, or not wanted. The twin itself is checked against the dense
// softmax(QKᵀ)V and finite differences in test/fn/gradcheck.test.ts (through `attend`).
//
// Tolerances are derived per element from the f64 quantities of each case (u = 2^-24, `bounds`):
//  - a score s = scale·Σ_d q_d k_d in f32 (mul and add, or one fma): |Δs| ≤ 2(hs + 1)·u·scale·Σ_d |q_d k_d| =: e_ij;
//  - the kernel's probabilities p = exp(s − m) carry the errors of s and of the row max m (e_i* = max_j e_ij),
//    the rounding of s − m (|s − m|·u) and exp4Nonpos's relative 3.1u: δp_ij ≤ e_ij + e_i* + (|s − m| + 5)u;
//  - the sum l of a row over nt key blocks: 4 lanes of ≤ BK/4 terms, + hsum, + one rescale per block:
//    relative (BK/4 + 3 + 3·nt)u; the output accumulator Σ p·v: (BK + 3 + 3·nt)u relative to Σ p|v|
//    (decoding, Tq < 4: blocks of ATTN_ROWS_BK = 16 keys, each with its own max m_c, its sums weighted by
//    exp(m_c − m) when added in block order — one rescale per block, as the online path, and exp(s − m_c)·exp(m_c − m)
//    rounds its two arguments by (|s − m_c| + |m_c − m|)u = |s − m|u: the same bounds with 16 for BK and its nt);
//  - y = O/l: a common relative error of the p's cancels except for its spread: ≤ 2·max δp·max|v|, plus the
//    sums' errors and the final division (2u|y|). lse = m + ln l errs by e_i* + (BK/4 + 6 + 3·nt)u (|ln l| ≤ 1e3u·…: bounded by u·|lse| + u·ln l).
//  - backward: P = exp(s − lse) errs by δP ≤ e_ij + Δlse_i + (|s − lse| + 5)u; dP = dy·v and delta = dy·y in f32
//    (2(hs + 1)u of their absolute sums, delta also through y's own error); dS = scale·P(dP − delta) adds 3u;
//    each gradient sums ≤ Tq or Tk + 1 such terms (its accumulation: (n + 2)u of the absolute sum).
import { describe, expect, it } from 'vitest';
import { harness, put, putIds, VARIANTS, type Harness } from '../helpers/harness';
import { expectClose } from '../helpers/compare';
import { rng, U32 } from '../helpers/rowwise-compare';
import { attentionFusedBackward, attentionFusedForward, attentionFusedProbs, attentionRowsSplit, rowsSplitLayout, ATTN_BQ, ATTN_ROWS_BK, keyVisible } from '../../src/ref/attention';

const BK = 64;
const u = U32;

interface Case {
  B: number; tq: number; tk: number; nHead: number; hs: number; causal: boolean;
  /** 'rows': a mask row per sequence (the last sequence fully masked when `empty`); 'shared': one row for all. */
  mask: 'none' | 'rows' | 'shared';
  empty?: boolean;
  /** Extra floats per row and where the heads start (a column offset), for strided views. */
  pad?: number;
  /** V's own row padding (default: K's), so K and V have different strides. */
  vPad?: number;
  /** K and V shared by every sequence (batch stride 0). */
  kvShared?: boolean;
  /** Gradient bits (1 dq, 2 dk, 4 dv): added to; and which are wanted. */
  betas?: number;
  want?: number;
  /** Sliding window and global tokens; a relative position bias (and its gradient). */
  window?: number;
  globals?: number;
  rel?: boolean;
}

/** A strided view: (B, T, C) inside rows of C + pad floats, heads starting at column `at`. */
interface View { T: number; ld: number; bs: number; at: number; size: number }
const viewOf = (B: number, T: number, C: number, pad: number, shared = false): View => {
  const ld = C + pad, bs = shared ? 0 : T * ld;
  return { T, ld, bs, at: pad > 0 ? 1 : 0, size: (shared ? 1 : B) * T * ld };
};

interface Data {
  q: Float32Array; k: Float32Array; v: Float32Array; dy: Float32Array; mask: Int32Array | null; rel: Float32Array | null;
  vq: View; vk: View; vv: View; vy: View; maskLd: number;
}

function makeData(c: Case, seed: number): Data {
  const r = rng(seed);
  const C = c.nHead * c.hs, pad = c.pad ?? 0;
  const vq = viewOf(c.B, c.tq, C, pad), vk = viewOf(c.B, c.tk, C, pad, c.kvShared), vy = viewOf(c.B, c.tq, C, 0);
  const vv = viewOf(c.B, c.tk, C, c.vPad ?? pad, c.kvShared);
  const fill = (n: number, s: number) => Float32Array.from({ length: n }, () => s * r.normal());
  // scores of spread ~2: some rows peaked, some flat
  const qs = 2 / Math.sqrt(Math.sqrt(c.hs));
  let mask: Int32Array | null = null, maskLd = 0;
  if (c.mask !== 'none') {
    const rows = c.mask === 'shared' ? 1 : c.B;
    maskLd = c.mask === 'shared' ? 0 : c.tk + 2;
    mask = new Int32Array(rows * (c.tk + 2)).map((_, i) => (r.uniform() < 0.25 ? 0 : 1 + (i % 3)));
    if (c.empty) mask.fill(0, (rows - 1) * (c.tk + 2));
  }
  const rel = c.rel ? fill(c.nHead * (c.tq + c.tk - 1), 1) : null;
  return { q: fill(vq.size, qs), k: fill(vk.size, qs), v: fill(vv.size, 1), dy: fill(vy.size, 1), mask, rel, vq, vk, vv, vy, maskLd };
}

/** Per-element error bounds of y, lse (forward) and dq, dk, dv (backward), from exact f64 quantities. */
function bounds(c: Case, d: Data, yExact: Float64Array, lseExact: Float64Array) {
  const { B, tq, tk, nHead, hs } = c;
  const scale = 1 / Math.sqrt(hs), relLd = tq + tk - 1;
  const { vq, vk, vv, vy } = d;
  const ix = (v: View, b: number, i: number, h: number, cc: number) => b * v.bs + i * v.ld + v.at + h * hs + cc;
  const yB = new Float64Array(yExact.length), lseB = new Float64Array(lseExact.length);
  const dqB = new Float64Array(vq.size), dkB = new Float64Array(vk.size), dvB = new Float64Array(vv.size);
  const drelB = new Float64Array(B * nHead * relLd);
  for (let b = 0; b < B; b++) for (let h = 0; h < nHead; h++) {
    for (let i = 0; i < tq; i++) {
      const sees = keyVisible(d.mask, b * d.maskLd, i, tq, tk, c.causal ? 1 : 0, c.window ?? 0, c.globals ?? 0);
      const relAt = (j: number) => (d.rel ? d.rel[h * relLd + j - i + tq - 1]! : 0);
      const s: number[] = [], e: number[] = [], js: number[] = [];
      for (let j = 0; j < tk; j++) {
        if (!sees(j)) continue;
        let dot = 0, abs = 0;
        for (let cc = 0; cc < hs; cc++) {
          const x = d.q[ix(vq, b, i, h, cc)]! * d.k[ix(vk, b, j, h, cc)]!;
          dot += x; abs += Math.abs(x);
        }
        // + the bias: one more rounding of the sum
        js.push(j); s.push(scale * dot + relAt(j)); e.push(2 * (hs + 1) * u * scale * abs + u * (scale * Math.abs(dot) + Math.abs(relAt(j))));
      }
      const row = (b * nHead + h) * tq + i;
      if (js.length === 0) continue;                         // y = 0 and lse = +∞ exactly
      const m = Math.max(...s), eMax = Math.max(...e), l = s.reduce((a, x) => a + Math.exp(x - m), 0);
      // the sums' terms in units of u: over blocks of blk keys, nt of them holding a key the row sees
      const terms = (blk: number) => {
        const nt = new Set(js.map((j) => Math.floor(j / blk))).size;
        return { l: blk / 4 + 6 + 3 * nt, acc: blk + 3 + 3 * nt, y: blk / 4 + 5 + 3 * nt };
      };
      // decoding (Tq < 4) takes blocks of ATTN_ROWS_BK, or the online path's BK where its scratch does not fit: the larger bound
      const t64 = terms(BK), t16 = tq < 4 ? terms(ATTN_ROWS_BK) : t64;
      const T = { l: Math.max(t64.l, t16.l), acc: Math.max(t64.acc, t16.acc), y: Math.max(t64.y, t16.y) };
      const dp = s.map((x, t) => e[t]! + eMax + (Math.abs(x - m) + 5) * u);
      const dpMax = Math.max(...dp);
      const dLse = eMax + T.l * u + u * Math.abs(lseExact[row]!);
      lseB[row] = dLse;
      const P = s.map((x) => Math.exp(x - m) / l);
      // delta = Σ dy·y and its error (dy·y products, y's own error)
      let delta = 0, deltaAbs = 0, deltaErr = 0;
      for (let cc = 0; cc < hs; cc++) {
        let maxV = 0, meanAbsV = 0;
        js.forEach((j, t) => { const x = Math.abs(d.v[ix(vv, b, j, h, cc)]!); maxV = Math.max(maxV, x); meanAbsV += P[t]! * x; });
        const yi = yExact[ix(vy, b, i, h, cc)]!;
        const err = 2 * dpMax * maxV + T.acc * u * meanAbsV + T.y * u * Math.abs(yi);
        yB[ix(vy, b, i, h, cc)] = err;
        const g = d.dy[ix(vy, b, i, h, cc)]!;
        delta += g * yi; deltaAbs += Math.abs(g * yi); deltaErr += Math.abs(g) * err;
      }
      deltaErr += 2 * (hs + 1) * u * deltaAbs;
      js.forEach((j, t) => {
        let dP = 0, dPabs = 0;
        for (let cc = 0; cc < hs; cc++) { const x = d.dy[ix(vy, b, i, h, cc)]! * d.v[ix(vv, b, j, h, cc)]!; dP += x; dPabs += Math.abs(x); }
        const dP_P = e[t]! + dLse + (Math.abs(s[t]! - lseExact[row]!) + 5) * u;
        const p = P[t]!;
        const dS = scale * p * Math.abs(dP - delta);
        const dSerr = scale * p * (dP_P * Math.abs(dP - delta) + 2 * (hs + 1) * u * dPabs + deltaErr + 3 * u * (Math.abs(dP) + Math.abs(delta)));
        // the bias's gradient sums d loss / d s = dS / scale along a diagonal: ≤ min(tq, tk) + 2 terms
        drelB[(b * nHead + h) * relLd + j - i + tq - 1]! += dSerr / scale + (Math.min(tq, tk) + 2) * u * dS / scale;
        for (let cc = 0; cc < hs; cc++) {
          const kq = Math.abs(d.k[ix(vk, b, j, h, cc)]!), qq = Math.abs(d.q[ix(vq, b, i, h, cc)]!), g = Math.abs(d.dy[ix(vy, b, i, h, cc)]!);
          dqB[ix(vq, b, i, h, cc)]! += dSerr * kq + (tk + 2) * u * dS * kq;
          dkB[ix(vk, b, j, h, cc)]! += dSerr * qq + (tq + 2) * u * dS * qq;
          dvB[ix(vv, b, j, h, cc)]! += p * dP_P * g + (tq + 2) * u * p * g;
        }
      });
    }
  }
  return { yB, lseB, dqB, dkB, dvB, drelB };
}

function runCase(h: Harness, c: Case, seed: number, label: string): void {
  h.reset();
  const d = makeData(c, seed);
  const { B, tq, tk, nHead, hs } = c;
  const C = nHead * hs, scale = 1 / Math.sqrt(hs), causal = c.causal ? 1 : 0;
  const { vq, vk, vv, vy } = d;
  const units = B * nHead * Math.ceil(tq / ATTN_BQ);
  const pq = put(h, d.q, 1), pk = put(h, d.k), pv = put(h, d.v, 1);
  const pm = d.mask ? putIds(h, d.mask) : 0;
  const prel = d.rel ? put(h, d.rel) : 0;
  const pattern = [c.causal ? 1 : 0, c.window ?? 0, c.globals ?? 0] as const;
  const py = put(h, new Float32Array(vy.size).fill(NaN)), plse = put(h, new Float32Array(B * nHead * tq).fill(NaN));
  const strides = [vq.ld, vk.ld, vv.ld, vy.ld, vq.bs, vk.bs, vv.bs, vy.bs] as const;
  h.k.attention_fused_forward!(py, plse, pq + 4 * vq.at, pk + 4 * vk.at, pv + 4 * vv.at, pm, prel, tq, tk, nHead, hs, ...strides,
    d.maskLd, scale, ...pattern, h.rt.gemmWork, 0, units);
  const y = h.f32(py, vy.size).slice(), lse = h.f32(plse, B * nHead * tq).slice();
  const yExact = new Float64Array(vy.size), lseExact = new Float64Array(B * nHead * tq);
  attentionFusedForward(yExact, lseExact, d.q.subarray(vq.at), d.k.subarray(vk.at), d.v.subarray(vv.at), d.mask, d.rel, tq, tk, nHead, hs,
    ...strides, d.maskLd, scale, ...pattern, 0, units);
  const bnd = bounds(c, d, yExact, lseExact);
  expectClose(y, yExact, (i) => bnd.yB[i]!, `${label} y`, { cols: C });
  expectClose(lse, lseExact, (i) => bnd.lseB[i]!, `${label} lse`, { cols: tq });

  // probabilities on request, from the kernel's own lse (as attention maps are made): p = exp(s − lse)
  // with the kernel's score s, so δp ≤ p·(e_ij + (|s − lse| + 5)u) (e_ij as for the forward); 0 exactly where unseen
  const pp = put(h, new Float32Array(B * nHead * tq * tk).fill(NaN));
  h.k.attention_fused_probs!(pp, plse, pq + 4 * vq.at, pk + 4 * vk.at, pm, prel, tq, tk, nHead, hs, vq.ld, vk.ld, vq.bs, vk.bs,
    d.maskLd, scale, ...pattern, h.rt.gemmWork, 0, units);
  const pExact = new Float64Array(B * nHead * tq * tk);
  attentionFusedProbs(pExact, lse, d.q.subarray(vq.at), d.k.subarray(vk.at), d.mask, d.rel, tq, tk, nHead, hs, vq.ld, vk.ld, vq.bs, vk.bs,
    d.maskLd, scale, ...pattern, 0, units);
  const pB = new Float64Array(pExact.length), relLd0 = tq + tk - 1;
  for (let b = 0; b < B; b++) for (let hh = 0; hh < nHead; hh++) for (let i = 0; i < tq; i++) for (let j = 0; j < tk; j++) {
    const at = ((b * nHead + hh) * tq + i) * tk + j;
    if (pExact[at] === 0) continue;
    let dot = 0, abs = 0;
    for (let cc = 0; cc < hs; cc++) {
      const x = d.q[b * vq.bs + i * vq.ld + vq.at + hh * hs + cc]! * d.k[b * vk.bs + j * vk.ld + vk.at + hh * hs + cc]!;
      dot += x; abs += Math.abs(x);
    }
    const rel = d.rel ? d.rel[hh * relLd0 + j - i + tq - 1]! : 0, l = lse[(b * nHead + hh) * tq + i]!;
    const e = 2 * (hs + 1) * u * scale * abs + u * (scale * Math.abs(dot) + Math.abs(rel));
    pB[at] = pExact[at]! * (e + (Math.abs(scale * dot + rel - l) + 5) * u);
  }
  expectClose(h.f32(pp, pExact.length).slice(), pExact, (i) => pB[i]!, `${label} probs`, { cols: tk });

  // backward from the kernel's own y and lse, as in training; the twin from the exact ones
  const betas = c.betas ?? 0, want = c.want ?? 7;
  const r = rng(seed + 1);
  const init = (n: number) => Float32Array.from({ length: n }, () => r.normal());
  const g0 = [init(vq.size), init(vk.size), init(vv.size)];
  const pg = g0.map((g, i) => ((want >> i) & 1 ? put(h, (betas >> i) & 1 ? g : new Float32Array(g.length).fill(NaN).map((_, t) => (t % 2 ? NaN : 7))) : 0));
  const relLd = tq + tk - 1;
  const pdy = put(h, d.dy), pyk = put(h, y), plk = put(h, lse), pdrel = d.rel ? put(h, new Float32Array(B * nHead * relLd).fill(NaN)) : 0;
  const at = [vq.at, vk.at, vv.at];
  const flags = causal | (betas << 1);
  h.k.attention_fused_backward!(...pg.map((p, i) => (p ? p + 4 * at[i]! : 0)), pdrel, pdy, pyk, plk, pq + 4 * vq.at, pk + 4 * vk.at, pv + 4 * vv.at, pm, prel,
    tq, tk, nHead, hs, ...strides, d.maskLd, scale, flags, pattern[1], pattern[2], h.rt.gemmWork, 0, B * nHead);
  const ref = g0.map((g, i) => ((betas >> i) & 1 ? Float64Array.from(g) : new Float64Array(g.length)));
  const refOrNull = ref.map((g, i) => ((want >> i) & 1 ? g.subarray(at[i]!) : null));
  const drelExact = d.rel ? new Float64Array(B * nHead * relLd) : null;
  attentionFusedBackward(refOrNull[0]!, refOrNull[1]!, refOrNull[2]!, drelExact, d.dy, yExact, lseExact,
    d.q.subarray(vq.at), d.k.subarray(vk.at), d.v.subarray(vv.at), d.mask, d.rel, tq, tk, nHead, hs, ...strides, d.maskLd, scale, flags, pattern[1], pattern[2], 0, B * nHead);
  if (drelExact) expectClose(h.f32(pdrel, drelExact.length).slice(), drelExact, (i) => bnd.drelB[i]!, `${label} drel`, { cols: relLd });
  const names = ['dq', 'dk', 'dv'], gb = [bnd.dqB, bnd.dkB, bnd.dvB];
  for (let i = 0; i < 3; i++) {
    if (!((want >> i) & 1)) continue;
    const got = h.f32(pg[i]!, g0[i]!.length).slice();
    // only the head columns are the kernel's; the padding around them must be untouched
    const base = (betas >> i) & 1 ? g0[i]! : null;
    const v = [vq, vk, vv][i]!;
    const inHeads = (t: number) => { const col = (t % v.ld) - v.at; return col >= 0 && col < C; };
    const expected = Float64Array.from(ref[i]!, (x, t) => (inHeads(t) ? x : base ? base[t]! : t % 2 ? NaN : 7));
    // a sum of f32 terms onto an existing value: the final add rounds once more
    expectClose(got, expected, (t) => gb[i]![t]! + u * Math.abs(expected[t]!), `${label} ${names[i]}`, { cols: v.ld });
  }
}

const CASES: Case[] = [
  { B: 1, tq: 1, tk: 1, nHead: 1, hs: 1, causal: true, mask: 'none' },
  { B: 2, tq: 5, tk: 5, nHead: 3, hs: 5, causal: true, mask: 'none', pad: 3 },
  { B: 2, tq: 37, tk: 37, nHead: 2, hs: 12, causal: true, mask: 'rows', empty: true },
  { B: 1, tq: 100, tk: 100, nHead: 2, hs: 32, causal: true, mask: 'none', betas: 7 },
  { B: 2, tq: 70, tk: 133, nHead: 2, hs: 16, causal: false, mask: 'shared', pad: 5, vPad: 2 },
  { B: 2, tq: 7, tk: 150, nHead: 1, hs: 8, causal: true, mask: 'rows', kvShared: true, want: 1 },   // a cache: Tq < Tk
  { B: 1, tq: 80, tk: 20, nHead: 2, hs: 9, causal: true, mask: 'none', betas: 2 },                   // Tq > Tk: rows that see nothing
  { B: 1, tq: 65, tk: 129, nHead: 1, hs: 64, causal: false, mask: 'rows', want: 6, betas: 4 },
  { B: 1, tq: 33, tk: 40, nHead: 1, hs: 256, causal: true, mask: 'none' },
  { B: 3, tq: 9, tk: 9, nHead: 4, hs: 3, causal: false, mask: 'rows', empty: true, pad: 1, betas: 1 },
  // sliding windows (blocks skipped on both sides), global tokens, relative position biases
  { B: 1, tq: 300, tk: 300, nHead: 2, hs: 16, causal: true, mask: 'none', window: 40 },
  { B: 2, tq: 200, tk: 200, nHead: 1, hs: 8, causal: false, mask: 'rows', window: 50, globals: 3 },
  { B: 1, tq: 150, tk: 150, nHead: 2, hs: 12, causal: true, mask: 'none', window: 70, globals: 2, rel: true, vPad: 7 },
  { B: 2, tq: 45, tk: 70, nHead: 3, hs: 8, causal: false, mask: 'none', rel: true, betas: 2 },
  { B: 1, tq: 66, tk: 66, nHead: 2, hs: 32, causal: true, mask: 'rows', rel: true },
  // decoding's few query rows (Tq < 4: K and V read where they lie, every score before the softmax):
  // 32-column passes, then 4 and 2 columns; four heads at once (one row) and four keys at once
  { B: 2, tq: 2, tk: 140, nHead: 2, hs: 70, causal: true, mask: 'rows', rel: true, window: 90, globals: 2, kvShared: true, want: 1 },
  { B: 3, tq: 1, tk: 77, nHead: 3, hs: 64, causal: true, mask: 'none' },
  { B: 2, tq: 1, tk: 200, nHead: 6, hs: 16, causal: true, mask: 'rows', window: 64, globals: 1, empty: true },
  { B: 1, tq: 3, tk: 90, nHead: 5, hs: 12, causal: false, mask: 'shared', rel: true, pad: 2 },
  // one head's scores for every key past the decoding path's scratch: the online path instead
  { B: 1, tq: 3, tk: 65_200, nHead: 1, hs: 8, causal: true, mask: 'none', want: 4 },
];

/** Decoding (Tq < 4) cases for the split test: the units of a call in any ranges give the whole call's bits. */
const DECODE_SPLITS: Case[] = [
  { B: 2, tq: 1, tk: 300, nHead: 12, hs: 16, causal: true, mask: 'rows', pad: 1 },
  { B: 3, tq: 2, tk: 130, nHead: 5, hs: 12, causal: false, mask: 'rows', rel: true, window: 50, globals: 2 },
];

/** Decoding cases for the split over the keys: GPT-2's heads (four at once), two and three rows (head by
 *  head), one head (its sums in registers), a sequence fully masked, a window leaving middle blocks unseen,
 *  a last block of one key. */
const KEY_SPLITS: Case[] = [
  { B: 2, tq: 1, tk: 150, nHead: 12, hs: 64, causal: true, mask: 'rows', pad: 1 },
  { B: 1, tq: 2, tk: 130, nHead: 5, hs: 12, causal: false, mask: 'rows', rel: true, window: 50, globals: 2 },
  { B: 2, tq: 3, tk: 45, nHead: 1, hs: 7, causal: true, mask: 'rows', empty: true, vPad: 3 },
  { B: 1, tq: 1, tk: 200, nHead: 6, hs: 16, causal: true, mask: 'none', window: 40, globals: 1, rel: true },
  { B: 1, tq: 1, tk: 17, nHead: 4, hs: 36, causal: true, mask: 'shared' },
];

/** [c0, c1) ranges cutting nb blocks into `tasks` non-empty parts at random places. */
function cuts(nb: number, tasks: number, r: ReturnType<typeof rng>): [number, number][] {
  const at = new Set<number>();
  while (at.size < tasks - 1) at.add(1 + Math.floor(r.uniform() * (nb - 1)));
  const ends = [0, ...[...at].sort((a, b) => a - b), nb];
  return ends.slice(1).map((e, i) => [ends[i]!, e]);
}

describe.each(VARIANTS)('fused attention %s', (variant) => {
  it('forward and backward match the twin within the derived bounds', () => {
    const h = harness(variant);
    CASES.forEach((c, n) => {
      if (c.kvShared && (c.want ?? 7) & 6) throw new Error('a shared K/V has no per-sequence gradient');
      runCase(h, c, 100 + n, `${variant} case ${n} ${JSON.stringify(c)}`);
    });
  });

  it('decoding: the heads in any ranges (threads split them) give the whole call\'s bits', () => {
    const h = harness(variant);
    DECODE_SPLITS.forEach((c, n) => {
      const d = makeData(c, 300 + n);
      const { B, tq, tk, nHead, hs } = c, C = nHead * hs, units = B * nHead;
      const strides = [d.vq.ld, d.vk.ld, d.vv.ld, d.vy.ld, d.vq.bs, d.vk.bs, d.vv.bs, d.vy.bs] as const;
      const run = (parts: [number, number][]) => {
        h.reset();
        const pq = put(h, d.q), pk = put(h, d.k), pv = put(h, d.v), pm = d.mask ? putIds(h, d.mask) : 0, prel = d.rel ? put(h, d.rel) : 0;
        const py = put(h, new Float32Array(d.vy.size).fill(NaN)), plse = put(h, new Float32Array(units * tq).fill(NaN));
        for (const [u0, u1] of parts) {
          h.k.attention_fused_forward!(py, plse, pq + 4 * d.vq.at, pk + 4 * d.vk.at, pv + 4 * d.vv.at, pm, prel, tq, tk, nHead, hs, ...strides,
            d.maskLd, 1 / Math.sqrt(hs), c.causal ? 1 : 0, c.window ?? 0, c.globals ?? 0, h.rt.gemmWork, u0, u1);
        }
        return [...h.f32(py, d.vy.size), ...h.f32(plse, units * tq)];
      };
      const whole = run([[0, units]]);
      const splits: [number, number][][] = [
        Array.from({ length: units }, (_, u) => [u, u + 1]),                 // head by head
        [[0, 3], [3, nHead + 1], [nHead + 1, units]],                         // parts of sequences around a whole one
      ];
      for (const parts of splits) {
        const got = run(parts);
        got.forEach((x, i) => { if (!Object.is(x, whole[i])) throw new Error(`${variant} split case ${n} (${JSON.stringify(parts.slice(0, 3))}…): value ${i} ${x} vs ${whole[i]} in one call (C = ${C})`); });
      }
    });
  });

  it('decoding split over the keys (attention_rows_split: key blocks in any ranges and order on a shared scratch, then their merge) gives the one-thread call\'s bits; the twin\'s stages are within the derived bounds', () => {
    const h = harness(variant);
    KEY_SPLITS.forEach((c, n) => {
      const d = makeData(c, 400 + n), r = rng(500 + n);
      const { B, tq, tk, nHead, hs } = c, units = B * nHead, nb = Math.ceil(tk / ATTN_ROWS_BK), scale = 1 / Math.sqrt(hs);
      const pattern = [c.causal ? 1 : 0, c.window ?? 0, c.globals ?? 0] as const;
      const strides = [d.vq.ld, d.vk.ld, d.vv.ld, d.vy.ld, d.vq.bs, d.vk.bs, d.vv.bs, d.vy.bs] as const;
      h.reset();
      const pq = put(h, d.q), pk = put(h, d.k), pv = put(h, d.v), pm = d.mask ? putIds(h, d.mask) : 0, prel = d.rel ? put(h, d.rel) : 0;
      const py = put(h, new Float32Array(d.vy.size).fill(NaN)), plse = put(h, new Float32Array(units * tq).fill(NaN));
      const outputs = () => [...h.f32(py, d.vy.size), ...h.f32(plse, units * tq)];
      h.k.attention_fused_forward!(py, plse, pq + 4 * d.vq.at, pk + 4 * d.vk.at, pv + 4 * d.vv.at, pm, prel, tq, tk, nHead, hs, ...strides,
        d.maskLd, scale, ...pattern, h.rt.gemmWork, 0, units);
      const whole = outputs();
      const yExact = new Float64Array(d.vy.size), lseExact = new Float64Array(units * tq);
      attentionFusedForward(yExact, lseExact, d.q.subarray(d.vq.at), d.k.subarray(d.vk.at), d.v.subarray(d.vv.at), d.mask, d.rel, tq, tk, nHead, hs,
        ...strides, d.maskLd, scale, ...pattern, 0, units);
      const bnd = bounds(c, d, yExact, lseExact);
      const bytes = h.k.attention_split_bytes!(tq, tk, nHead, hs);
      expect(bytes, `case ${n}`).toBe(4 * rowsSplitLayout(nHead * tq, tk, hs).floats);
      for (const tasks of [...new Set([1, 2, 3, nb])].filter((t) => t <= nb)) {
        const parts = cuts(nb, tasks, r);
        const sh = put(h, new Float32Array(bytes / 4).fill(NaN));
        h.f32(py, d.vy.size).fill(NaN); h.f32(plse, units * tq).fill(NaN);
        const twinY = new Float64Array(d.vy.size), twinLse = new Float64Array(units * tq);
        for (let b = 0; b < B; b++) {
          const ptrs = [py + 4 * b * d.vy.bs, plse + 4 * b * nHead * tq, pq + 4 * (d.vq.at + b * d.vq.bs), pk + 4 * (d.vk.at + b * d.vk.bs),
            pv + 4 * (d.vv.at + b * d.vv.bs), pm ? pm + 4 * b * d.maskLd : 0, prel];
          const rest = [tq, tk, nHead, hs, d.vq.ld, d.vk.ld, d.vv.ld, d.vy.ld, scale, ...pattern, h.rt.gemmWork];
          for (const [c0, c1] of [...parts].sort(() => r.uniform() - 0.5)) h.k.attention_rows_split!(0, sh, ...ptrs, ...rest, c0, c1);
          h.k.attention_rows_split!(1, sh, ...ptrs, ...rest, 0, nb);
          // the twin's stages on its own scratch, over the same parts
          const tsh = new Float32Array(bytes / 4).fill(NaN);
          const seq = (x: Float32Array | Float64Array, at: number) => x.subarray(at);
          const tw = [seq(twinY, b * d.vy.bs), seq(twinLse, b * nHead * tq), seq(d.q, d.vq.at + b * d.vq.bs), seq(d.k, d.vk.at + b * d.vk.bs),
            seq(d.v, d.vv.at + b * d.vv.bs), d.mask ? d.mask.subarray(b * d.maskLd) : null, d.rel] as const;
          const twRest = [tq, tk, nHead, hs, d.vq.ld, d.vk.ld, d.vv.ld, d.vy.ld, scale, ...pattern] as const;
          for (const [c0, c1] of parts) attentionRowsSplit(0, tsh, ...tw, ...twRest, c0, c1);
          attentionRowsSplit(1, tsh, ...tw, ...twRest, 0, nb);
        }
        const label = `${variant} key split case ${n} in ${tasks} (${JSON.stringify(parts)})`;
        outputs().forEach((x, i) => { if (!Object.is(x, whole[i])) throw new Error(`${label}: value ${i} ${x} vs ${whole[i]} in one call`); });
        expectClose(Float32Array.from(twinY), yExact, (i) => bnd.yB[i]!, `${label} twin y`, { cols: nHead * hs });
        expectClose(Float32Array.from(twinLse), lseExact, (i) => bnd.lseB[i]!, `${label} twin lse`, { cols: tq });
      }
    });
    // no split where the one-thread forward does not decode this way: four rows, or one head's scratch past its share
    // (the online path's case above, 65,200 keys)
    expect([h.k.attention_split_bytes!(4, 150, 12, 64), h.k.attention_split_bytes!(3, 65_200, 1, 8)]).toEqual([0, 0]);
    expect(h.k.attention_split_bytes!(3, 30_000, 1, 8)).toBeGreaterThan(0);
  });

  it('a row that sees no key gets y = 0 and lse = +∞, and passes no gradient', () => {
    const h = harness(variant);
    const c: Case = { B: 1, tq: 4, tk: 2, nHead: 1, hs: 4, causal: true, mask: 'none' };
    runCase(h, c, 7, `${variant} Tq > Tk`);
    // rows 0 and 1 see keys j ≤ r − 2: none
    h.reset();
    const q = put(h, new Float32Array(16).fill(1)), kv = put(h, new Float32Array(8).fill(1)), y = put(h, new Float32Array(16).fill(NaN)), lse = put(h, new Float32Array(4));
    h.k.attention_fused_forward!(y, lse, q, kv, kv, 0, 0, 4, 2, 1, 4, 4, 4, 4, 4, 16, 8, 8, 16, 0, 0.5, 1, 0, 0, h.rt.gemmWork, 0, 1);
    expect(Array.from(h.f32(lse, 4))).toEqual([Infinity, Infinity, 2, Math.fround(2 + Math.fround(Math.log(2)))]);
    expect(Array.from(h.f32(y, 8))).toEqual(new Array(8).fill(0));
  });
});
