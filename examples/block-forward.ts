// `npm start`: one GPT-2-small transformer block, forward, on wasmformer's kernels.
// Runs the block on the best wasm variant and on the plain-JS twins (same code, same
// random weights), prints the time of each and how far apart their outputs are.
// Options: --tokens T (default 128), --variant simd|relaxed|threads (default: auto), --reps N.
import { parseArgs } from 'node:util';
import {
  add, attendForward, createRuntime, gelu, layernorm, matmul, type HeadView, type Runtime, type Tensor,
} from '../src/index.js';

const { values } = parseArgs({
  options: {
    tokens: { type: 'string', default: '128' },
    variant: { type: 'string', default: 'auto' },
    reps: { type: 'string', default: '5' },
  },
});
const T = Number(values.tokens), C = 768, NH = 12, HS = C / NH, reps = Number(values.reps);

interface BlockWeights {
  ln1w: Tensor; ln1b: Tensor; attnW: Tensor; attnB: Tensor; projW: Tensor; projB: Tensor;
  ln2w: Tensor; ln2b: Tensor; fcW: Tensor; fcB: Tensor; fc2W: Tensor; fc2B: Tensor;
}

/** GPT-2 block weights in Hugging Face's Conv1D layout (in, out), seeded. */
function weights(rt: Runtime): BlockWeights {
  const w = (shape: number[], seed: number, std = 0.02) => rt.randn(shape, { seed, std });
  const ones = (n: number) => rt.tensor(new Array(n).fill(1));
  return {
    ln1w: ones(C), ln1b: rt.zeros([C]), attnW: w([C, 3 * C], 1), attnB: rt.zeros([3 * C]),
    projW: w([C, C], 2), projB: rt.zeros([C]), ln2w: ones(C), ln2b: rt.zeros([C]),
    fcW: w([C, 4 * C], 3), fcB: rt.zeros([4 * C]), fc2W: w([4 * C, C], 4), fc2B: rt.zeros([C]),
  };
}

/** Causal self-attention over qkv (T, 3C) → (T, C): heads are strided views into qkv (nothing copied), all of them in one batched GEMM per product. */
function attention(rt: Runtime, qkv: Tensor): Tensor {
  const probs = rt.empty([1, NH, T, T], { arena: 'step' });
  const y = rt.empty([T, C], { arena: 'step' });
  // Q, K, V: columns 0, C and 2C of each 3C-wide row; head h starts hs floats further
  const part = (col: number): HeadView => ({ t: qkv, at: col, ld: 3 * C, batchStride: T * 3 * C });
  // probs[h] = softmax(q_h · k_hᵀ / √hs, causal); y[:, h] = probs[h] · v_h, written in the (T, C) layout
  attendForward(rt, { t: y, at: 0, ld: C, batchStride: T * C }, probs, part(0), part(C), part(2 * C),
    { B: 1, Tq: T, Tk: T, nHead: NH, hs: HS, causal: true });
  return y;
}

/** x + attn(ln1(x)), then + mlp(ln2(x)): the GPT-2 (pre-norm) block. */
function block(rt: Runtime, w: BlockWeights, x: Tensor): Tensor {
  const h1 = layernorm(rt, x, w.ln1w, w.ln1b).out;
  const qkv = matmul(rt, h1, w.attnW, { bias: w.attnB });
  const x1 = add(rt, x, matmul(rt, attention(rt, qkv), w.projW, { bias: w.projB }));
  const h2 = layernorm(rt, x1, w.ln2w, w.ln2b).out;
  const ff = matmul(rt, gelu(rt, matmul(rt, h2, w.fcW, { bias: w.fcB })), w.fc2W, { bias: w.fc2B });
  return add(rt, x1, ff);
}

async function run(variant: string): Promise<{ rt: Runtime; out: Float32Array; ms: number }> {
  const rt = await createRuntime({ variant: variant as 'auto' });
  const w = weights(rt);
  const x = rt.randn([T, C], { seed: 7 });
  let out = new Float32Array(0);
  let best = Infinity;
  for (let r = 0; r < (rt.backend === 'js' ? 1 : reps); r++) {
    const t0 = performance.now();
    const y = block(rt, w, x);
    best = Math.min(best, performance.now() - t0);
    out = y.f32().slice();
    rt.step.reset();
  }
  return { rt, out, ms: best };
}

const flops = 2 * T * C * (3 * C + C + 8 * C) + 4 * T * T * C; // linears + attention products (full T×T)
const fast = await run(values.variant!);
console.log(`wasmformer demo: one GPT-2-small block forward (T=${T}, C=${C}, ${NH} heads)`);
console.log(`backend: ${fast.rt.backend}${fast.rt.notes.length ? `  (${fast.rt.notes.join('; ')})` : ''}`);
const slow = await run('js');
let maxDiff = 0, maxAbs = 0;
for (let i = 0; i < fast.out.length; i++) {
  maxDiff = Math.max(maxDiff, Math.abs(fast.out[i]! - slow.out[i]!));
  maxAbs = Math.max(maxAbs, Math.abs(slow.out[i]!));
}
const gf = (ms: number) => (flops / ms / 1e6).toFixed(1);
console.log(`wasm ${fast.rt.backend}: ${fast.ms.toFixed(1)} ms (${gf(fast.ms)} GFLOP/s, best of ${reps})`);
console.log(`plain-JS twins: ${slow.ms.toFixed(1)} ms (${gf(slow.ms)} GFLOP/s)`);
console.log(`speedup: ${(slow.ms / fast.ms).toFixed(1)}×   max |wasm − js| = ${maxDiff.toExponential(2)} (outputs up to ${maxAbs.toFixed(2)})`);
const mem = fast.rt.memoryReport();
console.log(`memory: ${(mem.memoryBytes / 2 ** 20).toFixed(1)} MiB wasm memory, params ${(mem.persistent.usedBytes / 2 ** 20).toFixed(1)} MiB, step peak ${(mem.step.peakBytes / 2 ** 20).toFixed(1)} MiB`);
if (!(maxDiff <= 1e-3 * Math.max(1, maxAbs))) {
  console.error('wasm and JS outputs disagree: this is a bug, please report it');
  process.exitCode = 1;
}
