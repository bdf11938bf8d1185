// The encoder–decoder (src/models/seq2seq.ts) and its decoding (src/generate/beam.ts):
// parameter count and names, finite-difference gradients of the whole model with padding on
// both sides, padding invariance, cached decoding = teacher forcing, beam search = exhaustive
// search when the beam holds everything, beam size 1 = greedy, bad input.
import { describe, it, expect } from 'vitest';
import { createRuntime, ShapeError, type Runtime, type Tensor } from '../../src/index.js';
import { expectCachedLikeFull } from '../helpers/decode.js';
import { Seq2Seq, seq2seqConfig, type Seq2SeqConfig } from '../../src/models/seq2seq.js';
import { beamSearch, greedyDecode } from '../../src/generate/beam.js';
import { gradcheck } from '../helpers/gradcheck.js';

const rt: Runtime = await createRuntime({ variant: 'relaxed' });
const tiny = (over: Partial<Seq2SeqConfig> = {}): Partial<Seq2SeqConfig> => ({
  srcVocabSize: 9, tgtVocabSize: 9, maxPositions: 12, nLayer: 1, nHead: 2, dModel: 8, dFF: 16, dropout: 0, padId: 0, bosId: 1, eosId: 2, ...over,
});
const ids = (rows: number[][]): Tensor => rt.tensor(rows.flat(), [rows.length, rows[0]!.length], { dtype: 'i32', arena: 'step' });

describe('Seq2Seq', () => {
  it('numParams matches the formula for every variant, with Marian/BART names and nn.Linear shapes', () => {
    for (const [share, tie, norm, nDec] of [[true, true, 'post', 1], [false, false, 'pre', 2], [false, true, 'post', 3]] as const) {
      const m = new Seq2Seq(rt, tiny({ srcVocabSize: share ? 9 : 11, shareEmbeddings: share, tieOutput: tie, norm, nLayer: 2, nDecoderLayer: nDec, dModel: 8, dFF: 20 }));
      const C = 8, F = 20, Vs = share ? 9 : 11, Vt = 9;
      const attn = 4 * (C * C + C), ln = 2 * C, ffn = C * F + F + F * C + C;
      const enc = attn + ln + ffn + ln;
      const dec = 2 * (attn + ln) + ffn + ln;
      const embeddings = share ? Vs * C : Vs * C + Vt * C;
      const want = embeddings + 2 * enc + nDec * dec + (norm === 'pre' ? 2 * ln : 0) + (tie ? 0 : Vt * C);
      expect(m.numParams()).toBe(want);
    }
    const m = new Seq2Seq(rt, tiny({ shareEmbeddings: true }));
    const names = m.params.list().map((p) => `${p.name} [${p.spec.shape.join(',')}]`);
    expect(names).toEqual(expect.arrayContaining([
      'model.shared.weight [9,8]', 'model.encoder.layers.0.self_attn.q_proj.weight [8,8]', 'model.encoder.layers.0.self_attn.out_proj.bias [8]',
      'model.encoder.layers.0.self_attn_layer_norm.weight [8]', 'model.encoder.layers.0.fc1.weight [16,8]', 'model.encoder.layers.0.fc2.weight [8,16]',
      'model.encoder.layers.0.final_layer_norm.bias [8]', 'model.decoder.layers.0.encoder_attn.k_proj.weight [8,8]',
      'model.decoder.layers.0.encoder_attn_layer_norm.weight [8]',
    ]));
    expect(names.some((n) => n.startsWith('lm_head'))).toBe(false);
  });

  it('gradients of the label-smoothed loss with padded sources and targets match finite differences (post- and pre-norm)', () => {
    for (const norm of ['post', 'pre'] as const) {
      // GELU: ReLU's kink (the paper's activation) breaks finite differences at eps
      const m = new Seq2Seq(rt, tiny({ norm, shareEmbeddings: norm === 'post', tieOutput: true, activation: 'gelu' }), { seed: 5 });
      const params = m.params.list().map((p) => p.value);
      gradcheck(rt, () => {
        const src = ids([[3, 4, 5, 6], [7, 8, 0, 0]]);
        const tgtIn = ids([[1, 6, 5, 4], [1, 8, 7, 0]]);
        const tgtOut = ids([[6, 5, 4, 2], [8, 7, 2, 0]]);
        return m.forward(src, tgtIn, tgtOut, { smoothing: 0.1 }).loss!;
      }, params, { scalar: true, samples: 4, richardson: true });
    }
  });

  it('padding invariance: logits of real target positions equal each pair run alone', () => {
    const m = new Seq2Seq(rt, tiny({ nLayer: 2, dModel: 16, nHead: 4, dFF: 32 }), { seed: 6 });
    const pairs = [[[3, 4, 5, 6, 7], [1, 7, 6]], [[8, 3], [1, 3, 8, 5, 4]], [[5], [1]]] as const;
    const S = 5, T = 5, V = 9;
    rt.step.scope(() => rt.tape.noGrad(() => {
      const pad = (r: readonly number[], n: number) => [...r, ...Array(n - r.length).fill(0)];
      const batched = m.forward(ids(pairs.map((p) => pad(p[0], S))), ids(pairs.map((p) => pad(p[1], T)))).logits.f32().slice();
      pairs.forEach(([src, tgt], b) => {
        const alone = m.forward(ids([[...src]]), ids([[...tgt]])).logits.f32();
        for (let i = 0; i < tgt.length * V; i++) {
          const want = alone[i]!, got = batched[b * T * V + i]!;
          // only the order of f32 sums in softmax/GEMM rows differs: a few ulps of O(1) logits
          if (!(Math.abs(got - want) <= 2e-5 * Math.max(1, Math.abs(want)))) expect.fail(`pair ${b} [${i}]: ${got} vs ${want}`);
        }
      });
    }));
  });

  it('cached decoding steps give the teacher-forcing logits at every position', () => {
    for (const norm of ['post', 'pre'] as const) {
      const m = new Seq2Seq(rt, tiny({ norm, nLayer: 2, dModel: 16, dFF: 32 }), { seed: 7 });
      m.eval();
      expectCachedLikeFull(rt, m, (mm, s, t) => mm.forward(s, t).logits, ids, [3, 4, 5, 6, 0], [1, 8, 7, 6, 5, 4], 9, 4);
    }
  });

  it('beam search with a beam that holds every hypothesis equals exhaustive search (scores, log-probabilities, order)', () => {
    // V = 5: pad, bos, eos and two digits; decoding never emits pad or bos, so the hypotheses are
    // the digit strings of length 0 … 2 ended by EOS and those of length 3 cut at maxLength
    const m = new Seq2Seq(rt, tiny({ srcVocabSize: 5, tgtVocabSize: 5, dModel: 8, nHead: 2, maxPositions: 6 }), { seed: 8 });
    const src = [3, 4, 3];
    const maxLength = 3, alpha = 0.6, lp = (n: number) => Math.pow((5 + n) / 6, alpha);
    let maxLogit = 1;
    const all: { tokens: number[]; score: number; logProb: number }[] = [];
    const grow = (prefix: number[]) => {
      if (prefix.length === maxLength) {
        // unfinished at maxLength: log p of the tokens only (no EOS)
        const lpTokens = partial(prefix);
        all.push({ tokens: prefix, logProb: lpTokens, score: lpTokens / lp(prefix.length) });
        return;
      }
      const lpFinished = partial(prefix) + tokenLogProb(prefix, 2);
      all.push({ tokens: prefix, logProb: lpFinished, score: lpFinished / lp(prefix.length + 1) });
      for (const t of [3, 4]) grow([...prefix, t]);
    };
    // log p of a prefix without EOS: Σ over its tokens, from full sequence log-probs minus the EOS term
    const partial = (prefix: number[]): number => {
      let s = 0;
      for (let i = 0; i < prefix.length; i++) s += tokenLogProb(prefix.slice(0, i), prefix[i]!);
      return s;
    };
    const tokenLogProb = (prefix: number[], t: number): number => rt.step.scope(() => rt.tape.noGrad(() => {
      const logits = m.forward(ids([src]), ids([[1, ...prefix]])).logits.f32();
      // renormalised without pad and bos, as decoding does
      const row = logits.slice(prefix.length * 5, prefix.length * 5 + 5).map((x, j) => (j < 2 ? -Infinity : x));
      const mx = Math.max(...row);
      maxLogit = Math.max(maxLogit, ...row.filter(Number.isFinite).map(Math.abs));
      return row[t]! - mx - Math.log(row.reduce((a, x) => a + Math.exp(x - mx), 0));
    }));
    grow([]);
    expect(all.length).toBe(1 + 2 + 4 + 8);
    const beams = beamSearch(m, src, { beamSize: all.length, maxLength, lengthPenalty: alpha });
    expect(beams.length).toBe(all.length);
    all.sort((a, b) => b.score - a.score);
    // cached and full logits agree to 2e-5·max(1, |logit|) (test above); a log-probability takes the
    // logit and its log-sum-exp (2 such errors) per token, over ≤ maxLength + 1 = 4 tokens
    const tol = 4 * 2 * 2e-5 * maxLogit;
    beams.forEach((h, i) => {
      expect(h.tokens, `rank ${i}`).toEqual(all[i]!.tokens);
      expect(Math.abs(h.logProb - all[i]!.logProb)).toBeLessThan(tol);
      expect(Math.abs(h.score - all[i]!.score)).toBeLessThan(tol);
      expect(h.finished).toBe(h.tokens.length < maxLength);
    });
  });

  it('beam size 1 (α = 0) equals greedy decoding (batched) on random models and sources', () => {
    for (const seed of [1, 2, 3]) {
      const m = new Seq2Seq(rt, tiny({ dModel: 16, nHead: 4, nLayer: 2, maxPositions: 10 }), { seed });
      const r = (i: number) => Array.from({ length: 1 + ((i * 7 + seed) % 6) }, (_, j) => 3 + ((i * 5 + j * 3 + seed) % 6));
      const sources = Array.from({ length: 12 }, (_, i) => r(i));
      const greedy = greedyDecode(m, sources, { maxLength: 10 });
      sources.forEach((s, i) => expect(beamSearch(m, s, { beamSize: 1, lengthPenalty: 0, maxLength: 10 })[0]!.tokens, `seed ${seed} source ${i}`).toEqual(greedy[i]));
      // minLength holds EOS back: every output has at least that many tokens
      for (const o of greedyDecode(m, sources, { maxLength: 10, minLength: 6 })) expect(o.length).toBeGreaterThanOrEqual(6);
      for (const h of beamSearch(m, sources[0]!, { beamSize: 3, maxLength: 10, minLength: 6 })) expect(h.tokens.length).toBeGreaterThanOrEqual(6);
      // and batched greedy equals one-at-a-time greedy (padding of the other sources does not leak)
      sources.forEach((s, i) => expect(greedyDecode(m, [s], { maxLength: 10 })[0]).toEqual(greedy[i]));
    }
  });

  it('bad input gets typed errors naming the numbers', () => {
    const m = new Seq2Seq(rt, tiny());
    rt.step.scope(() => {
      expect(() => m.forward(ids([[3, 4], [5, 6]]), ids([[1, 3]]))).toThrow(/source batch has 2 sequences but target batch 1/);
      expect(() => m.forward(ids([[3, 4]]), ids([[1, 3]]), undefined, { srcMask: rt.tensor([1, 1, 1], [1, 3], { dtype: 'i32', arena: 'step' }) }))
        .toThrow(/keyMask has shape \[1, 3\], expected \[1, 2\]/);
      expect(() => m.forward(ids([[3, 9]]), ids([[1, 3]]))).toThrow(/src id 9 at \[0, 1\] is outside \[0, 9\)/);
      expect(() => m.forward(ids([[3]]), ids([[1, 3]]), ids([[3, 12]]))).toThrow(/target 12 at position 1 is outside \[0, 9\)/);
      expect(() => m.forward(ids([[3]]), ids([[1, 3]]), ids([[3, 2, 2]]))).toThrow(/tgtOut has shape \[1, 3\], tgtIn has \[1, 2\]/);
      expect(() => m.forward(ids([[3]]), rt.tensor(new Int32Array(0), [1, 0], { dtype: 'i32', arena: 'step' }))).toThrow(ShapeError);
      expect(() => m.forward(ids([Array(13).fill(3)]), ids([[1]]))).toThrow(/src has length 13, more than maxPositions 12/);
    });
    expect(() => greedyDecode(m, [[3], []])).toThrow(/source 1 is empty/);
    expect(() => beamSearch(m, [3], { beamSize: 0 })).toThrow(/beamSize is 0/);
    expect(() => greedyDecode(m, [[3]], { maxLength: 5, minLength: 5 })).toThrow(/minLength is 5, expected an integer in \[0, 4\]/);
    expect(() => beamSearch(m, [3], { maxLength: 13 })).toThrow(/maxLength is 13, expected an integer in \[1, 12\]/);
    expect(() => seq2seqConfig(tiny({ shareEmbeddings: true, srcVocabSize: 10 }))).toThrow(/equal vocabularies, got srcVocabSize 10 and tgtVocabSize 9/);
    expect(() => seq2seqConfig(tiny({ eosId: 9 }))).toThrow(/eosId is 9, expected an id in \[0, 9\)/);
  });
});
