// T5 (src/models/t5.ts) and its relative position bias (src/nn/relative-bias.ts,
// src/fn/relative-bias.ts): Hugging Face names and shapes, T5's buckets against values worked
// out by hand from the published definition, finite-difference gradients (the bias gather, fused
// attention with the bias and scale 1, the whole model), cached decoding = teacher forcing,
// gradient checkpointing bit for bit, the file round trip, train() resume, bad input; and the
// model learning a seq2seq task beside the original Transformer on the same budget.
import { describe, it, expect } from 'vitest';
import {
  AdamW, attend, beamSearch, CheckpointError, createRuntime, greedyDecode, hfConfig, loadModel, relativeBias, relativeBuckets, relativePositionBucket,
  checkBucketing, relBiasGather, saveModel, seededBatches, Seq2Seq, ShapeError, T5, T5_SMALL, t5Config, train, trainStep, ValueError,
  type Runtime, type T5Config, type Tensor,
} from '../../src/index.js';
import { expectCachedLikeFull } from '../helpers/decode.js';
import { encodeSafetensors } from '../../src/io/safetensors.js';
import { EOS, PAD, VOCAB, isHeldOut, padBatch, type Pair } from '../../examples/seq2seq/task.js';
import { Rng } from '../../src/random.js';
import { gradcheck, param } from '../helpers/gradcheck.js';

const rt: Runtime = await createRuntime({ variant: 'simd', threads: 1 });
const tiny = (over: Partial<T5Config> = {}): Partial<T5Config> => ({
  vocabSize: 9, nLayer: 1, nHead: 2, dModel: 8, dFF: 16, dropout: 0, padId: 0, eosId: 1, decoderStartId: 0, relBuckets: 8, relMaxDistance: 12, ...over,
});
const ids = (rows: number[][]): Tensor => rt.tensor(rows.flat(), [rows.length, rows[0]!.length], { dtype: 'i32', arena: 'step' });

describe('T5 relative position buckets', () => {
  it('match T5\'s definition, worked out by hand, in both directions (32 buckets, max distance 128)', () => {
    // bidirectional: 16 buckets a side, exact below e = 8, then 8 + ⌊log(n/8) / log(16) · 8⌋ = 8 + ⌊2·log2(n/8)⌋
    // (n = 11: 0.92 → 8; 12: 1.17 → 9; 16: 2 → 10; 22: 2.92 → 10; 23: 3.05 → 11; 90: 6.98 → 14; 91: 7.02 → 15),
    // capped at 15; keys after the query (rel > 0) take the upper half, 16 + …
    const bi = { buckets: 32, maxDistance: 128, bidirectional: true };
    const wantBi: [number, number][] = [[0, 0], [-1, 1], [1, 17], [-7, 7], [7, 23], [-8, 8], [8, 24], [-11, 8], [-12, 9], [-16, 10], [16, 26],
      [-22, 10], [-23, 11], [-64, 14], [-90, 14], [-91, 15], [-127, 15], [-128, 15], [128, 31], [-1000, 15], [1000, 31]];
    expect(wantBi.map(([r]) => relativePositionBucket(r, bi))).toEqual(wantBi.map(([, b]) => b));
    // unidirectional (decoder): future keys → 0; exact below e = 16, then 16 + ⌊log(n/16) / log(8) · 16⌋
    // (n = 32: 16/3 → 21; 64: 32/3 → 26; 127: 15.94 → 31), capped at 31
    const uni = { ...bi, bidirectional: false };
    const wantUni: [number, number][] = [[5, 0], [0, 0], [-1, 1], [-15, 15], [-16, 16], [-32, 21], [-64, 26], [-127, 31], [-128, 31], [-1000, 31]];
    expect(wantUni.map(([r]) => relativePositionBucket(r, uni))).toEqual(wantUni.map(([, b]) => b));
    // the bias row of Tq = 2 queries at the end of Tk = 4 keys holds distances −3 … 1
    expect([...relativeBuckets(2, 4, bi)]).toEqual([3, 2, 1, 0, 17]);
    expect([...relativeBuckets(2, 4, uni)]).toEqual([3, 2, 1, 0, 0]);
  });

  it('the gather and its scatter-add backward match finite differences; fused attention with the bias and scale 1 too', () => {
    const table = param(rt, [8, 3], 21);
    const buckets = relativeBuckets(5, 5, { buckets: 8, maxDistance: 12, bidirectional: true });   // repeats buckets: the scatter must add
    gradcheck(rt, () => relativeBias(rt, table, buckets), [table]);
    const [q, k, v] = [31, 32, 33].map((s) => param(rt, [2, 5, 8], s, 0.5)) as [Tensor, Tensor, Tensor];
    const t2 = param(rt, [8, 2], 34);
    for (const bidirectional of [true, false]) {
      gradcheck(rt, () => attend(rt, q, k, v, 2, {
        causal: !bidirectional, scale: 1, keyMask: ids([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]),
        rel: relativeBias(rt, t2, relativeBuckets(5, 5, { buckets: 8, maxDistance: 12, bidirectional })),
      }).y, [q, k, v, t2]);
    }
  });
});

describe('attention scale option', () => {
  it('scale s equals the default 1/√hs with queries multiplied by s·√hs, on the dense and fused paths', () => {
    const [q, k, v] = [41, 42, 43].map((seed) => rt.randn([2, 5, 8], { seed })) as [Tensor, Tensor, Tensor];
    const hs = 4, s = 1;                                                      // T5's scale, 2 heads of 4
    const qs = rt.tensor(q.f32().map((x) => x * s * Math.sqrt(hs)), [2, 5, 8]);
    for (const path of ['dense', 'fused'] as const) {
      rt.step.scope(() => {
        const a = attend(rt, q, k, v, 2, { scale: s, path, causal: true }).y.f32();
        const b = attend(rt, qs, k, v, 2, { path, causal: true }).y.f32();
        // the same scores up to the rounding of q·2 (exact here) and of the scale products: a few ulps
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5 * Math.max(1, Math.abs(b[i]!)));
        // and it differs from the default scale (the option is not ignored)
        const d = attend(rt, q, k, v, 2, { path, causal: true }).y.f32();
        expect(d.some((x, i) => Math.abs(x - a[i]!) > 1e-3)).toBe(true);
      });
    }
    expect(() => attend(rt, q, k, v, 2, { scale: 0 })).toThrow(/scale is 0, expected a finite number > 0/);
    [q, k, v, qs].forEach((t) => rt.free(t));
  });
});

describe('T5', () => {
  it('declares Hugging Face T5 names and shapes; numParams matches the formula', () => {
    for (const tie of [true, false]) {
      const m = new T5(rt, tiny({ nLayer: 2, nDecoderLayer: 3, dFF: 20, tieWordEmbeddings: tie }));
      const V = 9, C = 8, F = 20, NB = 8, NH = 2;
      const attn = 4 * C * C, ffn = 2 * C * F;
      const want = V * C + 2 * NB * NH + 2 * (attn + ffn + 2 * C) + 3 * (2 * attn + ffn + 3 * C) + 2 * C + (tie ? 0 : V * C);
      expect(m.numParams()).toBe(want);
      m.dispose();
    }
    // t5-small's layout holds transformers' published 60,506,624 parameters (counted as declared, before any allocation)
    let count = 0;
    expect(() => new T5(rt, T5_SMALL, { validate: (ps) => { count = ps.list().reduce((a, p) => a + p.spec.shape.reduce((x, y) => x * y, 1), 0); throw new Error('counted'); } }))
      .toThrow('counted');
    expect(count).toBe(60_506_624);
    const m = new T5(rt, tiny({ nLayer: 2 }));
    const names = m.params.list().map((p) => `${p.name} [${p.spec.shape.join(',')}]`);
    expect(names).toEqual(expect.arrayContaining([
      'shared.weight [9,8]', 'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight [8,2]',
      'encoder.block.1.layer.0.SelfAttention.q.weight [8,8]', 'encoder.block.0.layer.0.SelfAttention.o.weight [8,8]',
      'encoder.block.0.layer.0.layer_norm.weight [8]', 'encoder.block.0.layer.1.DenseReluDense.wi.weight [16,8]',
      'encoder.block.0.layer.1.DenseReluDense.wo.weight [8,16]', 'encoder.block.1.layer.1.layer_norm.weight [8]', 'encoder.final_layer_norm.weight [8]',
      'decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight [8,2]', 'decoder.block.1.layer.1.EncDecAttention.k.weight [8,8]',
      'decoder.block.0.layer.1.layer_norm.weight [8]', 'decoder.block.1.layer.2.DenseReluDense.wo.weight [8,16]', 'decoder.final_layer_norm.weight [8]',
    ]));
    // one table per stack (its first block), no biases, no position embeddings, no lm_head when tied
    expect(names.filter((n) => n.includes('relative_attention_bias'))).toHaveLength(2);
    expect(names.some((n) => /\.bias \[|lm_head|position/.test(n))).toBe(false);
    expect(hfConfig(m)).toMatchObject({ model_type: 't5', d_kv: 4, num_heads: 2, relative_attention_num_buckets: 8, feed_forward_proj: 'relu', tie_word_embeddings: true });
    m.dispose();
  });

  it('gradients of the loss with padded sources and targets match finite differences (tied and untied, gelu and gated-gelu)', () => {
    for (const [tie, feedForward] of [[true, 'gelu'], [false, 'gelu'], [false, 'gated-gelu']] as const) {
      // erf GELU (transformers' 'gelu'): ReLU's kink breaks finite differences at ε
      const m = new T5(rt, tiny({ feedForward, tieWordEmbeddings: tie }), { seed: 5 });
      gradcheck(rt, () => {
        const src = ids([[3, 4, 5, 6, 7], [7, 8, 0, 0, 0]]);
        const tgtIn = ids([[0, 6, 5, 4], [0, 8, 7, 0]]);
        const tgtOut = ids([[6, 5, 4, 1], [8, 7, 1, 0]]);
        return m.forward(src, tgtIn, tgtOut).loss!;
      }, m.params.list().map((p) => p.value), { scalar: true, samples: 4, richardson: true });
      m.dispose();
    }
  });

  it('logits equal a plain-JS f64 transcription of Hugging Face T5 (encoder and decoder masks, both biases, tied and untied, v1.1\'s gated-gelu and d_kv · heads ≠ d_model)', () => {
    // the last: T5 v1.1-small's shape in small — untied, gated-gelu, heads of d_kv 6 whose 4 × 6 = 24 ≠ d_model 16
    for (const [tie, feedForward, dKv] of [[true, 'relu', 4], [false, 'relu', 4], [false, 'gated-gelu', 6]] as const) {
      const m = new T5(rt, tiny({ nLayer: 2, nDecoderLayer: 2, dModel: 16, nHead: 4, dKv, dFF: 24, tieWordEmbeddings: tie, feedForward }), { seed: 13 }).eval();
      // 12 target positions: the decoder's distances pass its exact range (4) into the log buckets
      const srcs = [[3, 4, 5, 6, 7, 8, 3], [8, 7, 0, 0, 0, 0, 0]], tgts = [[0, 6, 5, 4, 3, 8, 7, 6, 5, 4, 3, 2], [0, 8, 7, 1, 0, 0, 0, 0, 0, 0, 0, 0]];
      const got = rt.step.scope(() => rt.tape.noGrad(() => m.forward(ids(srcs), ids(tgts)).logits.f32().slice()));
      const V = 9, T = 12;
      let worst = 0;
      srcs.forEach((src, b) => {
        const want = referenceT5(m, src, tgts[b]!);
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[b * T * V + i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
      });
      // f32 against f64: sums of ≤ 24 terms per dot product through 4 blocks — 5.5e-7 (tied) and 2.4e-6
      // (untied: lm_head N(0, 1), larger logits) measured; 1e-4 leaves 40×, and any wrong term is O(1)
      expect(worst).toBeLessThan(1e-4);
      m.dispose();
    }
  });

  it.each([['v1.0', {}], ['v1.1-shaped (gated-gelu, untied, d_kv 6 × 4 heads ≠ d_model 16)', { feedForward: 'gated-gelu', tieWordEmbeddings: false, dKv: 6 }]] as const)(
    'cached decoding steps give the teacher-forcing logits at every position, and greedyDecode = argmax of the full forward: %s', (_, extra) => {
    // 8 buckets, max distance 12: targets of 10 tokens reach the decoder's logarithmic buckets
    const m = new T5(rt, tiny({ nLayer: 2, dModel: 16, nHead: 4, dFF: 32, ...extra }), { seed: 7 }).eval();
    const V = 9;
    expectCachedLikeFull(rt, m, (mm, s, t) => mm.forward(s, t).logits, ids, [3, 4, 5, 6, 0], [0, 8, 7, 6, 5, 4, 3, 2, 8, 7], V, 4);
    // generate: each token is the argmax of the full forward over the tokens before it (EOS never
    // chosen by this random model within 12 steps, so all 12 are compared)
    const sources = [[3, 4, 5, 6], [8, 7]];
    const out = greedyDecode(m, sources, { maxLength: 12 });
    sources.forEach((s, b) => {
      const seq = [0, ...out[b]!];
      const logits = rt.step.scope(() => rt.tape.noGrad(() => m.forward(ids([s]), ids([seq])).logits.f32().slice()));
      // decoding never emits pad (= the decoder's start id): the argmax over the other ids
      const argmaxAt = (p: number) => { let best = 1; for (let j = 2; j < V; j++) if (logits[p * V + j]! > logits[p * V + best]!) best = j; return best; };
      const want = out[b]!.map((_, p) => argmaxAt(p));
      expect(out[b]).toEqual(want);
      // beam search drives T5 as it does Seq2Seq: one beam without a length penalty is greedy
      expect(beamSearch(m, s, { beamSize: 1, maxLength: 12, lengthPenalty: 0 })[0]!.tokens).toEqual(out[b]);
      if (out[b]!.length < 12) expect(argmaxAt(out[b]!.length)).toBe(1);   // it stopped at EOS
    });
    m.dispose();
  });

  it('gradient checkpointing gives the same gradients bit for bit (the shared bias tables included)', () => {
    const grads = (every: number) => {
      const m = new T5(rt, tiny({ nLayer: 2, nDecoderLayer: 2, dropout: 0.1 }), { seed: 9, checkpoint: every });
      rt.step.scope(() => {
        const loss = m.forward(ids([[3, 4, 5, 6], [7, 8, 0, 0]]), ids([[0, 6, 5, 4], [0, 8, 7, 0]]), ids([[6, 5, 4, 1], [8, 7, 1, 0]])).loss!;
        rt.tape.backward(loss);
      });
      const g = m.params.list().map((p) => Float32Array.from(p.value.grad!.f32()));
      m.dispose();
      return g;
    };
    const plain = grads(0), checked = grads(1);
    expect(plain[1]!.some((x) => x !== 0)).toBe(true);   // the encoder's bias table gets a gradient
    checked.forEach((g, i) => expect(g).toEqual(plain[i]));
  });

  it('saveModel/loadModel round trip under the Hugging Face names; a file without our metadata loads given family and config', () => {
    const m = new T5(rt, tiny({ tieWordEmbeddings: false }), { seed: 11 }).eval();
    const logits = (x: T5) => rt.step.scope(() => rt.tape.noGrad(() => x.forward(ids([[3, 4, 5]]), ids([[0, 5, 4]])).logits.f32().slice()));
    const want = logits(m);
    const { model, report } = loadModel(rt, saveModel(m));
    expect(model.family).toBe('t5');
    expect(report).toEqual({ missing: [], ignored: [] });
    expect(logits((model as T5).eval())).toEqual(want);
    // transformers' own file layout: the same tensors plus the tied copies it writes
    const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    for (const p of m.params.list()) tensors[p.name] = { dtype: 'F32', shape: [...p.spec.shape], data: p.value.f32() };
    tensors['encoder.embed_tokens.weight'] = tensors['shared.weight']!;
    tensors['decoder.embed_tokens.weight'] = tensors['shared.weight']!;
    const hf = loadModel(rt, encodeSafetensors(tensors), { family: 't5', config: { ...tiny(), tieWordEmbeddings: false } });
    expect(hf.report.ignored.sort()).toEqual(['decoder.embed_tokens.weight', 'encoder.embed_tokens.weight']);
    expect(logits((hf.model as T5).eval())).toEqual(want);
    expect(() => loadModel(rt, encodeSafetensors(tensors), { family: 't5', config: { ...tiny(), relBuckets: 16 } }))
      .toThrow(/relative_attention_bias\.weight has shape \[8, 2\], the t5 config needs \[16, 2\]/);
    m.dispose(); model.dispose(); hf.model.dispose();
  });

  it('train() checkpoints at step 4 and resumes with exactly the uninterrupted losses (dropout on)', async () => {
    const make = () => new T5(rt, tiny({ dropout: 0.1 }), { seed: 4 });
    const batches = (m: T5) => seededBatches(11, (rng) => {
      const src = Array.from({ length: 6 }, () => Array.from({ length: 4 }, () => 2 + rng.int(7)));
      return { loss: m.forward(ids(src), ids(src.map((r) => [0, ...r])), ids(src.map((r) => [...r, 1]))).loss!, items: 6 * 5 };
    });
    const common = { steps: 8, lr: 3e-3, clip: 1 };
    const a = make(), optA = new AdamW(a.params);
    let at4: Uint8Array | null = null;
    const full = await train({ model: a, optimizer: optA, batches: batches(a), ...common, checkpoint: { every: 4, write: (b, step) => { if (step === 4) at4 = b.slice(); } } });
    expect(new Set(full.losses.map((l) => l.loss)).size).toBe(8);
    const b = make(), optB = new AdamW(b.params);
    const resumed = await train({ model: b, optimizer: optB, batches: batches(b), ...common, resume: at4! });
    expect(resumed.losses).toEqual(full.losses.slice(4));
    a.dispose(); b.dispose(); optA.dispose(); optB.dispose();
  });

  it('bad input: typed errors naming the value', () => {
    const bad: [Partial<T5Config>, RegExp][] = [
      [{ relBuckets: 33 }, /relBuckets is 33, expected an even integer ≥ 4/],
      [{ relBuckets: 2 }, /relBuckets is 2/],
      [{ relBuckets: 32, relMaxDistance: 16 }, /relMaxDistance is 16, expected an integer > relBuckets \/ 2 = 16/],
      [{ relMaxDistance: 12.5 }, /relMaxDistance is 12.5/],
      [{ dModel: 10, nHead: 4 }, /dModel = 10 is not divisible by nHead = 4/],
      [{ eosId: 9 }, /eosId is 9, expected an id in \[0, 9\)/],
      [{ decoderStartId: -1 }, /decoderStartId is -1/],
      [{ layerNormEps: 0 }, /layerNormEps is 0/],
      [{ feedForward: 'gated-silu' as 'gelu' }, /feedForward is "gated-silu", expected 'relu', 'gelu' or 'gated-gelu'/],
      [{ tieWordEmbeddings: 'yes' as unknown as boolean }, /tieWordEmbeddings is "yes"/],
      [{ dropout: 1 }, /dropout is 1/],
    ];
    for (const [cfg, re] of bad) expect(() => t5Config(tiny(cfg)), re.source).toThrow(re);
    expect(() => t5Config(tiny({ dModel: 10, nHead: 4 }))).toThrow(ShapeError);
    expect(() => t5Config(tiny({ relBuckets: 7 }))).toThrow(ValueError);
    expect(() => loadModel(rt, encodeSafetensors({}, { family: 't5', config: JSON.stringify({ ...tiny(), relBucket: 8 }) }))).toThrow(CheckpointError);
    // the bias pieces on their own
    const table = rt.zeros([8, 2]);
    rt.step.scope(() => {
      const b = (v: number[]) => rt.tensor(v, [v.length], { dtype: 'i32', arena: 'step' });
      expect(() => relBiasGather(rt, rt.empty([2, 3], { arena: 'step' }), table, b([0, 8, 1]))).toThrow(/bucket 8 at relative position 1 is outside the table's 8 buckets/);
      expect(() => relBiasGather(rt, rt.empty([3, 3], { arena: 'step' }), table, b([0, 1, 2]))).toThrow(/bias has shape \[3, 3\], expected \[2, 3\]/);
    });
    expect(() => checkBucketing('bias', { buckets: 8, maxDistance: 3, bidirectional: true })).toThrow(/max distance is 3, expected an integer > buckets \/ 2 = 4/);
    expect(() => checkBucketing('bias', { buckets: 6.5, maxDistance: 30, bidirectional: true })).toThrow(/buckets is 6.5/);
    rt.free(table);
    // the model's calls
    const m = new T5(rt, tiny());
    rt.step.scope(() => {
      expect(() => m.forward(ids([[3, 4]]), ids([[0, 3, 4]]), ids([[3, 4]]))).toThrow(/tgtOut has shape \[1, 2\], tgtIn has \[1, 3\]/);
      expect(() => m.forward(ids([[3, 9]]), ids([[0]]))).toThrow(/src id 9 at \[0, 1\] is outside \[0, 9\)/);
      expect(() => m.forward(ids([[3], [4]]), ids([[0]]))).toThrow(/source batch has 2 sequences but target batch 1/);
    });
    expect(() => greedyDecode(m, [[3]], { maxLength: 0 })).toThrow(/maxLength is 0, expected an integer in \[1, 512\] \(T5_MAX_DECODE_LENGTH\)/);
    expect(() => greedyDecode(m, [[]], { maxLength: 3 })).toThrow(/source 0 is empty/);
    m.dispose();
  });
});

describe('T5 learns a seq2seq task beside the original Transformer', () => {
  it('sorting digit strings: held-out exact match of T5 and of Seq2Seq on the same budget', () => {
    // Sorting strings of 1 … 8 digits (the example's data and its held-out 10% by hash), greedy
    // decoding of 300 held-out strings. Both models: 2 + 2 layers, d 64, 4 heads, d_ff 256, no
    // dropout, AdamW (0.9, 0.98), lr 2e-3 after 100 warm-up steps, clip 1, 400 steps of 32.
    // Measured (simd build, one thread: the same bits on every x86 machine): T5 50.7%, Seq2Seq
    // 52.7% (600 steps: 64% and 62%). On the example's task, reversing, the same recipe gives T5
    // 19% against 91% (1200 steps: 63% against 94%): reversal maps absolute positions, which the
    // sinusoids hand the original Transformer and T5's relative bias does not; sorting needs none.
    const maxLen = 8, steps = 400, batch = 32;
    const sorted = (src: number[]): Pair => ({ src, tgt: [...src].sort((a, b) => a - b) });
    const sample = (rng: Rng, split: 'train' | 'test'): Pair => {
      for (;;) {
        const src = Array.from({ length: 1 + rng.int(maxLen) }, () => 3 + rng.int(10));
        if (isHeldOut(src) === (split === 'test')) return sorted(src);
      }
    };
    const testRng = new Rng(99);
    const pairs = Array.from({ length: 300 }, () => sample(testRng, 'test'));
    const dims = { nLayer: 2, nHead: 4, dModel: 64, dFF: 256, dropout: 0 };
    const run = (kind: 't5' | 'seq2seq') => {
      const model = kind === 't5'
        ? new T5(rt, { ...dims, vocabSize: VOCAB, padId: PAD, eosId: EOS, decoderStartId: PAD }, { seed: 1 })
        : new Seq2Seq(rt, { ...dims, srcVocabSize: VOCAB, tgtVocabSize: VOCAB, maxPositions: maxLen + 2, norm: 'post', activation: 'relu', padId: PAD, bosId: 1, eosId: EOS }, { seed: 1 });
      const opt = new AdamW(model.params, { betas: [0.9, 0.98], eps: 1e-9, weightDecay: 0 });
      const rng = new Rng(1);
      let last = Infinity;
      for (let step = 0; step < steps; step++) {
        const b = padBatch(Array.from({ length: batch }, () => sample(rng, 'train')));
        // T5 starts the decoder from padId (its convention), the original Transformer from BOS
        const tgtIn = kind === 't5' ? b.tgtIn.map((v, i) => (i % b.T === 0 ? PAD : v)) : b.tgtIn;
        const t = (d: Int32Array, T: number) => rt.tensor(d, [b.B, T], { dtype: 'i32', arena: 'step' });
        last = trainStep(model, opt, () => model.forward(t(b.src, b.S), t(tgtIn, b.T), t(b.tgtOut, b.T)).loss!,
          { step, lr: 2e-3 * Math.min(1, (step + 1) / 100), clip: 1 }).loss;
      }
      const out = greedyDecode(model as T5 | Seq2Seq, pairs.map((p) => p.src), { maxLength: maxLen + 1 });
      model.dispose(); opt.dispose();
      return { last, exact: out.filter((o, i) => o.join() === pairs[i]!.tgt.join()).length / pairs.length };
    };
    const t5 = run('t5'), s2s = run('seq2seq');
    console.log(`sorting, ${steps} steps of ${batch}: T5 loss ${t5.last.toFixed(3)}, held-out exact match ${t5.exact}; Seq2Seq loss ${s2s.last.toFixed(3)}, exact match ${s2s.exact}`);
    expect(pairs.every((p) => isHeldOut(p.src))).toBe(true);
    // chance is ≈ 0 (a held-out string of up to 8 digits sorted exactly); margins of ~5 points below the measured run
    expect(t5.exact).toBeGreaterThanOrEqual(0.45);
    expect(s2s.exact).toBeGreaterThanOrEqual(0.45);
    expect(t5.exact).toBeGreaterThan(s2s.exact - 0.1);                  // on a par with the original Transformer here
  }, 120_000);
});

/**
 * Hugging Face's T5ForConditionalGeneration forward (eval), transcribed in f64 from its
 * definition over the model's parameters read by their HF names: logits (T, V) of one pair.
 * Source padding is hidden from encoder self-attention and cross-attention; the decoder is causal.
 */
function referenceT5(m: T5, src: number[], tgt: number[]): Float64Array {
  const c = m.config, C = c.dModel, H = c.nHead, hs = c.dKv, D = H * hs;    // D: all heads' width (d_kv · n_heads, not always C)
  const byName = new Map(m.params.list().map((p) => [p.name, p.value.f32()]));
  const W = (name: string) => { const w = byName.get(name); if (!w) throw new Error(`no parameter ${name}`); return w; };
  type Rows = Float64Array[];
  const embed = (idsRow: number[]): Rows => idsRow.map((id) => Float64Array.from(W('shared.weight').subarray(id * C, (id + 1) * C)));
  const rms = (x: Rows, w: Float32Array): Rows => x.map((r) => {
    const ms = r.reduce((a, v) => a + v * v, 0) / r.length;
    return r.map((v, i) => (v / Math.sqrt(ms + c.layerNormEps)) * w[i]!);
  });
  const lin = (x: Rows, w: Float32Array, out: number): Rows => x.map((r) => Float64Array.from({ length: out }, (_, o) => r.reduce((a, v, i) => a + w[o * r.length + i]! * v, 0)));
  const add = (x: Rows, y: Rows): Rows => x.map((r, t) => r.map((v, i) => v + y[t]![i]!));
  const attn = (p: string, xq: Rows, xkv: Rows, bias: ((qi: number, kj: number, h: number) => number) | null, causal: boolean, keyOk: boolean[]): Rows => {
    const [q, k, v] = ['q', 'k', 'v'].map((n) => lin(n === 'q' ? xq : xkv, W(`${p}.${n}.weight`), D)) as [Rows, Rows, Rows];
    const out = xq.map(() => new Float64Array(D));
    for (let h = 0; h < H; h++) {
      xq.forEach((_, i) => {
        // T5: no 1/√d_kv scale; the position bias is added to the raw scores
        const s = xkv.map((__, j) => {
          if (!keyOk[j] || (causal && j > i)) return -Infinity;
          let dot = 0;
          for (let d = 0; d < hs; d++) dot += q[i]![h * hs + d]! * k[j]![h * hs + d]!;
          return dot + (bias ? bias(i, j, h) : 0);
        });
        const mx = Math.max(...s), e = s.map((x) => Math.exp(x - mx)), z = e.reduce((a, x) => a + x, 0);
        e.forEach((pj, j) => { for (let d = 0; d < hs; d++) out[i]![h * hs + d]! += (pj / z) * v[j]![h * hs + d]!; });
      });
    }
    return lin(out, W(`${p}.o.weight`), C);
  };
  const relBias = (stack: string, bidirectional: boolean) => {
    const table = W(`${stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight`);
    const b = { buckets: c.relBuckets, maxDistance: c.relMaxDistance, bidirectional };
    return (i: number, j: number, h: number) => table[relativePositionBucket(j - i, b) * H + h]!;
  };
  // v1.0: wo(relu(wi·x)); v1.1 / Flan-T5 (T5DenseGatedActDense): wo(gelu_new(wi_0·x) ⊙ wi_1·x), gelu_new the tanh GELU
  const geluNew = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  const ffn = (p: string, x: Rows) => {
    const d = `${p}.DenseReluDense`;
    if (c.feedForward !== 'gated-gelu') return lin(lin(x, W(`${d}.wi.weight`), c.dFF).map((r) => r.map((v) => Math.max(v, 0))), W(`${d}.wo.weight`), C);
    const up = lin(x, W(`${d}.wi_1.weight`), c.dFF);
    return lin(lin(x, W(`${d}.wi_0.weight`), c.dFF).map((r, t) => r.map((v, i) => geluNew(v) * up[t]![i]!)), W(`${d}.wo.weight`), C);
  };
  const srcOk = src.map((id) => id !== c.padId), all = tgt.map(() => true);
  let x = embed(src);
  for (let l = 0; l < c.nLayer; l++) {
    const p = `encoder.block.${l}`;
    x = add(x, attn(`${p}.layer.0.SelfAttention`, rms(x, W(`${p}.layer.0.layer_norm.weight`)), rms(x, W(`${p}.layer.0.layer_norm.weight`)), relBias('encoder', true), false, srcOk));
    x = add(x, ffn(`${p}.layer.1`, rms(x, W(`${p}.layer.1.layer_norm.weight`))));
  }
  const memory = rms(x, W('encoder.final_layer_norm.weight'));
  let y = embed(tgt);
  for (let l = 0; l < c.nDecoderLayer; l++) {
    const p = `decoder.block.${l}`;
    const n0 = rms(y, W(`${p}.layer.0.layer_norm.weight`));
    y = add(y, attn(`${p}.layer.0.SelfAttention`, n0, n0, relBias('decoder', false), true, all));
    y = add(y, attn(`${p}.layer.1.EncDecAttention`, rms(y, W(`${p}.layer.1.layer_norm.weight`)), memory, null, false, srcOk));
    y = add(y, ffn(`${p}.layer.2`, rms(y, W(`${p}.layer.2.layer_norm.weight`))));
  }
  let h = rms(y, W('decoder.final_layer_norm.weight'));
  if (c.tieWordEmbeddings) h = h.map((r) => r.map((v) => v * C ** -0.5));
  const logits = lin(h, W(c.tieWordEmbeddings ? 'shared.weight' : 'lm_head.weight'), c.vocabSize);
  return Float64Array.from(logits.flatMap((r) => [...r]));
}
