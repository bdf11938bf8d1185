// Weights held only quantized (ParameterSet.holdWeightsAs; loadPretrained / loadModel with a dtype
// and keepF32: false, their default): the matmul weights and a tied embedding get no f32 memory,
// only their int8 / f16 / bf16 copy, filled as the file streams in (a (V, C) table in blocks of
// whole slivers of rows, a (K, N) weight whole), and lookups in a held table dequantize its rows.
// Checked here:
// - the same quantized weights as the f32-keeping model's copies: every logit is that model's, bit
//   for bit, once its token table holds the values the held one's lookups give (the products are
//   the same kernels on the same bytes);
// - a tied table: lookups give exactly the dequantized rows; the memory is the held bytes plus
//   the f32 rest, nothing else kept (the scratch block freed);
// - streaming in odd-sized pieces across several blocks gives the decoded loader's bytes;
// - int8 files: a held model written with saveModel(…, 'int8') reads back to the same integers
//   and scales, through either loader;
// - bad values (NaN, an f16 overflow) name the tensor and element and leave nothing held;
// - the model is inference-only: reading, training or re-formatting its held weights is refused.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AdamW, BERT, CheckpointError, createRuntime, decodeSafetensors, DTypeError, encodeSafetensors, generate, GPT, hfConfig,
  loadModel, loadPretrained, saveModel, T5, ValueError, ViT, type Model,
} from '../../src/index.js';
import { dequantizeWeight, int8Values, type QuantDType } from '../../src/ops/quant.js';
import { quantizedBytes, scalesLength } from '../../src/ref/quant.js';
import { embedding } from '../../src/fn/embedding.js';

const rt = await createRuntime({ variant: 'simd', threads: 1 });
const GPT2 = fileURLToPath(new URL('../fixtures/pretrained/tiny-gpt2', import.meta.url));
const BERT_DIR = fileURLToPath(new URL('../fixtures/pretrained/tiny-bert', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'wasmformer-held-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const DTYPES: QuantDType[] = ['int8', 'f16', 'bf16'];
const used = () => rt.memoryReport().persistent.usedBytes;
const i32 = (ids: number[], T = ids.length) => rt.tensor(ids, [ids.length / T, T], { dtype: 'i32', arena: 'step' });
const gptLogits = (m: GPT, ids: number[]) => rt.step.scope(() => rt.tape.noGrad(() => m.forward(i32(ids)).logits.f32().slice()));
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Bytes a held weight takes: packed values and (int8) scales, rounded to whole floats as allocated. */
const heldBytes = (dtype: QuantDType, n: number, k: number) => 4 * Math.ceil(quantizedBytes(dtype, n, k) / 4) + (dtype === 'int8' ? 4 * scalesLength(n) : 0);

/** The persistent bytes a held model should take: its held weights, and the f32 rest padded as ParameterSet lays it out. */
function expectedBytes(model: Model): number {
  let f32 = 0, held = 0;
  for (const p of model.params.list()) {
    if (p.held) held += heldBytes(p.held.dtype, p.held.n, p.held.k);
    else f32 += Math.ceil(p.spec.shape.reduce((a, d) => a * d, 1) / 16) * 16;
  }
  return held + 4 * Math.max(f32, 16);
}

/** The persistent store rounds each allocation up to its alignment: allow that much per allocation. */
const ALIGN_SLACK = (allocations: number) => 64 * allocations;

describe('held weights: the same products as the f32-keeping model\'s copies', () => {
  it.each(DTYPES)('%s: an untied GPT gives every logit bit for bit; matrices and the token table are held; the memory is the held bytes and the f32 rest', (dtype) => {
    const cfg = { vocabSize: 97, blockSize: 32, nLayer: 2, nHead: 2, dModel: 48, tieWeights: false };
    const start = used();
    const keep = new GPT(rt, cfg, { dtype, seed: 5 }).eval();
    const before = used();
    const held = new GPT(rt, cfg, { dtype, seed: 5, keepF32: false }).eval();
    const took = used() - before;
    expect(held.params.heldAs).toBe(dtype);
    const names = held.params.list().filter((p) => p.held).map((p) => p.name);
    expect(names).toContain('transformer.h.0.attn.c_attn.weight');
    expect(names).toContain('lm_head.weight');
    expect(names).toContain('transformer.wte.weight');                 // untied too: the vocabulary's table, a scale per row
    expect(names).not.toContain('transformer.wpe.weight');             // position tables stay f32
    expect(names).not.toContain('transformer.h.0.ln_1.weight');
    // the f32 model's table set to what the held one's lookups give: its rows dequantized
    rt.step.scope(() => keep.params.get('transformer.wte.weight')!.value.f32().set(dequantizeWeight(rt, held.params.get('transformer.wte.weight')!.held!, { arena: 'step' }).f32()));
    expect(took).toBeGreaterThanOrEqual(expectedBytes(held));
    expect(took).toBeLessThanOrEqual(expectedBytes(held) + ALIGN_SLACK(2 * names.length + 1));
    const ids = [1, 5, 7, 9, 96, 0, 3, 3, 40];
    expect(bits(gptLogits(held, ids))).toEqual(bits(gptLogits(keep, ids)));
    // decoding with a cache runs the same products one row at a time
    const a = generate(held, [1, 5, 7], { maxNewTokens: 6, temperature: 0 });
    expect(a).toEqual(generate(keep, [1, 5, 7], { maxNewTokens: 6, temperature: 0 }));
    keep.dispose();
    held.dispose();
    expect(used()).toBe(start);
  });

  it('ViT, BERT and T5: every linear held (separate q, k, v run as three products); ViT\'s logits bit for bit', () => {
    const vcfg = { imageSize: 8, patchSize: 4, channels: 1, nLayer: 1, nHead: 2, dModel: 16, numClasses: 3 };
    const keep = new ViT(rt, vcfg, { dtype: 'int8', seed: 2 }).eval(), held = new ViT(rt, vcfg, { dtype: 'int8', seed: 2, keepF32: false }).eval();
    expect(held.params.get('vit.encoder.layer.0.attention.attention.query.weight')!.held).not.toBeNull();
    expect(held.params.get('vit.embeddings.patch_embeddings.projection.weight')!.held).toBeNull();   // 4-D: a copy from f32, as before
    const images = Float32Array.from({ length: 2 * 64 }, (_, i) => Math.sin(i));
    const run = (m: ViT) => rt.step.scope(() => rt.tape.noGrad(() => m.forward(rt.tensor(images, [2, 1, 8, 8], { arena: 'step' })).logits.f32().slice()));
    expect(bits(run(held))).toEqual(bits(run(keep)));
    keep.dispose();
    held.dispose();
    for (const make of [
      (o: object) => new BERT(rt, { vocabSize: 50, maxPositions: 16, nLayer: 1, nHead: 2, dModel: 16 }, o),
      (o: object) => new T5(rt, { vocabSize: 50, nLayer: 1, nHead: 2, dModel: 16, dFF: 32 }, o),
    ]) {
      const m = make({ dtype: 'int8', keepF32: false, seed: 1 });
      const tied = m.params.list().find((p) => /word_embeddings|shared/.test(p.name))!;
      expect(tied.held, tied.name).not.toBeNull();
      expect(m.params.list().filter((p) => p.spec.decay).every((p) => p.held)).toBe(true);
      m.dispose();
    }
  });
});

describe('loadPretrained with a dtype holds the weights only quantized', () => {
  it.each(DTYPES)('%s: tiny GPT-2 in its held bytes; lookups are the dequantized rows; logits near the f32 model\'s', async (dtype) => {
    const before = used();
    const f32 = (await loadPretrained(rt, GPT2)).model as GPT;
    const mid = used();
    const { model } = await loadPretrained(rt, GPT2, { dtype });
    const m = model as GPT;
    expect(used() - mid).toBeGreaterThanOrEqual(expectedBytes(m));
    expect(used() - mid).toBeLessThanOrEqual(expectedBytes(m) + ALIGN_SLACK(40));
    expect(used() - mid).toBeLessThan((dtype === 'int8' ? 0.4 : 0.6) * (mid - before));
    const wte = m.params.get('transformer.wte.weight')!;
    expect(wte.held?.dtype).toBe(dtype);
    const ids = [17, 280, 5, 299, 64, 101, 256, 33, 120, 0, 290, 260];
    rt.step.scope(() => {
      const rows = embedding(rt, i32(ids), wte.value).f32();
      const table = dequantizeWeight(rt, wte.held!, { arena: 'step' }).f32();
      const C = wte.held!.k;
      ids.forEach((id, i) => expect(bits(rows.subarray(i * C, (i + 1) * C))).toEqual(bits(table.subarray(id * C, (id + 1) * C))));
    });
    const want = gptLogits(f32, ids);
    const d = gptLogits(m, ids).reduce((mx, v, i) => Math.max(mx, Math.abs(v - want[i]!)), 0);
    console.log(`tiny GPT-2 held ${dtype}: max |logit − f32| = ${d.toExponential(2)}`);
    // a sanity bound (the accuracy claim is bench/quant-accuracy.ts's): each weight moves by at most
    // 1/254 of its channel's largest (int8) or 2^-9 relative (bf16), the embedding rows too
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThan(0.3);
    model.dispose();
    f32.dispose();
    expect(used()).toBe(before);
  });

  it('blocks of a (V, C) table in odd-sized pieces (F16 file, through fetch) = the decoded loader\'s bytes; the scratch block is freed', async () => {
    // V·C = 1.28M elements: more than one 4 MiB block of rows (16384 rows each), the last one partial
    const cfg = { vocabSize: 20000, blockSize: 16, nLayer: 1, nHead: 2, dModel: 64 };
    const src = new GPT(rt, cfg, { seed: 9 });
    const dir = join(scratch, 'big-vocab');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(hfConfig(src)));
    const bytes = saveModel(src, {}, { dtype: 'f16' });
    writeFileSync(join(dir, 'model.safetensors'), bytes);
    src.dispose();
    const sizes = [1, 3, 4093, 7, 65537, 2];
    const base = 'https://models.example/big/';
    const fetch = async (url: string) => {
      let data: Uint8Array;
      try {
        data = readFileSync(join(dir, url.slice(base.length)));
      } catch {
        return new Response('not found', { status: 404, statusText: 'Not Found' });
      }
      let at = 0, i = 0;
      return new Response(new ReadableStream<Uint8Array>({
        pull(c) {
          if (at >= data.length) return c.close();
          const n = sizes[i++ % sizes.length]!;
          c.enqueue(data.slice(at, at + n));
          at += n;
        },
      }), { headers: { 'content-type': 'application/octet-stream' } });
    };
    for (const dtype of DTYPES) {
      const before = used();
      const streamed = (await loadPretrained(rt, base, { dtype, tokenizer: false, fetch })).model;
      const took = used() - before;
      const decoded = loadModel(rt, bytes, { dtype }).model;
      for (const p of streamed.params.list()) {
        if (!p.held) continue;
        const q = decoded.params.get(p.name)!.held!;
        const a = dequantizeWeight(rt, p.held, { arena: 'step' }).f32().slice(), b = dequantizeWeight(rt, q, { arena: 'step' }).f32().slice();
        rt.step.reset();
        expect(bits(a), `${dtype} ${p.name}`).toEqual(bits(b));
      }
      expect(took).toBeLessThanOrEqual(expectedBytes(streamed) + ALIGN_SLACK(20));
      streamed.dispose();
      decoded.dispose();
      expect(used()).toBe(before);
    }
  });
});

describe('held weights in a PyTorch-made BERT', () => {
  it('int8 / f16: MLM logits near PyTorch\'s; the heads the file lacks are initialised and held too (quantized as made)', async () => {
    const expected = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/pretrained/expected.json', import.meta.url)), 'utf8')) as { bert: { ids: number[][]; tokenTypes: number[][]; logits: number[] } };
    const { ids, tokenTypes } = expected.bert;
    const t = (rows: number[][]) => rt.tensor(rows.flat(), [rows.length, rows[0]!.length], { dtype: 'i32', arena: 'step' });
    for (const [dtype, bound] of [['int8', 0.3], ['f16', 0.01]] as const) {
      const before = used();
      const { model, report } = await loadPretrained(rt, BERT_DIR, { dtype, seed: 3 });
      expect(report.missing).toContain('classifier.weight');
      const bert = model as BERT;
      expect(bert.params.get('classifier.weight')!.held?.dtype).toBe(dtype);
      expect(bert.params.get('bert.embeddings.word_embeddings.weight')!.held?.dtype).toBe(dtype);   // tied to the MLM decoder
      const got = rt.step.scope(() => rt.tape.noGrad(() => bert.mlm(t(ids), null, {
        tokenTypes: t(tokenTypes), attentionMask: t(ids.map((r) => r.map((id) => (id === 0 ? 0 : 1)))),
      }).logits.f32().slice()));
      const d = got.reduce((m, v, i) => Math.max(m, Math.abs(v - expected.bert.logits[i]!)), 0);
      console.log(`tiny BERT held ${dtype}: max |logit − PyTorch| = ${d.toExponential(2)}`);
      // sanity bounds (logits up to ~4): int8 moves each weight by ≤ 1/254 of its channel's largest, f16 by 2^-11 relative
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThan(bound);
      model.dispose();
      expect(used()).toBe(before);
    }
  });
});

describe('held int8 files', () => {
  it('saveModel(…, int8) writes the held integers and scales; both loaders read them back exactly; f32/f16 files hold the dequantized values', async () => {
    const { model } = await loadPretrained(rt, GPT2, { dtype: 'int8' });
    const bytes = saveModel(model, {}, { dtype: 'int8' });
    const file = decodeSafetensors(bytes);
    expect(file.tensors.get('transformer.h.0.mlp.c_fc.weight_scale')!.shape).toEqual([1, 128]);   // (in, out): per column
    expect(file.tensors.get('transformer.wte.weight_scale')!.shape).toEqual([300, 1]);            // tied table: per row
    const dir = join(scratch, 'int8-folder');
    cpSync(GPT2, dir, { recursive: true });
    writeFileSync(join(dir, 'model.safetensors'), bytes);
    const streamed = (await loadPretrained(rt, dir, { dtype: 'int8' })).model;
    const decoded = loadModel(rt, bytes, { dtype: 'int8' }).model;
    for (const p of model.params.list()) {
      if (!p.held) continue;
      const want = int8Values(rt, p.held);
      for (const again of [streamed, decoded]) {
        const got = int8Values(rt, again.params.get(p.name)!.held!);
        expect(Array.from(got.q), p.name).toEqual(Array.from(want.q));
        expect(bits(got.scales), p.name).toEqual(bits(want.scales));
      }
    }
    // an f32 file of a held model: the values it computes with
    const f32File = decodeSafetensors(saveModel(model));
    const fc = model.params.get('transformer.h.0.mlp.c_fc.weight')!.held!;
    rt.step.scope(() => expect(bits(f32File.tensors.get('transformer.h.0.mlp.c_fc.weight')!.data as Float32Array)).toEqual(bits(dequantizeWeight(rt, fc, { arena: 'step' }).f32())));
    // I8 weights cannot be held as f16 without their f32 values: refused before anything is allocated
    const before = used();
    await expect(loadPretrained(rt, dir, { dtype: 'f16' })).rejects.toThrow(/transformer\.wte\.weight is I8 with scales, which cannot be held as f16 without its f32 values; load it with dtype 'int8', or with keepF32: true/);
    expect(() => loadModel(rt, bytes, { dtype: 'f16' })).toThrow(CheckpointError);
    expect(used()).toBe(before);
    // with keepF32 they load as before: dequantized into f32, copies made on first use
    const kept = (await loadPretrained(rt, dir, { dtype: 'f16', keepF32: true })).model;
    expect(kept.params.list().some((p) => p.held)).toBe(false);
    for (const m of [model, streamed, decoded, kept]) m.dispose();
  });
});

describe('held weights: bad values and misuse', () => {
  it('a NaN, or a value f16 cannot hold, names the tensor and element; nothing stays held', async () => {
    const src = decodeSafetensors(readFileSync(join(GPT2, 'model.safetensors')));
    const tensors = Object.fromEntries([...src.tensors].map(([name, t]) => [name, { dtype: 'F32' as const, shape: [...t.shape], data: Float32Array.from(t.data) }]));
    const dir = join(scratch, 'bad');
    cpSync(GPT2, dir, { recursive: true });
    const before = used();
    tensors['transformer.h.1.mlp.c_proj.weight']!.data[3 * 32 + 5] = NaN;         // row 3 of (128, 32)
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(tensors));
    for (const dtype of DTYPES) {
      await expect(loadPretrained(rt, dir, { dtype })).rejects.toThrow(/transformer\.h\.1\.mlp\.c_proj\.weight: w\[3, 5\] = NaN is not finite/);
      expect(used()).toBe(before);
    }
    tensors['transformer.h.1.mlp.c_proj.weight']!.data[3 * 32 + 5] = 0;
    tensors['transformer.wte.weight']!.data[290 * 32 + 7] = 70000;                // a tied table row in its last block
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(tensors));
    await expect(loadPretrained(rt, dir, { dtype: 'f16' })).rejects.toThrow(/transformer\.wte\.weight: w\[290, 7\] = 70000 overflows f16/);
    expect(used()).toBe(before);
    const ok = (await loadPretrained(rt, dir, { dtype: 'bf16' })).model;        // bf16 holds it
    ok.dispose();
    expect(() => loadModel(rt, encodeSafetensors(tensors), { family: 'gpt', config: (ok as GPT).config, dtype: 'f16' })).toThrow(/loadModel: transformer\.wte\.weight: w\[290, 7\] = 70000 overflows f16/);
    expect(used()).toBe(before);
  });

  it('an inference-only model: its held weights cannot be read, trained or re-formatted, each refusal naming why', async () => {
    const { model } = await loadPretrained(rt, GPT2, { dtype: 'int8' });
    const fc = model.params.get('transformer.h.0.mlp.c_fc.weight')!;
    expect(() => fc.value.f32()).toThrow(DTypeError);
    expect(() => fc.value.f32()).toThrow(/transformer\.h\.0\.mlp\.c_fc\.weight is held as int8 only .* keepF32: true/);
    expect(() => model.params.grads).toThrow(/inference-only model has no gradients/);
    expect(() => new AdamW(model.params)).toThrow(/AdamW: the model holds its weights as int8 only/);
    expect(() => model.params.setFrozen([fc], false)).toThrow(/held as int8 only/);
    expect(() => { model.params.inferenceDtype = 'f16'; }).toThrow(/held as int8 only .* load the model again with dtype 'f16'/);
    // a forward that would record a backward records none: nothing requires a gradient
    const out = rt.step.scope(() => (model as GPT).forward(i32([1, 2, 3]), i32([2, 3, 4])).loss!.requiresGrad);
    expect(out).toBe(false);
    model.dispose();
  });
});
