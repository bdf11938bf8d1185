// Quantized and half-precision inference of a model and its files: `inferenceDtype` swaps every
// weight matrix product (the tied head included) for int8 / f16 / bf16 copies made from the f32
// weights (rebuilt when they change, freed when the format changes); `saveModel(…, { dtype })`
// writes I8 + per-channel scales or F16/BF16, and both loaders read them back to exactly the
// dequantized values. (The kernels themselves are checked against their twins in test/kernels/quant.)
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createRuntime, decodeSafetensors, f16ToF32, f32ToF16, GPT, loadModel, loadPretrained, saveModel, ValueError } from '../../src/index.js';

const rt = await createRuntime({ variant: 'simd', threads: 1 });
const GPT2 = fileURLToPath(new URL('../fixtures/pretrained/tiny-gpt2', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'wasmformer-quantized-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const used = () => rt.memoryReport().persistent.usedBytes;
const ids = [17, 280, 5, 299, 64, 101, 256, 33, 120, 0, 290, 260];
const logits = (m: GPT) => rt.step.scope(() => rt.tape.noGrad(() => m.forward(rt.tensor(ids, [1, ids.length], { dtype: 'i32', arena: 'step' })).logits.f32().slice()));
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('inferenceDtype', () => {
  it('int8, f16 and bf16 copies replace the packed f32 ones: bytes as the format says, logits close, copies rebuilt after a change', async () => {
    const start = used();
    const { model } = await loadPretrained(rt, GPT2, { packWeights: true });
    const m = model as GPT;
    const weights = m.params.list().filter((p) => p.spec.decay).reduce((n, p) => n + p.value.size, 0) + m.config.vocabSize * m.config.dModel;   // matrices + tied head
    const base = used();
    const f32 = logits(m);
    const packed = used() - base;                                       // f32 packed copies: ≥ 4 bytes per weight
    expect(packed).toBeGreaterThanOrEqual(4 * weights);
    for (const [dtype, bytes] of [['int8', 1], ['f16', 2], ['bf16', 2]] as const) {
      m.params.inferenceDtype = dtype;
      expect(used()).toBe(base);                                        // switching frees the copies
      const q = logits(m);
      const grew = used() - base;
      expect(grew).toBeGreaterThanOrEqual(bytes * weights);
      expect(grew).toBeLessThan(bytes * weights * 1.25 + 4 * (m.config.vocabSize + 8 * 100));   // padding to 8 columns, int8 scales
      const d = maxDiff(q, f32);
      console.log(`tiny GPT-2 ${dtype}: max |logit − f32| = ${d.toExponential(2)} (logits up to ${Math.max(...f32.map(Math.abs)).toFixed(1)})`);
      expect(d).toBeGreaterThan(0);
      // a sanity bound, not an accuracy claim (that is bench/quant-accuracy.ts's): int8 moves each
      // weight by up to 1/254 of its channel's largest, bf16 by 2^-9 relative; through the ~6
      // products and 2 LayerNorms of this model that is a few per cent of the logits' scale (4.2)
      expect(d).toBeLessThan(0.2);
    }
    // a change to the weights rebuilds the copies
    m.params.inferenceDtype = 'f16';
    const before = logits(m);
    const w = m.params.get('transformer.h.0.mlp.c_fc.weight')!.value.f32();
    w[0] = w[0]! + 1;
    expect(maxDiff(logits(m), before)).toBeGreaterThan(0);
    expect(() => { m.params.inferenceDtype = 'int4' as never; }).toThrow(ValueError);
    model.dispose();
    expect(used()).toBe(start);                                       // quantized copies go with the model
  });
});

describe('saveModel with a dtype', () => {
  it('int8: I8 + scales per output channel (matrices) or per row (embeddings); loadModel gives back exactly scale·q', async () => {
    const { model } = await loadPretrained(rt, GPT2);
    const bytes = saveModel(model, {}, { dtype: 'int8' });
    const file = decodeSafetensors(bytes);
    const fc = file.tensors.get('transformer.h.0.mlp.c_fc.weight')!, scale = file.tensors.get('transformer.h.0.mlp.c_fc.weight_scale')!;
    expect([fc.dtype, scale.dtype, scale.shape]).toEqual(['I8', 'F32', [1, 128]]);              // (in, out): a scale per column
    expect(file.tensors.get('transformer.wte.weight_scale')!.shape).toEqual([300, 1]);          // per row
    expect(file.tensors.get('transformer.h.0.ln_1.weight')!.dtype).toBe('F32');
    expect(file.metadata.dtype).toBe('int8');
    // every value within half a step of the original, and the largest of each channel exact (±127)
    const w = model.params.get('transformer.h.0.mlp.c_fc.weight')!.value.f32();
    const q = fc.data as Int32Array, s = scale.data as Float32Array;
    for (let i = 0; i < w.length; i++) expect(Math.abs(q[i]! * s[i % 128]! - w[i]!)).toBeLessThanOrEqual(s[i % 128]! / 2 * (1 + 1e-6));
    for (let c = 0; c < 128; c++) expect(Math.max(...Array.from({ length: 32 }, (_, r) => Math.abs(q[r * 128 + c]!)))).toBe(127);
    const back = loadModel(rt, bytes).model;
    const got = back.params.get('transformer.h.0.mlp.c_fc.weight')!.value.f32();
    for (let i = 0; i < w.length; i++) expect(got[i]).toBe(Math.fround(q[i]! * s[i % 128]!));
    expect(bytes.length).toBeLessThan(0.4 * saveModel(model).length);
    back.dispose();
    model.dispose();
  });

  it('f16 / bf16 round to nearest even; a value f16 cannot hold is refused; streamed and decoded loads agree bit for bit', async () => {
    const { model } = await loadPretrained(rt, GPT2);
    const w = model.params.get('transformer.wpe.weight')!.value.f32().slice();
    for (const dtype of ['f16', 'bf16', 'int8'] as const) {
      const bytes = saveModel(model, {}, { dtype });
      const decoded = loadModel(rt, bytes).model;
      // the same bytes as a folder's model.safetensors, streamed by loadPretrained
      const dir = join(scratch, dtype);
      cpSync(GPT2, dir, { recursive: true });
      writeFileSync(join(dir, 'model.safetensors'), bytes);
      const streamed = (await loadPretrained(rt, dir)).model;
      expect(Array.from(streamed.params.flat.f32())).toEqual(Array.from(decoded.params.flat.f32()));
      if (dtype === 'f16') expect(Array.from(decoded.params.get('transformer.wpe.weight')!.value.f32())).toEqual(Array.from(w, (v) => f16ToF32(f32ToF16(v))));
      decoded.dispose();
      streamed.dispose();
    }
    model.params.get('transformer.wpe.weight')!.value.f32()[3] = 70000;
    expect(() => saveModel(model, {}, { dtype: 'f16' })).toThrow(/transformer.wpe.weight element 3 is 70000, beyond f16's largest finite value 65504/);
    expect(() => saveModel(model, {}, { dtype: 'int4' as never })).toThrow(ValueError);
    model.dispose();
    void readFileSync;
  });
});
