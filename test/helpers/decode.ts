// One check shared by the encoder–decoder tests: cached decoding, one target token at a time,
// gives the teacher-forcing logits at every position.
import { expect } from 'vitest';
import type { EncoderDecoder, Runtime, Tensor } from '../../src/index.js';

/**
 * Decodes `tgt` token by token over a KV cache and compares each step's logits (V of them) with
 * the full forward's at that position: the same f32 operations summed in another order (one query
 * row vs T, GEMM blocking) — a few ulps of O(1) logits through two layers, so 2e-5 relative.
 * @example
 * ```ts
 * expectCachedLikeFull(rt, model, (m, s, t) => m.forward(s, t).logits, ids, [3, 4, 0], [1, 8, 7], 9);
 * ```
 */
export function expectCachedLikeFull<M extends EncoderDecoder>(rt: Runtime, m: M, full: (m: M, src: Tensor, tgt: Tensor) => Tensor,
  ids: (rows: number[][]) => Tensor, src: number[], tgt: number[], V: number, sourceLength: number): void {
  rt.step.scope(() => rt.tape.noGrad(() => {
    const want = full(m, ids([src]), ids([tgt])).f32().slice();
    const source = m.encodeForDecoding(ids([src]));
    expect(source.lengths).toEqual([sourceLength]);
    const caches = m.createCache(1, tgt.length, 'step');
    tgt.forEach((t, pos) => {
      const step = m.decodeStep(ids([[t]]), caches, pos, source).f32();
      for (let j = 0; j < V; j++) expect(Math.abs(step[j]! - want[pos * V + j]!)).toBeLessThan(2e-5 * Math.max(1, Math.abs(want[pos * V + j]!)));
    });
  }));
}
