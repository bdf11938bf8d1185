// Plain-JS twin of assembly/attention.ts (fused attention): the oracle for its tests, the
// baseline for its benchmark and the fallback where a runtime has no wasm SIMD. Same arguments
// in the same order as the kernels (`work` dropped); arrays are views starting where the
// kernels' pointers point. No tiling and no online softmax: each row's scores, max, sum and
// output are computed directly, in f64, which is what the kernels' blocking must reproduce.
import type { Floats } from './softmax.js';

/** Query rows per forward work unit: assembly/attention.ts's ATTN_BQ. */
export const ATTN_BQ = 32;

/**
 * Which keys query row r (of tq, over tk keys) sees: the key mask (0 hides), and the pattern of
 * assembly/attention.ts — with a = r + tk − tq: causal j ≤ a; window W > 0: |a − j| ≤ W; the first
 * `globals` positions see and are seen by every position (under the causal rule).
 */
export function keyVisible(mask: ArrayLike<number> | null, mrow: number, r: number, tq: number, tk: number,
  flags: number, window: number, globals: number): (j: number) => boolean {
  const a = r + tk - tq, causal = (flags & 1) !== 0;
  return (j) => {
    if (j < 0 || j >= tk || (mask !== null && mask[mrow + j] === 0) || (causal && j > a)) return false;
    return window === 0 || a < globals || j < globals || Math.abs(a - j) <= window;
  };
}

/**
 * y (strided heads) = softmax(scale·Q·Kᵀ + rel + masks)·V; lse (B, NH, tq) = log Σ exp per row
 * (+∞ when a row sees no key; its y is 0). rel: null or (NH, tq + tk − 1), entry (h, j − r + tq − 1)
 * added to score (r, j). Units [u0, u1) of B·NH·⌈tq/32⌉, as the kernel.
 * @example attentionFusedForward(y, lse, q, k, v, null, null, 4, 4, 1, 8, 8, 8, 8, 8, 32, 32, 32, 32, 0, 1 / Math.sqrt(8), 1, 0, 0, 0, 1)
 */
export function attentionFusedForward(y: Floats, lse: Floats, q: Floats, k: Floats, v: Floats, mask: Int32Array | null, rel: Floats | null,
  tq: number, tk: number, nHead: number, hs: number, ldq: number, ldk: number, ldv: number, ldy: number, bsq: number, bsk: number, bsv: number, bsy: number,
  maskLd: number, scale: number, flags: number, window: number, globals: number, u0: number, u1: number): void {
  const nqb = Math.ceil(tq / ATTN_BQ), relLd = tq + tk - 1;
  const s = new Float64Array(tk);
  for (let u = u0; u < u1; u++) {
    const qb = u % nqb, bh = Math.floor(u / nqb), h = bh % nHead, b = Math.floor(bh / nHead);
    for (let r = qb * ATTN_BQ; r < Math.min(tq, (qb + 1) * ATTN_BQ); r++) {
      const sees = keyVisible(mask, b * maskLd, r, tq, tk, flags, window, globals);
      const qr = b * bsq + r * ldq + h * hs;
      let m = -Infinity;
      for (let j = 0; j < tk; j++) {
        if (!sees(j)) continue;
        let dot = 0;
        for (let c = 0; c < hs; c++) dot += q[qr + c]! * k[b * bsk + j * ldk + h * hs + c]!;
        s[j] = scale * dot + (rel ? rel[h * relLd + j - r + tq - 1]! : 0);
        m = Math.max(m, s[j]!);
      }
      const yr = b * bsy + r * ldy + h * hs;
      const acc = new Float64Array(hs);
      let l = 0;
      if (m > -Infinity) {
        for (let j = 0; j < tk; j++) {
          if (!sees(j)) continue;
          const p = Math.exp(s[j]! - m);
          l += p;
          for (let c = 0; c < hs; c++) acc[c]! += p * v[b * bsv + j * ldv + h * hs + c]!;
        }
      }
      for (let c = 0; c < hs; c++) y[yr + c] = l > 0 ? acc[c]! / l : 0;
      lse[bh * tq + r] = l > 0 ? m + Math.log(l) : Infinity;
    }
  }
}

/** Keys per block of the decoding forward: assembly/attention.ts's ATTN_ROWS_BK. */
export const ATTN_ROWS_BK = 16;

/**
 * The parts of assembly/attention.ts's decoding scratch (rows_layout), in floats from its base,
 * for nr score rows over tk keys and a head size hs, with every block's output sums.
 */
export function rowsSplitLayout(nr: number, tk: number, hs: number) {
  const c16 = (x: number) => (x + 15) & ~15;
  const nb = Math.ceil(tk / ATTN_ROWS_BK), ls = nb * ATTN_ROWS_BK, hp = (hs + 7) & ~7, rowStep = c16(nr), accStep = c16(nr * hp);
  const s = c16(nb), max = s + nr * ls, sum = max + nb * rowStep, acc = sum + nb * rowStep;
  return { nb, ls, hp, rowStep, accStep, seen: 0, s, max, sum, acc, floats: acc + nb * accStep };
}

/**
 * One stage of decoding attention split over the keys, as attention_rows_split, on the shared
 * scratch `sh` laid out as rowsSplitLayout. Stage 0 (key blocks [c0, c1)) writes each block's
 * scores s (every block ATTN_ROWS_BK columns, −∞ where a row does not see the key), seen flag (a
 * finite score), row maxima m_c, then p = exp(s − m_c) in place of s (0 where m_c = −∞), the row
 * sums Σ p and the output sums Σ p·v (hp columns, hs … hp − 1 zero). Stage 1 weighs each seen
 * block by exp(m_c − m) (m: the row's max) and writes y = Σ output sums / Σ row sums and
 * lse = m + ln Σ (y = 0 and lse = +∞ for a row that sees no key). Pointers are one sequence's, as
 * the kernel's; f64 sums stored as f32.
 * @example attentionRowsSplit(0, sh, y, lse, q, k, v, null, null, 1, 40, 2, 8, 16, 16, 16, 16, 0.35, 1, 0, 0, 0, 3)
 */
export function attentionRowsSplit(stage: number, sh: Floats, y: Floats, lse: Floats, q: Floats, k: Floats, v: Floats,
  mask: Int32Array | null, rel: Floats | null, tq: number, tk: number, nHead: number, hs: number, ldq: number, ldk: number,
  ldv: number, ldy: number, scale: number, flags: number, window: number, globals: number, c0: number, c1: number): void {
  const nr = nHead * tq, L = rowsSplitLayout(nr, tk, hs), BK = ATTN_ROWS_BK, relLd = tq + tk - 1;
  const sAt = (i: number, j: number) => L.s + i * L.ls + j;
  if (stage === 0) {
    for (let c = c0; c < c1; c++) {
      let seen = false;
      for (let i = 0; i < nr; i++) {
        const h = Math.floor(i / tq), r = i % tq, sees = keyVisible(mask, 0, r, tq, tk, flags, window, globals);
        let m = -Infinity;
        for (let j = c * BK; j < (c + 1) * BK; j++) {
          let s = -Infinity;
          if (sees(j)) {
            let dot = 0;
            for (let d = 0; d < hs; d++) dot += q[r * ldq + h * hs + d]! * k[j * ldk + h * hs + d]!;
            s = scale * dot + (rel ? rel[h * relLd + j - r + tq - 1]! : 0);
          }
          sh[sAt(i, j)] = s;
          m = Math.max(m, sh[sAt(i, j)]!);
        }
        sh[L.max + c * L.rowStep + i] = m;
        seen ||= m > -Infinity;
      }
      sh[L.seen + c] = seen ? 1 : 0;
      if (!seen) continue;
      for (let i = 0; i < nr; i++) {
        const h = Math.floor(i / tq), m = sh[L.max + c * L.rowStep + i]!, acc = new Float64Array(L.hp);
        let sum = 0;
        for (let j = c * BK; j < (c + 1) * BK; j++) {
          sh[sAt(i, j)] = m === -Infinity ? 0 : Math.exp(sh[sAt(i, j)]! - m);
          const p = sh[sAt(i, j)]!;
          sum += p;
          if (p !== 0) for (let d = 0; d < hs; d++) acc[d]! += p * v[j * ldv + h * hs + d]!;
        }
        sh[L.sum + c * L.rowStep + i] = sum;
        sh.set(acc, L.acc + c * L.accStep + i * L.hp);
      }
    }
    return;
  }
  for (let i = 0; i < nr; i++) {
    const h = Math.floor(i / tq), r = i % tq, o = new Float64Array(hs);
    let m = -Infinity, l = 0;
    for (let c = 0; c < L.nb; c++) m = Math.max(m, sh[L.max + c * L.rowStep + i]!);
    for (let c = 0; c < L.nb; c++) {
      const mc = sh[L.max + c * L.rowStep + i]!;
      if (sh[L.seen + c] === 0 || mc === -Infinity) continue;
      const w = Math.exp(mc - m);
      l += w * sh[L.sum + c * L.rowStep + i]!;
      for (let d = 0; d < hs; d++) o[d]! += w * sh[L.acc + c * L.accStep + i * L.hp + d]!;
    }
    for (let d = 0; d < hs; d++) y[r * ldy + h * hs + d] = l > 0 ? o[d]! / l : 0;
    lse[h * tq + r] = l > 0 ? m + Math.log(l) : Infinity;
  }
}

/**
 * Gradients of attentionFusedForward for heads [u0, u1) of B·NH: dq, dk, dv (null: not wanted)
 * written, or added to where flags bit 1 / 2 / 3 is set; drel (B·NH, tq + tk − 1), unless null,
 * written with Σ of d loss / d score per relative position.
 * @example attentionFusedBackward(dq, dk, dv, null, dy, y, lse, q, k, v, null, null, 4, 4, 1, 8, 8, 8, 8, 8, 32, 32, 32, 32, 0, 0.35, 1, 0, 0, 0, 1)
 */
export function attentionFusedBackward(dq: Floats | null, dk: Floats | null, dv: Floats | null, drel: Floats | null, dy: Floats, y: Floats,
  lse: Floats, q: Floats, k: Floats, v: Floats, mask: Int32Array | null, rel: Floats | null, tq: number, tk: number, nHead: number, hs: number,
  ldq: number, ldk: number, ldv: number, ldy: number, bsq: number, bsk: number, bsv: number, bsy: number, maskLd: number,
  scale: number, flags: number, window: number, globals: number, u0: number, u1: number): void {
  const relLd = tq + tk - 1;
  for (let bh = u0; bh < u1; bh++) {
    const h = bh % nHead, b = Math.floor(bh / nHead);
    const at = (bs: number, ld: number) => (i: number, c: number) => b * bs + i * ld + h * hs + c;
    const Q = at(bsq, ldq), K = at(bsk, ldk), V = at(bsv, ldv), Y = at(bsy, ldy);
    const gq = new Float64Array(tq * hs), gk = new Float64Array(tk * hs), gv = new Float64Array(tk * hs);
    const gr = new Float64Array(relLd);
    for (let i = 0; i < tq; i++) {
      let delta = 0;
      for (let c = 0; c < hs; c++) delta += dy[Y(i, c)]! * y[Y(i, c)]!;
      const l = lse[bh * tq + i]!;
      if (l === Infinity) continue;
      const sees = keyVisible(mask, b * maskLd, i, tq, tk, flags, window, globals);
      for (let j = 0; j < tk; j++) {
        if (!sees(j)) continue;
        let dot = 0, dp = 0;
        for (let c = 0; c < hs; c++) {
          dot += q[Q(i, c)]! * k[K(j, c)]!;
          dp += dy[Y(i, c)]! * v[V(j, c)]!;
        }
        const p = Math.exp(Math.min(scale * dot + (rel ? rel[h * relLd + j - i + tq - 1]! : 0) - l, 0));
        const dsu = p * (dp - delta);
        gr[j - i + tq - 1]! += dsu;
        for (let c = 0; c < hs; c++) {
          gq[i * hs + c]! += scale * dsu * k[K(j, c)]!;
          gk[j * hs + c]! += scale * dsu * q[Q(i, c)]!;
          gv[j * hs + c]! += p * dy[Y(i, c)]!;
        }
      }
    }
    const put = (out: Floats | null, g: Float64Array, rows: number, index: (i: number, c: number) => number, add: number) => {
      if (!out) return;
      for (let i = 0; i < rows; i++) for (let c = 0; c < hs; c++) out[index(i, c)] = (add ? out[index(i, c)]! : 0) + g[i * hs + c]!;
    };
    put(dq, gq, tq, Q, flags & 2);
    put(dk, gk, tk, K, flags & 4);
    put(dv, gv, tk, V, flags & 8);
    if (drel) drel.set(gr, bh * relLd);
  }
}

/**
 * p (B, NH, tq, tk) = exp(scale·q·k + rel − lse) for each key a row sees, 0 elsewhere (and for a
 * row with lse = +∞), lse given (the forward's). Units [u0, u1) of B·NH·⌈tq/32⌉, as the kernel.
 * @example attentionFusedProbs(p, lse, q, k, null, null, 4, 4, 1, 8, 8, 8, 32, 32, 0, 1 / Math.sqrt(8), 1, 0, 0, 0, 1)
 */
export function attentionFusedProbs(p: Floats, lse: Floats, q: Floats, k: Floats, mask: Int32Array | null, rel: Floats | null,
  tq: number, tk: number, nHead: number, hs: number, ldq: number, ldk: number, bsq: number, bsk: number, maskLd: number,
  scale: number, flags: number, window: number, globals: number, u0: number, u1: number): void {
  const nqb = Math.ceil(tq / ATTN_BQ), relLd = tq + tk - 1;
  for (let u = u0; u < u1; u++) {
    const qb = u % nqb, bh = Math.floor(u / nqb), h = bh % nHead, b = Math.floor(bh / nHead);
    for (let r = qb * ATTN_BQ; r < Math.min(tq, (qb + 1) * ATTN_BQ); r++) {
      const sees = keyVisible(mask, b * maskLd, r, tq, tk, flags, window, globals), l = lse[bh * tq + r]!;
      for (let j = 0; j < tk; j++) {
        let value = 0;
        if (l !== Infinity && sees(j)) {
          let dot = 0;
          for (let c = 0; c < hs; c++) dot += q[b * bsq + r * ldq + h * hs + c]! * k[b * bsk + j * ldk + h * hs + c]!;
          value = Math.exp(Math.min(scale * dot + (rel ? rel[h * relLd + j - r + tq - 1]! : 0) - l, 0));
        }
        p[(bh * tq + r) * tk + j] = value;
      }
    }
  }
}
