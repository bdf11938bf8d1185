// The training stack end to end on tiny models: memorising a sequence, determinism, a steady
// memory footprint, the optimizers against an f64 formula, NaN handling.
import { describe, expect, it } from 'vitest';
import { AdamW, createRuntime, GPT, SGD, train, TrainingError, clipGradNorm, type GPTConfig } from '../../src/index.js';

const rt = await createRuntime({ variant: 'simd' });
const tiny: Partial<GPTConfig> = { vocabSize: 13, blockSize: 16, nLayer: 2, nHead: 2, dModel: 32 };

/** A token stream that repeats one 13-token cycle (each token determines the next, so loss → 0). */
function pattern(len: number): Int32Array {
  const base = [3, 11, 4, 1, 5, 9, 2, 6, 12, 0, 8, 10, 7];
  return Int32Array.from({ length: len }, (_, i) => base[i % base.length]!);
}

async function run(steps: number, seed = 1): Promise<number[]> {
  const model = new GPT(rt, tiny, { seed });
  const optimizer = new AdamW(model.params, { weightDecay: 0 });
  const res = await train({ model, optimizer, data: { train: pattern(400), batchSize: 4, seed }, steps, lr: 1e-2, clip: 1 });
  return res.losses.map((l) => l.loss);
}

describe('training a tiny GPT', () => {
  it('memorises a repeating sequence (loss near 0) and the same seed gives identical losses', async () => {
    const a = await run(150);
    const b = await run(150);
    expect(a).toEqual(b);                       // bit for bit
    expect(a[0]).toBeGreaterThan(2);            // ≈ ln 13 at initialisation
    expect(a.at(-1)).toBeLessThan(0.05);
    const c = await run(5, 2);
    expect(c).not.toEqual(a.slice(0, 5));       // another seed, another run
  });

  it('allocates nothing after the first step: memory and arena peaks stay put', async () => {
    const model = new GPT(rt, tiny, { seed: 4 });
    const optimizer = new AdamW(model.params);
    const seen: { memory: number; stepPeak: number; persistent: number }[] = [];
    await train({
      model, optimizer, data: { train: pattern(300), batchSize: 4 }, steps: 8, lr: 1e-3,
      onStep: () => {
        const r = rt.memoryReport();
        seen.push({ memory: r.memoryBytes, stepPeak: r.step.peakBytes, persistent: r.persistent.usedBytes });
      },
    });
    for (const s of seen.slice(1)) expect(s).toEqual(seen[0]);
  });

  it('stops with a TrainingError naming the step when the loss turns NaN, without updating', async () => {
    const model = new GPT(rt, tiny, { seed: 5 });
    const optimizer = new AdamW(model.params);
    let snapshot: Float32Array | null = null;
    const p = model.params.get('transformer.h.0.mlp.c_fc.weight')!;
    const err = await train({
      model, optimizer, data: { train: pattern(300), batchSize: 2 }, steps: 10, lr: 1e-3,
      onStep: ({ step }) => {
        if (step === 2) {
          p.value.f32()[5] = NaN;
          snapshot = model.params.flat.f32().slice();
        }
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingError);
    expect((err as TrainingError).step).toBe(3);
    expect((err as Error).message).toMatch(/step 3: the loss is NaN/);
    expect(Array.from(model.params.flat.f32())).toEqual(Array.from(snapshot!)); // not updated
    expect(optimizer.stepCount).toBe(3);
  });

  it('clipGradNorm: the global norm over every parameter, and the scale that clips it', () => {
    const model = new GPT(rt, tiny, { seed: 6 });
    const g = model.params.grads.f32();
    g.fill(0);
    g[0] = 3;
    g[g.length - 1] = 4;
    expect(clipGradNorm(model.params, 1).norm).toBeCloseTo(5, 6);
    expect(clipGradNorm(model.params, 1).scale).toBeCloseTo(1 / 5, 6);
    expect(clipGradNorm(model.params, 10).scale).toBe(1);
    g[7] = Infinity;
    expect(Number.isFinite(clipGradNorm(model.params, 1).norm)).toBe(false);
  });
});

describe('optimizers over the flat buffer', () => {
  // f64 reference of one update; the kernels run in f32, so agreement is to a few f32 ulps
  // of the parameter (|Δ| ≤ 1e-6 for parameters of magnitude ≤ 1 and lr ≤ 1e-2).
  it('AdamW decays only the weight-decayed group and matches the formula over 3 steps', () => {
    const model = new GPT(rt, tiny, { seed: 7 });
    const opt = new AdamW(model.params, { betas: [0.9, 0.99], weightDecay: 0.1, eps: 1e-8 });
    const p0 = Float64Array.from(model.params.flat.f32());
    const n = p0.length;
    const m = new Float64Array(n);
    const v = new Float64Array(n);
    const p = Float64Array.from(p0);
    const split = model.params.decayEnd;
    for (let t = 1; t <= 3; t++) {
      const g = model.params.grads.f32();
      for (let i = 0; i < n; i++) g[i] = Math.sin(i * 0.37 + t);
      const lr = 1e-2;
      const scale = 0.5;
      opt.step({ lr, gradScale: scale });
      for (let i = 0; i < n; i++) {
        const gi = Math.fround(g[i]!) * scale;
        m[i] = 0.9 * m[i]! + 0.1 * gi;
        v[i] = 0.99 * v[i]! + 0.01 * gi * gi;
        const wd = i < split ? 0.1 : 0;
        p[i] = p[i]! - lr * (wd * p[i]! + (m[i]! / (1 - 0.9 ** t)) / (Math.sqrt(v[i]! / (1 - 0.99 ** t)) + 1e-8));
      }
    }
    const got = model.params.flat.f32();
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i]! - p[i]!));
    expect(worst).toBeLessThan(1e-6);
    expect(opt.stepCount).toBe(3);
  });

  it('SGD with momentum and Nesterov matches the formula', () => {
    const model = new GPT(rt, tiny, { seed: 8 });
    const opt = new SGD(model.params, { momentum: 0.9, nesterov: true, weightDecay: 0.01 });
    const n = model.params.flat.size;
    const p = Float64Array.from(model.params.flat.f32());
    const buf = new Float64Array(n);
    const split = model.params.decayEnd;
    for (let t = 1; t <= 3; t++) {
      const g = model.params.grads.f32();
      for (let i = 0; i < n; i++) g[i] = Math.cos(i * 0.11 + t);
      opt.step({ lr: 0.05 });
      for (let i = 0; i < n; i++) {
        const gi = Math.fround(g[i]!) + (i < split ? 0.01 : 0) * p[i]!;
        buf[i] = 0.9 * buf[i]! + gi;
        p[i] = p[i]! - 0.05 * (gi + 0.9 * buf[i]!);
      }
    }
    const got = model.params.flat.f32();
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i]! - p[i]!));
    expect(worst).toBeLessThan(2e-6);
  });
});
