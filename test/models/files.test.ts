// saveModel / loadModel for every family: save → load gives the same family, config and
// outputs bit for bit; the file is checked before anything is allocated (wrong config, missing
// or aliased tensors, non-finite values, no family tag); Hugging Face-style files without our
// metadata load given { family, config }, heads they lack reported and left at their init.
import { describe, expect, it } from 'vitest';
import {
  BERT, CheckpointError, createRuntime, decodeSafetensors, encodeSafetensors, GPT, loadModel, saveModel, Seq2Seq, ViT,
  type Model, type Runtime, type Tensor,
} from '../../src/index.js';

const rt = await createRuntime({ variant: 'simd', threads: 1 });
const i32 = (rows: number[][]): Tensor => rt.tensor(rows.flat(), [rows.length, rows[0]!.length], { dtype: 'i32', arena: 'step' });

/** Each family: a small model and what it computes on a fixed input (no grad, eval). */
const CASES: { family: string; make: () => Model; run: (m: Model) => number[] }[] = [
  {
    family: 'gpt',
    make: () => new GPT(rt, { vocabSize: 13, blockSize: 8, nLayer: 2, nHead: 2, dModel: 8 }, { seed: 3 }),
    run: (m) => (m as GPT).forward(i32([[1, 2, 3, 4]])).logits.toArray(),
  },
  {
    family: 'bert',
    make: () => new BERT(rt, { vocabSize: 13, maxPositions: 8, nLayer: 2, nHead: 2, dModel: 8, numLabels: 3, dropout: 0 }, { seed: 3 }),
    run: (m) => [...(m as BERT).classify(i32([[2, 5, 6, 3]])).logits.toArray(), ...(m as BERT).encode(i32([[2, 5, 6, 3]])).toArray()],
  },
  {
    family: 'seq2seq',
    make: () => new Seq2Seq(rt, { srcVocabSize: 9, tgtVocabSize: 11, shareEmbeddings: false, tieOutput: false, maxPositions: 12, nLayer: 1, nHead: 2, dModel: 8, dFF: 16, dropout: 0, padId: 0, bosId: 1, eosId: 2 }, { seed: 3 }),
    run: (m) => (m as Seq2Seq).forward(i32([[3, 4, 5, 2]]), i32([[1, 6, 7]])).logits.toArray(),
  },
  {
    family: 'vit',
    make: () => new ViT(rt, { imageSize: 6, patchSize: 3, channels: 2, numClasses: 3, nLayer: 2, nHead: 2, dModel: 8, dFF: 16 }, { seed: 3 }),
    run: (m) => (m as ViT).forward(Float32Array.from({ length: 2 * 2 * 36 }, (_, i) => Math.sin(i))).logits.toArray(),
  },
];

const outputs = (m: Model, run: (m: Model) => number[]) => rt.step.scope(() => rt.tape.noGrad(() => run(m.eval())));
const used = () => rt.memoryReport().persistent.usedBytes;

describe.each(CASES)('saveModel / loadModel: $family', ({ family, make, run }) => {
  it('save → load: the same family, config, weights and outputs, bit for bit', () => {
    const model = make();
    const want = outputs(model, run);
    const { model: again, report } = loadModel(rt, saveModel(model));
    expect(again.family).toBe(family);
    expect(again.config).toEqual(model.config);
    expect(report).toEqual({ missing: [], ignored: [] });
    expect(Array.from(again.params.flat.f32())).toEqual(Array.from(model.params.flat.f32()));
    expect(outputs(again, run)).toEqual(want);
    model.dispose();
    again.dispose();
  });

  it('a file that does not match its config, or holds bad values, is refused before anything is allocated', () => {
    const model = make();
    const bytes = saveModel(model);
    const { tensors, metadata } = decodeSafetensors(bytes);
    const rebuilt = (edit: (t: Map<string, { dtype: string; shape: number[]; data: Float32Array | Int32Array }>, m: Record<string, string>) => void) => {
      const t = new Map([...tensors].map(([k, v]) => [k, { ...v, data: v.data.slice() }]));
      const m = { ...metadata };
      edit(t as never, m);
      return encodeSafetensors(Object.fromEntries([...t].map(([k, v]) => [k, { dtype: v.dtype as 'F32', shape: v.shape, data: v.data }])), m);
    };
    const first = [...tensors.keys()][0]!;
    const bad: [string, Uint8Array, RegExp][] = [
      ['no family', rebuilt((_, m) => { delete m.family; }), /names no model family/],
      ['unknown family', rebuilt((_, m) => { m.family = 'llama'; }), /family is "llama"/],
      ['config of another size', rebuilt((_, m) => { m.config = JSON.stringify({ ...model.config, dModel: 16 }); }), /has shape|is missing/],
      ['config with a wrong type', rebuilt((_, m) => { m.config = JSON.stringify({ ...model.config, nLayer: 'two' }); }), /config is invalid/],
      ['config with an unknown field', rebuilt((_, m) => { m.config = JSON.stringify({ ...model.config, nLayers: 2 }); }), /unknown field 'nLayers'/],
      ['config that is an array', rebuilt((_, m) => { m.config = '[1, 2]'; }), /expected an object of config fields|not an object/],
      ['a tensor missing', rebuilt((t) => { t.delete(first); }), /is missing from the file/],
      ['a NaN', rebuilt((t) => { (t.get(first)!.data as Float32Array)[1] = NaN; }), /\(element 1\) is NaN/],
    ];
    for (const [what, b, why] of bad) {
      const before = used();
      expect(() => loadModel(rt, b), what).toThrow(why);
      expect(() => loadModel(rt, b), what).toThrow(CheckpointError);
      expect(used(), what).toBe(before);
    }
    expect(() => loadModel(rt, bytes, { family: family === 'gpt' ? 'bert' : 'gpt' })).toThrow(/holds a .* model, .* was asked for/);
    model.dispose();
  });
});

describe('Hugging Face-style files', () => {
  it('load given { family, config }: prefixes stripped, buffers and tied copies ignored, missing heads reported', () => {
    const gpt = CASES[0]!.make() as GPT;
    const hf: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    for (const p of gpt.params.list()) hf[p.name.replace(/^transformer\./, '')] = { dtype: 'F32', shape: [...p.spec.shape], data: p.value.f32() };
    hf['h.0.attn.bias'] = { dtype: 'F32', shape: [1, 1, 8, 8], data: new Float32Array(64).fill(1) };   // GPT-2's causal-mask buffer
    hf['lm_head.weight'] = { ...hf['wte.weight']! };                                                   // the tied copy
    const { model, report } = loadModel(rt, encodeSafetensors(hf), { family: 'gpt', config: gpt.config });
    expect(report.ignored.sort()).toEqual(['h.0.attn.bias', 'lm_head.weight']);
    expect(outputs(model, CASES[0]!.run)).toEqual(outputs(gpt, CASES[0]!.run));
    expect(() => loadModel(rt, encodeSafetensors(hf))).toThrow(/pass \{ family, config \}/);
    // both spellings of one parameter: ambiguous
    const twice = { ...hf, 'transformer.wte.weight': hf['wte.weight']! };
    expect(() => loadModel(rt, encodeSafetensors(twice), { family: 'gpt', config: gpt.config })).toThrow(/holds both transformer\.wte\.weight and wte\.weight/);
    model.dispose();

    const bert = CASES[1]!.make() as BERT;
    const encoderOnly: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    for (const p of bert.params.list()) if (!/^(bert\.pooler|cls\.|classifier)/.test(p.name)) encoderOnly[p.name.replace(/^bert\./, '')] = { dtype: 'F32', shape: [...p.spec.shape], data: p.value.f32() };
    const loaded = loadModel(rt, encodeSafetensors(encoderOnly), { family: 'bert', config: bert.config });
    expect(loaded.report.missing.sort()).toEqual(bert.params.list().map((p) => p.name).filter((n) => /^(bert\.pooler|cls\.|classifier)/.test(n)).sort());
    expect(rt.step.scope(() => rt.tape.noGrad(() => (loaded.model as BERT).encode(i32([[2, 5, 6, 3]])).toArray())))
      .toEqual(rt.step.scope(() => rt.tape.noGrad(() => bert.eval().encode(i32([[2, 5, 6, 3]])).toArray())));
    expect(() => loadModel(rt, encodeSafetensors(encoderOnly), { family: 'bert', config: bert.config, strict: true })).toThrow(/bert\.pooler\.dense\.weight .* is missing/);
    loaded.model.dispose();
    bert.dispose();
    gpt.dispose();
  });
});
