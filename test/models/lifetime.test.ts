// What a model holds and gives back: an inference-only model holds its weights only (no gradient
// buffer, no optimizer state), training allocates them on first use, and dispose returns every
// byte: 200 models made, trained a step and disposed leave the runtime's memory where it was.
import { describe, expect, it } from 'vitest';
import { AdamW, createRuntime, GPT, StaleTensorError, trainStep, type GPTConfig, type Runtime } from '../../src/index.js';

const TINY: Partial<GPTConfig> = { vocabSize: 65, blockSize: 16, nLayer: 2, nHead: 2, dModel: 32, dFF: 64 };

const used = (rt: Runtime) => rt.memoryReport().persistent.usedBytes;
const ids = (rt: Runtime) => rt.tensor(Int32Array.from({ length: 2 * 16 }, (_, i) => (i * 7) % 65), [2, 16], { dtype: 'i32', arena: 'step' });

/** Runs `fn` on a fresh one-thread simd runtime, disposed afterwards (also when `fn` throws). */
async function onRuntime(fn: (rt: Runtime) => void): Promise<void> {
  const rt = await createRuntime({ variant: 'simd', threads: 1 });
  try {
    fn(rt);
  } finally {
    rt.dispose();
  }
}

/** One training step of `model` (next-token loss over a fixed batch). */
function step(rt: Runtime, model: GPT, opt: AdamW, n: number): number {
  return trainStep(model, opt, () => {
    const x = ids(rt);
    return model.forward(x, x).loss!;
  }, { step: n, lr: 1e-3 }).loss;
}

describe('model lifetimes', () => {
  it('an inference-only model holds its weights only; training allocates gradients and state on first use', () => onRuntime((rt) => {
    const base = used(rt);
    const model = new GPT(rt, TINY, { seed: 1 });
    const weightBytes = model.params.flat.bytes;
    expect(model.params.hasGrads).toBe(false);
    expect(used(rt) - base).toBeLessThanOrEqual(1.1 * 4 * model.numParams());
    expect(used(rt) - base).toBe(weightBytes);
    rt.step.scope(() => rt.tape.noGrad(() => model.forward(ids(rt))));
    expect(model.params.hasGrads).toBe(false);                 // inference: still no gradients
    const afterInference = used(rt);                           // plus the packed copies of the matrices
    const opt = new AdamW(model.params);
    expect(used(rt)).toBe(afterInference);                     // the optimizer's moments wait for its first step
    step(rt, model, opt, 0);
    expect(model.params.hasGrads).toBe(true);
    expect(used(rt) - afterInference).toBe(3 * weightBytes);   // gradients, m and v
    opt.dispose();
    model.dispose();
    expect(used(rt)).toBe(base);
  }));

  it('packWeights: false keeps inference at the weight bytes (≤ 1.1×), the same logits; toggling frees the copies', () => onRuntime((rt) => {
    const base = used(rt);
    const lean = new GPT(rt, TINY, { seed: 1, packWeights: false });
    const infer = (m: GPT) => rt.step.scope(() => rt.tape.noGrad(() => m.forward(ids(rt)).logits.toArray()));
    const a = infer(lean);
    expect(used(rt) - base).toBe(lean.params.flat.bytes);                      // no packed copies, no gradients
    expect(used(rt) - base).toBeLessThanOrEqual(1.1 * 4 * lean.numParams());
    lean.params.packWeights = true;
    const b = infer(lean);
    expect(used(rt) - base).toBeGreaterThan(lean.params.flat.bytes);
    expect(b).toEqual(a);            // 32 rows: the packed path gives gemm_f32's bits (from 17 rows on)
    lean.params.packWeights = false;                                             // frees them again
    expect(used(rt) - base).toBe(lean.params.flat.bytes);
    lean.dispose();
  }));

  it('200 models made, trained one step, run for inference and disposed leave the memory where it was', () => onRuntime((rt) => {
    const base = used(rt);
    let memoryAfterFirst = 0;
    const losses: number[] = [];
    for (let i = 0; i < 200; i++) {
      const model = new GPT(rt, TINY, { seed: 1 });
      const opt = new AdamW(model.params);
      losses.push(step(rt, model, opt, 0));
      rt.step.scope(() => rt.tape.noGrad(() => model.forward(ids(rt))));
      opt.dispose();
      model.dispose();
      expect(used(rt)).toBe(base);
      if (i === 0) memoryAfterFirst = rt.heap.memoryBytes;
    }
    expect(rt.heap.memoryBytes).toBe(memoryAfterFirst);        // the wasm memory did not grow after the first cycle
    expect(new Set(losses).size).toBe(1);                      // reused memory, same model, same loss
  }));

  it('a disposed model refuses to run: its tensors are stale', () => onRuntime((rt) => {
    const model = new GPT(rt, TINY, { seed: 1 });
    const wte = model.params.get('transformer.wte.weight')!.value;
    const flatPtr = model.params.flat.ptr;
    model.dispose();
    model.dispose();                                           // idempotent
    expect(() => wte.ptr).toThrow(StaleTensorError);
    expect(() => rt.step.scope(() => model.forward(ids(rt)))).toThrow(/disposed|freed/);
    const again = new GPT(rt, TINY, { seed: 1 });              // the freed bytes are reused
    expect(again.params.flat.ptr).toBe(flatPtr);
    again.dispose();
  }));
});
