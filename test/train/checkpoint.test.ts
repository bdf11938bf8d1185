// Checkpoints: exact round trip, exact resume, bad files that change nothing, config mismatch,
// and the last good checkpoint surviving a NaN.
import { mkdtempSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  f32ToBf16, f32ToF16,
  AdamW, CharTokenizer, CheckpointError, checkpointBytes, createRuntime, GPT, loadWeights, modelFromCheckpoint,
  parseCheckpoint, readCheckpoint, train, TrainingError, type GPTConfig,
} from '../../src/index.js';

const rt = await createRuntime({ variant: 'simd' });
const cfg: Partial<GPTConfig> = { vocabSize: 13, blockSize: 16, nLayer: 2, nHead: 2, dModel: 16, dropout: 0.1 };
const stream = Int32Array.from({ length: 500 }, (_, i) => (i * i + 3 * i) % 13);

function setup(seed = 1) {
  const model = new GPT(rt, cfg, { seed });
  const optimizer = new AdamW(model.params, { betas: [0.9, 0.99], weightDecay: 0.1 });
  return { model, optimizer };
}
const common = { data: { train: stream, val: stream.subarray(0, 100), batchSize: 3, seed: 9 }, steps: 12, lr: (s: number) => 1e-3 * (1 + s / 10), clip: 1 };

describe('checkpoints', () => {
  it('round trip: weights, optimizer, tokenizer and config come back exactly', async () => {
    const { model, optimizer } = setup();
    await train({ model, optimizer, ...common, steps: 3 });
    const tok = CharTokenizer.fromText('abc');
    const bytes = checkpointBytes(model, { optimizer, tokenizer: tok, position: { step: 3 } });
    const ckpt = parseCheckpoint(bytes);
    expect(ckpt.config).toEqual(model.config);
    // a tensor whose shape disagrees is named, even when no config is there to compare
    const other = new GPT(rt, { ...cfg, vocabSize: 14 });
    expect(() => loadWeights(other, { ...ckpt, config: undefined })).toThrow(/transformer.wte.weight has shape \[13, 16\], the gpt config needs \[14, 16\]/);
    expect(CharTokenizer.load(ckpt.tokenizer!).decode([0, 1, 2])).toBe('abc');
    expect(ckpt.position!.step).toBe(3);
    const copy = modelFromCheckpoint(rt, ckpt);
    expect(Array.from(copy.params.flat.f32())).toEqual(Array.from(model.params.flat.f32()));
    const opt2 = new AdamW(copy.params, { betas: [0.9, 0.99], weightDecay: 0.1 });
    loadWeights(copy, ckpt, opt2);
    expect(opt2.stepCount).toBe(3);
    expect(Array.from(opt2.stateTensors().exp_avg_sq!.f32())).toEqual(Array.from(optimizer.stateTensors().exp_avg_sq!.f32()));
  });

  it('resume: a run resumed at step 5 logs the same losses as one that never stopped (dropout on)', async () => {
    const a = setup();
    const full = await train({ model: a.model, optimizer: a.optimizer, ...common, evalEvery: 4 });
    const dir = mkdtempSync(join(tmpdir(), 'wf-ckpt-'));
    const path = join(dir, 'run.safetensors');
    const b = setup();
    await train({ model: b.model, optimizer: b.optimizer, ...common, steps: 5, checkpoint: { every: 5, path } });
    const c = setup(99); // another init: everything must come from the checkpoint
    const resumed = await train({ model: c.model, optimizer: c.optimizer, ...common, resume: path, evalEvery: 4 });
    expect(resumed.losses.map((l) => l.step)).toEqual([5, 6, 7, 8, 9, 10, 11]);
    expect(resumed.losses).toEqual(full.losses.slice(5));
    expect(resumed.evals).toEqual(full.evals.filter((e) => e.step > 5));
    expect(Array.from(c.model.params.flat.f32())).toEqual(Array.from(a.model.params.flat.f32()));
    expect(readdirSync(dir)).toEqual(['run.safetensors']); // no temporary files left
  });

  it('a truncated or corrupted file gives a CheckpointError and changes nothing', async () => {
    const { model, optimizer } = setup();
    const bytes = checkpointBytes(model, { optimizer, position: { step: 0 } });
    const target = setup(5);
    const before = target.model.params.flat.f32().slice();
    const bad: [string, Uint8Array][] = [
      ['truncated data', bytes.slice(0, bytes.length - 100)],
      ['truncated header', bytes.slice(0, 20)],
      ['empty', new Uint8Array(0)],
      ['header length beyond the file', (() => { const b = bytes.slice(); new DataView(b.buffer).setUint32(0, 1e8, true); return b; })()],
      ['garbage header', (() => { const b = bytes.slice(); b.fill(0x7b, 8, 40); return b; })()],
    ];
    for (const [what, b] of bad) {
      expect(() => loadWeights(target.model, parseCheckpoint(b)), what).toThrow(CheckpointError);
    }
    expect(Array.from(target.model.params.flat.f32())).toEqual(Array.from(before));
  });

  it('a checkpoint of another shape is refused with the differences named, changing nothing', () => {
    const { model } = setup();
    const other = new GPT(rt, { ...cfg, dModel: 32 });
    const before = other.params.flat.f32().slice();
    expect(() => loadWeights(other, parseCheckpoint(checkpointBytes(model)))).toThrow(/dModel: checkpoint 16, model 32/);
    expect(Array.from(other.params.flat.f32())).toEqual(Array.from(before));
    // shapes checked too: a hand-edited file whose config matches but a tensor does not
  });

  it('NaN during training: TrainingError, and the last good checkpoint on disk stays intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-nan-'));
    const path = join(dir, 'good.safetensors');
    const { model, optimizer } = setup();
    const err = await train({
      model, optimizer, ...common, checkpoint: { every: 4, path },
      onStep: ({ step }) => { if (step === 5) model.params.flat.f32()[3] = Infinity; },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingError);
    expect((err as TrainingError).step).toBe(6);
    const ckpt = await readCheckpoint(path);
    expect(ckpt.position!.step).toBe(4);
    expect(existsSync(path)).toBe(true);
    expect(readFileSync(path).length).toBeGreaterThan(1000);
    expect(readdirSync(dir)).toEqual(['good.safetensors']);
  });

  it('loads a Hugging Face-style file: names without transformer., mask buffers, F16 and BF16 weights', () => {
    const { model } = setup();
    // Hand-written safetensors: GPT2Model names, F16 for matrices, BF16 for vectors, plus the
    // causal-mask buffers HF stores as h.N.attn.bias
    const entries: [string, string, number[], Uint8Array][] = [];
    for (const p of model.params.list()) {
      const src = p.value.f32();
      const half = new Uint16Array(src.length);
      const vec = p.spec.shape.length === 1;
      for (let i = 0; i < src.length; i++) half[i] = vec ? f32ToBf16(src[i]!) : f32ToF16(src[i]!);
      entries.push([p.name.replace(/^transformer\./, ''), vec ? 'BF16' : 'F16', p.spec.shape, new Uint8Array(half.buffer)]);
    }
    entries.push(['h.0.attn.bias', 'F32', [1, 1, 16, 16], new Uint8Array(16 * 16 * 4)]);
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } }; // no wasmformer config, as from PyTorch
    let offset = 0;
    for (const [name, dtype, shape, bytes] of entries) {
      header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] };
      offset += bytes.length;
    }
    const json = new TextEncoder().encode(JSON.stringify(header));
    const file = new Uint8Array(8 + json.length + offset);
    new DataView(file.buffer).setUint32(0, json.length, true);
    file.set(json, 8);
    let at = 8 + json.length;
    for (const [, , , bytes] of entries) {
      file.set(bytes, at);
      at += bytes.length;
    }
    expect(() => modelFromCheckpoint(rt, parseCheckpoint(file))).toThrow(/no model config/);
    const copy = new GPT(rt, cfg, { seed: 77 });
    loadWeights(copy, parseCheckpoint(file));
    const a = copy.params.flat.f32();
    const b = model.params.flat.f32();
    // F16 keeps 11 significant bits, BF16 8: |Δ| ≤ 2^-8 relative (weights are far from F16's subnormals: |w| ≫ 6e-5 or tiny)
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(Math.abs(b[i]!) * 2 ** -8 + 6e-8);
  });
});

