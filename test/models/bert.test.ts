// The BERT model: config checks, the parameter table (Hugging Face names, shapes, closed-form
// count), the gradient of the whole model by finite differences for both heads, padding
// invariance, the MLM masking statistics, safetensors round trips with Hugging Face names,
// attention maps, and typed errors for bad input.
import { describe, expect, it } from 'vitest';
import {
  attentionMaps, CheckpointError, createRuntime, decodeSafetensors, loadModel, saveModel, type SafetensorsFile, DTypeError, encodeSafetensors, f16ToF32, f32ToF16, Rng, ShapeError, TokenError, ValueError,
  type Tensor,
} from '../../src/index.js';
import { BERT, BERT_BASE, bertConfig, type BertConfig } from '../../src/models/bert.js';
import { maskTokens } from '../../src/data/masking.js';
import { gradcheck } from '../helpers/gradcheck.js';

const rt = await createRuntime({ variant: 'simd' });

const tiny: Partial<BertConfig> = { vocabSize: 13, maxPositions: 8, nLayer: 2, nHead: 2, dModel: 8, numLabels: 3, dropout: 0 };
const ids32 = (values: number[], shape: number[], arena: 'step' | 'persistent' = 'step'): Tensor => rt.tensor(values, shape, { dtype: 'i32', arena });

/**
 * Closed-form parameter count. V vocab, P positions, S segment types, L layers, C width,
 * F feed-forward width, K labels:
 *   embeddings  V·C + P·C + S·C + 2C                       (three tables, LayerNorm)
 *   per layer   4(C² + C) + 2C + (C·F + F) + (F·C + C) + 2C (q, k, v, o; LN; intermediate; output; LN)
 *   pre-norm    + 2C                                       (bert.encoder.LayerNorm)
 *   pooler      C² + C
 *   MLM head    V + (C² + C) + 2C                          (decoder bias; transform dense, LN; decoder weight tied)
 *   classifier  C·K + K
 */
function bertParams(c: BertConfig): number {
  const { vocabSize: V, maxPositions: P, typeVocabSize: S, nLayer: L, dModel: C, dFF: F, numLabels: K } = c;
  const layer = 4 * (C * C + C) + 2 * C + (C * F + F) + (F * C + C) + 2 * C;
  return V * C + P * C + S * C + 2 * C + L * layer + (c.norm === 'pre' ? 2 * C : 0) + (C * C + C) + (V + C * C + C + 2 * C) + (C * K + K);
}

describe('BERT config and parameters', () => {
  it('defaults to bert-base and derives dFF = 4·dModel', () => {
    expect(bertConfig()).toMatchObject({ vocabSize: 30522, maxPositions: 512, typeVocabSize: 2, nLayer: 12, dModel: 768, dFF: 3072, layerNormEps: 1e-12, norm: 'post' });
    expect(bertConfig({ dModel: 64, nHead: 4 }).dFF).toBe(256);
  });

  it('rejects configs that do not fit, naming the numbers', () => {
    expect(() => bertConfig({ dModel: 66, nHead: 4 })).toThrow(/BERT config: dModel = 66 is not divisible by nHead = 4/);
    expect(() => bertConfig({ numLabels: 0 })).toThrow(ValueError);
    expect(() => bertConfig({ typeVocabSize: 1.5 })).toThrow(/typeVocabSize is 1.5/);
    expect(() => bertConfig({ dropout: 1 })).toThrow(/dropout is 1/);
    expect(() => bertConfig({ norm: 'sandwich' as 'pre' })).toThrow(/norm is sandwich/);
    expect(() => bertConfig({ activation: 'tanh' as 'gelu' })).toThrow(`activation is "tanh", expected 'gelu', 'gelu_erf', 'relu'`);
  });

  it('the closed form gives bert-base-uncased\'s published BertModel size', () => {
    // BertModel (embeddings, encoder, pooler) of bert-base-uncased has 109,482,240 parameters;
    // the MLM head adds V + C² + 3C and a two-label classifier 2C + 2 (= BertForPreTraining's 110,106,428).
    const base = bertConfig();
    const heads = (base.vocabSize + base.dModel ** 2 + 3 * base.dModel) + (2 * base.dModel + 2);
    expect(bertParams(base) - heads).toBe(109_482_240);
    expect(bertParams(base)).toBe(110_106_428);
  });

  it('has Hugging Face names and shapes for every parameter, and numParams matches the formula', () => {
    const model = new BERT(rt, { ...tiny, dModel: 16, nHead: 4, dFF: 24 });
    const [V, P, C, F, K] = [13, 8, 16, 24, 3];
    const layer = (i: number) => {
      const p = `bert.encoder.layer.${i}`;
      return [
        `${p}.attention.self.query.weight [${C},${C}]`, `${p}.attention.self.query.bias [${C}]`,
        `${p}.attention.self.key.weight [${C},${C}]`, `${p}.attention.self.key.bias [${C}]`,
        `${p}.attention.self.value.weight [${C},${C}]`, `${p}.attention.self.value.bias [${C}]`,
        `${p}.attention.output.dense.weight [${C},${C}]`, `${p}.attention.output.dense.bias [${C}]`,
        `${p}.attention.output.LayerNorm.weight [${C}]`, `${p}.attention.output.LayerNorm.bias [${C}]`,
        `${p}.intermediate.dense.weight [${F},${C}]`, `${p}.intermediate.dense.bias [${F}]`,
        `${p}.output.dense.weight [${C},${F}]`, `${p}.output.dense.bias [${C}]`,
        `${p}.output.LayerNorm.weight [${C}]`, `${p}.output.LayerNorm.bias [${C}]`,
      ];
    };
    expect(model.params.list().map((p) => `${p.name} [${p.spec.shape.join(',')}]`)).toEqual([
      `bert.embeddings.word_embeddings.weight [${V},${C}]`, `bert.embeddings.position_embeddings.weight [${P},${C}]`,
      `bert.embeddings.token_type_embeddings.weight [2,${C}]`,
      `bert.embeddings.LayerNorm.weight [${C}]`, `bert.embeddings.LayerNorm.bias [${C}]`,
      ...layer(0), ...layer(1),
      `bert.pooler.dense.weight [${C},${C}]`, `bert.pooler.dense.bias [${C}]`,
      `cls.predictions.bias [${V}]`,
      `cls.predictions.transform.dense.weight [${C},${C}]`, `cls.predictions.transform.dense.bias [${C}]`,
      `cls.predictions.transform.LayerNorm.weight [${C}]`, `cls.predictions.transform.LayerNorm.bias [${C}]`,
      `classifier.weight [${K},${C}]`, `classifier.bias [${K}]`,
    ]);
    expect(model.numParams()).toBe(bertParams(model.config));
    const pre = new BERT(rt, { ...tiny, norm: 'pre', numLabels: 5 });
    expect(pre.params.get('bert.encoder.LayerNorm.weight')!.spec.shape).toEqual([8]);
    expect(pre.numParams()).toBe(bertParams(pre.config));
  });
});

/** Two sequences of T = 6: the second padded after 4 tokens; MLM labels on 4 positions. */
function tinyBatch() {
  const ids = ids32([1, 5, 7, 9, 11, 2, 1, 6, 8, 2, 0, 0], [2, 6], 'persistent');
  const types = ids32([0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0], [2, 6], 'persistent');
  const mask = ids32([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0], [2, 6], 'persistent');
  const mlmLabels = ids32([-100, 4, -100, 12, -100, -100, -100, -100, 3, -100, -100, -100], [2, 6], 'persistent');
  const classLabels = ids32([2, 0], [2], 'persistent');
  return { ids, types, mask, mlmLabels, classLabels };
}

describe('BERT forward and backward', () => {
  const variants: [string, Partial<BertConfig>][] = [
    ['post-norm (BERT)', {}],
    ['pre-norm', { norm: 'pre' }],
    ['with dropout 0.2 (the same seeds every evaluation)', { dropout: 0.2 }],
    ["erf GELU (transformers' \"gelu\")", { activation: 'gelu_erf' }],
  ];
  it.each(variants)('whole-model gradient by finite differences, MLM and classification heads with padding: %s', (_n, extra) => {
    const model = new BERT(rt, { ...tiny, ...extra }, { seed: 3 });
    // 3× BERT's 0.02 init, as the GPT check does: every path then carries a gradient well above
    // the f32 rounding noise of the loss; Richardson extrapolation removes the ε² error of ε = 1e-2.
    const flat = model.params.flat.f32();
    for (let i = 0; i < flat.length; i++) flat[i] = flat[i]! * 3;
    const b = tinyBatch();
    const rngState = model.ctx.rng.getState();
    const params = model.params.list().map((p) => p.value);
    const inputs = { tokenTypes: b.types, attentionMask: b.mask };
    gradcheck(rt, () => {
      model.ctx.rng.setState(rngState);
      return model.mlm(b.ids, b.mlmLabels, inputs).loss!;
    }, params, { scalar: true, samples: 5, eps: 1e-2, richardson: true });
    gradcheck(rt, () => {
      model.ctx.rng.setState(rngState);
      return model.classify(b.ids, b.classLabels, inputs).loss!;
    }, params, { scalar: true, samples: 5, eps: 1e-2, richardson: true });
  });

  it('the MLM head on the gathered rows equals the head on every position at those rows', () => {
    const model = new BERT(rt, tiny, { seed: 5 }).eval();
    const b = tinyBatch();
    rt.step.scope(() => rt.tape.noGrad(() => {
      const gathered = model.mlm(b.ids, b.mlmLabels, { attentionMask: b.mask });
      const all = model.mlm(b.ids, b.mlmLabels, { attentionMask: b.mask, allPositions: true });
      expect(Array.from(gathered.positions!)).toEqual([1, 3, 8]);
      expect(all.positions).toBeNull();
      expect(all.logits.shape).toEqual([2, 6, 13]);
      const g = gathered.logits.f32(), a = all.logits.f32();
      gathered.positions!.forEach((pos, r) => {
        // the same row through the same kernels: GEMM rows do not depend on the other rows, so exact
        expect(Array.from(g.subarray(r * 13, r * 13 + 13))).toEqual(Array.from(a.subarray(pos * 13, pos * 13 + 13)));
      });
      expect(gathered.loss!.item()).toBeCloseTo(all.loss!.item(), 6);
    }));
  });

  it('padding changes nothing: logits of a padded batch equal each sequence run alone', () => {
    const model = new BERT(rt, { ...tiny, vocabSize: 20, maxPositions: 12, dModel: 16, nHead: 4, initStd: 0.3 }, { seed: 7 }).eval();
    const seqs = [[1, 5, 9, 13, 2], [1, 6, 7, 8, 10, 11, 12, 2], [1, 19, 2]];
    const T = 8;
    const ids: number[] = [], mask: number[] = [];
    for (const s of seqs) for (let t = 0; t < T; t++) {
      ids.push(s[t] ?? 0);
      mask.push(t < s.length ? 1 : 0);
    }
    rt.step.scope(() => rt.tape.noGrad(() => {
      const inputs = { attentionMask: ids32(mask, [3, T]) };
      const cls = model.classify(ids32(ids, [3, T]), null, inputs).logits.toArray();      // (3, K)
      const mlm = model.mlm(ids32(ids, [3, T]), null, inputs).logits.f32().slice();        // (3, T, V)
      seqs.forEach((s, b) => {
        const alone = { cls: model.classify(ids32(s, [1, s.length])).logits.toArray(), mlm: model.mlm(ids32(s, [1, s.length]), null).logits.toArray() };
        // Padded keys get probability exactly 0 (exp(−∞)), so attention sums the same terms; what
        // differs is only the GEMMs' blocking for other row counts, i.e. the order of f32 sums:
        // a few u = 6e-8 per op through ~20 ops and LayerNorms; measured ≤ 8.3e-7 of the logits'
        // size, allowed 1e-5. A padding leak changes logits by O(0.1–1).
        const tol = (ref: ArrayLike<number>) => 1e-5 * Math.max(1, ...Array.from(ref, Math.abs));
        expect(maxDiff(cls.slice(b * 3, b * 3 + 3), alone.cls)).toBeLessThan(tol(alone.cls));
        expect(maxDiff(Array.from(mlm.subarray(b * T * 20, (b * T + s.length) * 20)), alone.mlm)).toBeLessThan(tol(alone.mlm));
      });
    }));
  });

  it('dropout is active in training only: eval forwards repeat exactly, training forwards differ', () => {
    const model = new BERT(rt, { ...tiny, dropout: 0.5 }, { seed: 9 });
    const logits = () => rt.step.scope(() => rt.tape.noGrad(() => model.classify(ids32([1, 5, 6, 2], [1, 4])).logits.toArray()));
    model.eval();
    const a = logits();
    expect(logits()).toEqual(a);
    model.train();
    const b = logits();
    expect(logits()).not.toEqual(b);
    expect(b).not.toEqual(a);
  });

  it('keeps attention maps: rows sum to 1, padded keys get 0, one map per layer', () => {
    const model = new BERT(rt, tiny, { seed: 2 }).eval();
    model.keepAttention();
    const b = tinyBatch();
    rt.step.scope(() => rt.tape.noGrad(() => model.encode(b.ids, { attentionMask: b.mask })));
    const maps = attentionMaps(model, { batchIndex: 1, labels: ['[CLS]', 'a', 'b', '[SEP]', '[PAD]', '[PAD]'] });
    expect(maps).toMatchObject({ layers: 2, heads: 2, tq: 6, tk: 6, layerNames: ['encoder.0', 'encoder.1'] });
    for (let r = 0; r < 2 * 2 * 6; r++) {
      const row = maps.data.subarray(r * 6, r * 6 + 6);
      expect(row[4]).toBe(0);
      expect(row[5]).toBe(0);
      expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    }
    model.keepAttention(false);
    expect(() => attentionMaps(model)).toThrow(/no attention kept by encoder.0; call keepAttention\(\) before the forward/);
  });
});

describe('maskTokens', () => {
  // Specials: 0 [PAD], 1 [CLS], 2 [SEP], 3 [MASK]; normal tokens 4..29 (26 of them).
  const V = 30, normal = V - 4;
  const opts = (seed: number, seqLen: number) => ({ seqLen, rng: new Rng(seed), maskId: 3, vocabSize: V, specialIds: [0, 1, 2] });

  it('selects 15% of the ordinary tokens and splits them 80/10/10, within binomial bounds', () => {
    const B = 2000, T = 128;
    const ids = new Int32Array(B * T);
    const r = new Rng(1);
    for (let b = 0; b < B; b++) {
      const len = 100 + r.int(27);                                  // then [SEP] and padding
      ids[b * T] = 1;
      for (let t = 1; t < len; t++) ids[b * T + t] = 4 + r.int(normal);
      ids[b * T + len] = 2;
    }
    const { inputs, labels } = maskTokens(ids, opts(2, T));
    let eligible = 0, selected = 0, masked = 0, same = 0, other = 0;
    const faults: string[] = [];                                      // collected: one expect per element is slow
    for (let i = 0; i < ids.length; i++) {
      if (ids[i]! >= 4) eligible++;
      if (labels[i] === -100) {
        if (inputs[i] !== ids[i]) faults.push(`unselected ${i} changed`);
        continue;
      }
      selected++;
      if (ids[i]! < 4) faults.push(`special ${ids[i]} at ${i} selected`);
      if (labels[i] !== ids[i]) faults.push(`label ${labels[i]} at ${i} is not the original ${ids[i]}`);
      if (inputs[i] === 3) masked++;
      else if (inputs[i] === ids[i]) same++;
      else {
        other++;
        if (inputs[i]! < 4) faults.push(`replacement ${inputs[i]} at ${i} is special`);
      }
    }
    expect(faults.slice(0, 5)).toEqual([]);
    // Each bound is 5 binomial standard deviations (a false alarm about once in 1.7 million runs).
    const within = (k: number, n: number, p: number) => expect(Math.abs(k / n - p)).toBeLessThan(5 * Math.sqrt(p * (1 - p) / n));
    within(selected, eligible, 0.15);                                 // n ≈ 226,000: ±0.0038
    within(masked, selected, 0.8);
    // A random replacement draws the original token itself 1 time in 26: it then looks unchanged.
    within(same, selected, 0.1 + 0.1 / normal);
    within(other, selected, 0.1 * (1 - 1 / normal));
  });

  it('selects at least one token in every sequence, even when the draw selects none', () => {
    // 5000 sequences with 2 ordinary tokens each: 0.85² = 72% of them draw none.
    const T = 4, B = 5000;
    const ids = new Int32Array(B * T);
    for (let b = 0; b < B; b++) ids.set([1, 4 + (b % 26), 4 + ((b * 7) % 26), 2], b * T);
    const { labels } = maskTokens(ids, opts(3, T));
    let forced = 0, none = 0, specials = 0;
    for (let b = 0; b < B; b++) {
      const n = [1, 2].filter((t) => labels[b * T + t] !== -100).length;
      if (n === 0) none++;
      if (n === 1) forced++;
      if (labels[b * T] !== -100 || labels[b * T + 3] !== -100) specials++;
    }
    expect(none).toBe(0);
    expect(specials).toBe(0);
    expect(forced).toBeGreaterThan(B / 2);
  });

  it('rejects what it cannot mask, naming the numbers', () => {
    expect(() => maskTokens(Int32Array.of(1, 0, 0, 2), opts(1, 4))).toThrow(/sequence 0 has only special tokens/);
    expect(() => maskTokens(Int32Array.of(1, 5, 6), opts(1, 2))).toThrow(/3 ids do not split into sequences of seqLen = 2/);
    expect(() => maskTokens(Int32Array.of(1, 30), opts(1, 2))).toThrow(/id 30 at \[0, 1\] is outside \[0, 30\)/);
    expect(() => maskTokens(Int32Array.of(1, 5), { ...opts(1, 2), prob: 0 })).toThrow(/prob is 0/);
  });
});

describe('BERT weights with Hugging Face names (saveModel / loadModel)', () => {
  const hf = { family: 'bert' as const, config: tiny };
  const same = (a: BERT, b: BERT) => expect(Array.from(b.params.flat.f32())).toEqual(Array.from(a.params.flat.f32()));
  const load = (file: Uint8Array | SafetensorsFile, opts = {}) => {
    const { model, report } = loadModel(rt, file, { ...hf, ...opts });
    return { other: model as BERT, report };
  };

  it('round-trips through safetensors bytes under Hugging Face names, the tied decoder saved once', () => {
    const model = new BERT(rt, tiny, { seed: 1 });
    const bytes = saveModel(model);
    const file = decodeSafetensors(bytes);
    expect([...file.tensors.keys()]).toEqual(model.params.list().map((p) => p.name));
    expect(file.tensors.has('cls.predictions.decoder.weight')).toBe(false);
    expect(JSON.parse(file.metadata.config!)).toEqual(model.config);
    const { other, report } = load(bytes);
    same(model, other);
    expect(report).toEqual({ missing: [], ignored: [] });
  });

  it('loads a BertModel-style file (no `bert.` prefix, no metadata) with Hugging Face extras, and legacy gamma/beta names', () => {
    const model = new BERT(rt, tiny, { seed: 1 });
    const tensors: Record<string, { dtype: 'F32' | 'I32'; shape: number[]; data: Float32Array | Int32Array }> = {};
    for (const p of model.params.list()) {
      const name = p.name.replace(/^bert\./, '').replace(/embeddings\.LayerNorm\.weight$/, 'embeddings.LayerNorm.gamma');
      tensors[name] = { dtype: 'F32', shape: [...p.spec.shape], data: p.value.f32().slice() };
    }
    tensors['embeddings.position_ids'] = { dtype: 'I32', shape: [1, 8], data: Int32Array.from({ length: 8 }, (_, i) => i) };
    tensors['cls.predictions.decoder.weight'] = { ...tensors['embeddings.word_embeddings.weight']! };
    tensors['cls.seq_relationship.weight'] = { dtype: 'F32', shape: [2, 8], data: new Float32Array(16) };
    const { other, report } = load(encodeSafetensors(tensors));
    same(model, other);
    expect(report.ignored.sort()).toEqual(['cls.predictions.decoder.weight', 'cls.seq_relationship.weight', 'embeddings.position_ids']);
  });

  it('loads F16 files (values rounded to half precision)', () => {
    const model = new BERT(rt, tiny, { seed: 1 });
    const { other } = load(f16File(model));
    const want = Float32Array.from(model.params.flat.f32(), (x) => f16ToF32(f32ToF16(x)));
    expect(Array.from(other.params.flat.f32())).toEqual(Array.from(want));
  });

  it('reports missing heads, and refuses missing encoder weights, wrong shapes and ints, holding no memory after', () => {
    const model = new BERT(rt, tiny, { seed: 1 });
    const all = decodeSafetensors(saveModel(model)).tensors;
    const without = (re: RegExp) => new Map([...all].filter(([n]) => !re.test(n)));
    // a BertForMaskedLM file has no classifier (nor pooler): those keep their initialisation (seeded)
    const { other: masked, report } = load({ tensors: without(/^classifier\./), metadata: {} }, { seed: 5 });
    expect(report.missing).toEqual(['classifier.weight', 'classifier.bias']);
    expect(masked.classifier.weight.value.toArray()).toEqual(new BERT(rt, tiny, { seed: 5 }).classifier.weight.value.toArray());
    expect(masked.pooler.weight.value.toArray()).toEqual(model.pooler.weight.value.toArray());
    expect(() => load({ tensors: without(/^classifier\./), metadata: {} }, { strict: true })).toThrow(/classifier.weight .* is missing/);

    const used = rt.memoryReport().persistent.usedBytes;
    expect(() => load({ tensors: without(/layer\.1\.output\.dense\.bias/), metadata: {} }))
      .toThrow(/bert parameter bert.encoder.layer.1.output.dense.bias \(shape \[8\]\) is missing/);
    const bad = new Map(all);
    bad.set('bert.pooler.dense.weight', { dtype: 'F32', shape: [8, 7], data: new Float32Array(56) });
    expect(() => load({ tensors: bad, metadata: {} })).toThrow(CheckpointError);
    expect(() => load({ tensors: bad, metadata: {} })).toThrow(/bert.pooler.dense.weight has shape \[8, 7\], the bert config needs \[8, 8\]/);
    const ints = new Map(all);
    ints.set('cls.predictions.bias', { dtype: 'I32', shape: [13], data: new Int32Array(13) });
    expect(() => load({ tensors: ints, metadata: {} })).toThrow(/cls.predictions.bias has dtype I32/);
    expect(rt.memoryReport().persistent.usedBytes).toBe(used);
  });
});

describe('BERT bad input', () => {
  const model = new BERT(rt, { ...tiny, numLabels: 3 });
  const ok = () => ids32([1, 5, 6, 2, 1, 7, 2, 0], [2, 4]);

  it('ids, token types and labels outside their ranges: TokenError / ValueError with the position', () => {
    expect(() => model.encode(ids32([1, 5, 13, 2], [1, 4]))).toThrow(TokenError);
    expect(() => model.encode(ids32([1, 5, 6, 2, 1, 7, -1, 0], [2, 4]))).toThrow(/token id -1 at \[1, 2\] is outside \[0, 13\)/);
    expect(() => model.encode(ok(), { tokenTypes: ids32([0, 0, 1, 2, 0, 0, 0, 0], [2, 4]) })).toThrow(/token type 2 at \[0, 3\] is outside \[0, 2\)/);
    expect(() => model.classify(ok(), ids32([0, 3], [2]))).toThrow(ValueError);
    expect(() => model.classify(ok(), ids32([0, 3], [2]))).toThrow(/class label 3 of sequence 1 is outside \[0, numLabels = 3\)/);
    expect(() => model.classify(ok(), ids32([0, 1, 2], [3]))).toThrow(/class labels have shape \[3\], expected \[2\]/);
    const mlmLabels = ids32([-100, 13, -100, -100, -100, -100, -100, -100], [2, 4]);
    expect(() => model.mlm(ok(), mlmLabels)).toThrow(TokenError);
    expect(() => model.mlm(ok(), mlmLabels)).toThrow(/MLM label 13 at \[0, 1\] is outside \[0, 13\)/);
    expect(() => model.mlm(ok(), ids32(new Array(8).fill(-100), [2, 4]))).toThrow(/all 8 MLM labels are −100/);
  });

  it('masks of the wrong shape, dtype or values', () => {
    expect(() => model.encode(ok(), { attentionMask: ids32([1, 1, 1, 1], [1, 4]) })).toThrow(ShapeError);
    expect(() => model.encode(ok(), { attentionMask: ids32([1, 1, 1, 1], [1, 4]) })).toThrow(/attentionMask has shape \[1, 4\], expected \[2, 4\]/);
    expect(() => model.encode(ok(), { attentionMask: rt.tensor(new Array(8).fill(1), [2, 4], { arena: 'step' }) })).toThrow(DTypeError);
    expect(() => model.encode(ok(), { attentionMask: ids32([1, 1, 2, 1, 1, 1, 1, 0], [2, 4]) })).toThrow(/attentionMask is 2 at \[0, 2\]/);
  });

  it('sequences longer than maxPositions, and empty sequences', () => {
    expect(() => model.encode(ids32(new Array(9).fill(5), [1, 9]))).toThrow(ShapeError);
    expect(() => model.encode(ids32(new Array(9).fill(5), [1, 9]))).toThrow(/sequence length 9 exceeds maxPositions 8/);
    // a zero-length tensor cannot exist; a sequence that is all padding is the empty sequence
    expect(() => ids32([], [1, 0])).toThrow(ShapeError);
    expect(() => model.classify(ok(), null, { attentionMask: ids32([1, 1, 1, 1, 0, 0, 0, 0], [2, 4]) })).toThrow(/attentionMask of sequence 1 is all 0/);
    expect(() => model.encode(rt.tensor([1, 2], [1, 2], { arena: 'step' }))).toThrow(/expected dtype i32/);
  });
});

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The model's weights as an F16 safetensors file, written by hand (the encoder writes F32/I32 only). */
function f16File(model: BERT): Uint8Array {
  const header: Record<string, unknown> = {};
  const parts: Uint16Array[] = [];
  let offset = 0;
  for (const p of model.params.list()) {
    const d = p.value.f32();
    const half = Uint16Array.from(d, (x) => f32ToF16(x));
    header[p.name] = { dtype: 'F16', shape: [...p.spec.shape], data_offsets: [offset, offset + 2 * half.length] };
    offset += 2 * half.length;
    parts.push(half);
  }
  const json = new TextEncoder().encode(JSON.stringify(header).padEnd(Math.ceil(JSON.stringify(header).length / 8) * 8, ' '));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const h of parts) {
    const v = new DataView(out.buffer, at, 2 * h.length);
    h.forEach((bits, i) => v.setUint16(2 * i, bits, true));
    at += 2 * h.length;
  }
  return out;
}
