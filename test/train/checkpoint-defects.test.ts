// Issue 12's checkpoint defects, each refused quickly with a typed error and nothing changed:
// configs that describe a model the file does not hold (nothing allocated), resume positions
// that cannot be resumed (weights and optimizer untouched), a sampler position of 10^12 draws
// (O(1)), non-finite weights in F32/F16/BF16, an update that overflows (no checkpoint written),
// deep and duplicate JSON, aliased names, temp files of a killed save, a missing file.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AdamW, CheckpointError, checkpointBytes, createRuntime, decodeSafetensors, encodeSafetensors, f32ToBf16, f32ToF16, FileError, GPT,
  loadWeights, modelFromCheckpoint, parseCheckpoint, readCheckpoint, saveCheckpoint, train, TrainingError, type GPTConfig,
} from '../../src/index.js';

const rt = await createRuntime({ variant: 'simd', threads: 1 });
const cfg: Partial<GPTConfig> = { vocabSize: 13, blockSize: 16, nLayer: 2, nHead: 2, dModel: 16 };
const stream = Int32Array.from({ length: 500 }, (_, i) => (i * i + 3 * i) % 13);
const common = { data: { train: stream, batchSize: 3, seed: 9 }, lr: 1e-3, clip: 1 };
const memory = () => ({ used: rt.memoryReport().persistent.usedBytes, bytes: rt.heap.memoryBytes });

/** Safetensors bytes of raw little-endian tensors (any dtype, F16/BF16 included), with metadata. */
function rawSafetensors(tensors: [string, { dtype: string; shape: number[]; bytes: Uint8Array }][], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let at = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + t.bytes.length] };
    at += t.bytes.length;
  }
  const h = new TextEncoder().encode(JSON.stringify(header)), out = new Uint8Array(8 + h.length + at);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  let o = 8 + h.length;
  for (const [, t] of tensors) { out.set(t.bytes, o); o += t.bytes.length; }
  return out;
}

/** A checkpoint's bytes with its header rewritten by `edit` (tensors kept). */
function rewrite(bytes: Uint8Array, edit: (metadata: Record<string, string>, tensors: Map<string, { dtype: string; shape: number[]; data: Float32Array | Int32Array }>) => void): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes);
  edit(metadata, tensors as never);
  return encodeSafetensors(Object.fromEntries([...tensors].map(([k, t]) => [k, { dtype: t.dtype as 'F32', shape: t.shape, data: t.data }])), metadata);
}

describe('checkpoint defects', () => {
  const trained = (() => {
    const model = new GPT(rt, cfg, { seed: 1 });
    const optimizer = new AdamW(model.params);
    // the position train() itself saves: step, sampler (484 = 500 tokens − T) and dropout Rng
    return {
      model, optimizer, bytes: async () => {
        await train({ model, optimizer, ...common, steps: 2 });
        return checkpointBytes(model, { optimizer, position: { step: 2, sampler: { scheme: 2, seed: 9, draws: 6, range: 484 }, dropoutRng: model.ctx.rng.getState() } });
      },
    };
  })();

  it('a config the tensors do not hold ({} = GPT-2 small, 36 layers) is refused before anything is allocated', async () => {
    const bytes = await trained.bytes();
    for (const config of [{}, { ...trained.model.config, nLayer: 36 }, { ...trained.model.config, vocabSize: 50257 }]) {
      const bad = rewrite(bytes, (m) => { m.config = JSON.stringify(config); });
      const before = memory();
      expect(() => modelFromCheckpoint(rt, parseCheckpoint(bad))).toThrow(/is missing|has shape/);
      expect(memory()).toEqual(before);
    }
    const good = modelFromCheckpoint(rt, parseCheckpoint(bytes));      // and the file itself loads, bit for bit
    expect(Array.from(good.params.flat.f32())).toEqual(Array.from(trained.model.params.flat.f32()));
    good.dispose();
  });

  it('configs of the wrong types or unknown fields are refused', async () => {
    const bytes = await trained.bytes();
    for (const [config, why] of [[[1, 2], /not an object|expected an object of config fields/], [{ ...trained.model.config, bias: 'yes' }, /bias is "yes"/], [{ ...trained.model.config, tieWeights: 0 }, /tieWeights is 0/], [{ ...trained.model.config, nLayers: 2 }, /unknown field 'nLayers'/]] as const) {
      expect(() => parseCheckpoint(rewrite(bytes, (m) => { m.config = JSON.stringify(config); })), JSON.stringify(config)).toThrow(why);
    }
  });

  it('a resume position that cannot be resumed changes neither the weights nor the optimizer', async () => {
    const bytes = await trained.bytes();
    const good = parseCheckpoint(bytes).position!;
    const bad = [
      { ...good, step: 2.5 },
      { ...good, step: -1 },
      { ...good, sampler: { ...(good.sampler as object), range: 7 } },
      { ...good, sampler: { seed: 1, draws: 3, range: 484 } },                 // an old-scheme snapshot
      { ...good, dropoutRng: { s: [0, 0, 0, 0], spare: null } },
      { ...good, dropoutRng: { s: 'x' } },
    ];
    const dir = mkdtempSync(join(tmpdir(), 'wf-resume-'));
    const model = new GPT(rt, cfg, { seed: 5 }), optimizer = new AdamW(model.params);
    await train({ model, optimizer, ...common, steps: 1 });
    const weights = model.params.flat.f32().slice(), m = optimizer.stateTensors().exp_avg!.f32().slice(), step = optimizer.stepCount;
    for (const [i, position] of bad.entries()) {
      const path = join(dir, `bad${i}.safetensors`);
      writeFileSync(path, rewrite(bytes, (meta) => { meta.position = JSON.stringify(position); }));
      await expect(train({ model, optimizer, ...common, steps: 4, resume: path }), JSON.stringify(position)).rejects.toThrow(CheckpointError);
    }
    expect(Array.from(model.params.flat.f32())).toEqual(Array.from(weights));
    expect(Array.from(optimizer.stateTensors().exp_avg!.f32())).toEqual(Array.from(m));
    expect(optimizer.stepCount).toBe(step);
    model.dispose();
    optimizer.dispose();
  });

  it('a sampler position of 10^12 draws resumes at once (O(1), not a replay)', async () => {
    const bytes = await trained.bytes();
    const good = parseCheckpoint(bytes).position!;
    const far = rewrite(bytes, (meta) => { meta.position = JSON.stringify({ ...good, sampler: { ...(good.sampler as object), draws: 1e12 } }); });
    const dir = mkdtempSync(join(tmpdir(), 'wf-far-'));
    writeFileSync(join(dir, 'far.safetensors'), far);
    const model = new GPT(rt, cfg), optimizer = new AdamW(model.params);
    const r = await train({ model, optimizer, ...common, steps: 4, resume: join(dir, 'far.safetensors') });
    expect(r.losses.map((l) => l.step)).toEqual([2, 3]);
    model.dispose();
  });

  it('non-finite weights (F32, F16, BF16) are refused naming the tensor and the index', async () => {
    const bytes = await trained.bytes();
    const name = 'transformer.h.1.mlp.c_fc.weight';
    for (const [dtype, value] of [['F32', NaN], ['F32', -Infinity], ['F16', Infinity], ['BF16', NaN]] as const) {
      const { tensors, metadata } = decodeSafetensors(bytes);
      const bad = rawSafetensors([...tensors].map(([k, t]) => {
        const data = (t.data as Float32Array).slice();
        if (k !== name) return [k, { dtype: t.dtype, shape: t.shape, bytes: new Uint8Array(data.buffer) }];
        data[5 * 64 + 3] = value;
        const enc = dtype === 'F32' ? data : Uint16Array.from(data, dtype === 'F16' ? f32ToF16 : f32ToBf16);
        return [k, { dtype, shape: t.shape, bytes: new Uint8Array(enc.buffer) }];
      }), metadata);
      const before = trained.model.params.flat.f32().slice();
      expect(() => loadWeights(trained.model, parseCheckpoint(bad))).toThrow(new RegExp(`${name.replace(/\./g, '\\.')}\\[5, 3\\] \\(element 323\\) is (NaN|-?Infinity)`));
      expect(Array.from(trained.model.params.flat.f32())).toEqual(Array.from(before));
    }
  });

  it('an update that overflows stops training with TrainingError before any checkpoint holds it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-overflow-'));
    const path = join(dir, 'ckpt.safetensors');
    const model = new GPT(rt, cfg, { seed: 2 }), optimizer = new AdamW(model.params);
    const err = await train({ model, optimizer, ...common, steps: 8, lr: (s: number) => (s === 3 ? 1e39 : 1e-3), checkpoint: { every: 1, path } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingError);
    expect((err as Error).message).toMatch(/the update made .*\[\d+\] = (NaN|-?Infinity) non-finite/);
    const last = await readCheckpoint(path);
    expect(last.position!.step).toBe(3);                                          // the checkpoint after step 2 (0-based), finite
    for (const t of last.tensors.values()) if (t.data instanceof Float32Array) expect(t.data.every(Number.isFinite)).toBe(true);
    expect(() => checkpointBytes(model)).toThrow(/refusing to save non-finite weights/);
    model.dispose();
  });

  it('deep or duplicate JSON and aliased names give CheckpointError', async () => {
    const bytes = await trained.bytes();
    const header = (json: string) => {
      const h = new TextEncoder().encode(json), out = new Uint8Array(8 + h.length + 4);
      new DataView(out.buffer).setUint32(0, h.length, true);
      out.set(h, 8);
      return out;
    };
    const deep = '['.repeat(100000) + ']'.repeat(100000);
    expect(() => parseCheckpoint(header(`{"w":{"dtype":"F32","shape":${deep},"data_offsets":[0,4]}}`))).toThrow(CheckpointError);
    expect(() => parseCheckpoint(header(`{"w":{"dtype":${deep},"shape":[1],"data_offsets":[0,4]}}`))).toThrow(CheckpointError);
    expect(() => parseCheckpoint(header(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`))).toThrow(/'w' appears twice/);
    expect(() => parseCheckpoint(header(`{"w":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}`))).toThrow(/'w\.dtype' appears twice/);
    const aliased = rewrite(bytes, (_, tensors) => { tensors.set('wte.weight', tensors.get('transformer.wte.weight')!); });
    expect(() => loadWeights(trained.model, parseCheckpoint(aliased))).toThrow(/both transformer\.wte\.weight and wte\.weight/);
  });

  it('a save removes the temp files a killed save left for the same path, and nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-temps-'));
    const path = join(dir, 'model.safetensors');
    for (const name of ['model.safetensors.tmp-0123456789abcdef', 'model.safetensors.tmp-fedcba9876543210', 'other.safetensors.tmp-0123456789abcdef', 'model.safetensors.tmp-notmine']) writeFileSync(join(dir, name), 'x');
    await saveCheckpoint(path, trained.model);
    expect(readdirSync(dir).sort()).toEqual(['model.safetensors', 'model.safetensors.tmp-notmine', 'other.safetensors.tmp-0123456789abcdef']);
  });

  it('a missing file is a FileError naming it', async () => {
    const path = join(tmpdir(), 'wf-no-such-dir', 'x.safetensors');
    const err = await readCheckpoint(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect((err as FileError).path).toBe(path);
    expect((err as Error).message).toMatch(/cannot read .*x\.safetensors': no such file \(ENOENT\)/);
  });
});
