// Train a small character-level GPT on a text file (or the built-in verse) and sample from it,
// in plain Node: no TypeScript, no bundler. Writes a checkpoint that sample.mjs (and the Deno
// and edge examples) can load.
//
//   node --experimental-wasm-relaxed-simd examples/node/train.mjs [text file] [--steps 300] [--out runs/node]
//
// (Node 20 needs the flag for the faster `relaxed` build; without it the `simd` build runs. Node 22
// and later have relaxed SIMD on by default and refuse the flag: run plain `node` there.)
import { parseArgs } from 'node:util';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AdamW, CharTokenizer, createRuntime, cosineWithWarmup, generate, GPT, saveCheckpoint, splitTokens, train,
} from 'wasmformer';

// Public domain: the opening of "The Road Not Taken" (Robert Frost, 1916).
const VERSE = `Two roads diverged in a yellow wood,
And sorry I could not travel both
And be one traveler, long I stood
And looked down one as far as I could
To where it bent in the undergrowth;
`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    steps: { type: 'string', default: '300' },
    out: { type: 'string', default: 'runs/node' },
    seed: { type: 'string', default: '1' },
    prompt: { type: 'string', default: 'Two roads' },
  },
});
const steps = Number(values.steps);
const text = positionals[0] ? await readFile(positionals[0], 'utf8') : VERSE.repeat(20);

const rt = await createRuntime(); // the best build this Node can run
console.log(`backend ${rt.backend}, ${rt.threads} thread${rt.threads > 1 ? 's' : ''}${rt.notes.length ? ` (${rt.notes.join('; ')})` : ''}`);

const tok = CharTokenizer.fromText(text);
const { train: trainIds, val: valIds } = splitTokens(tok.encode(text), 0.9);
const model = new GPT(rt, { vocabSize: tok.vocabSize, blockSize: 64, nLayer: 2, nHead: 4, dModel: 64, dropout: 0 }, { seed: Number(values.seed) });
console.log(`${model.numParams().toLocaleString()} parameters, ${tok.vocabSize} characters, ${trainIds.length.toLocaleString()} training tokens`);

const result = await train({
  model,
  optimizer: new AdamW(model.params, { betas: [0.9, 0.99], weightDecay: 0.1 }),
  data: { train: trainIds, val: valIds.length > 64 ? valIds : undefined, batchSize: 16, seed: Number(values.seed) },
  steps,
  lr: cosineWithWarmup({ lr: 3e-3, minLr: 3e-4, warmupSteps: Math.min(30, steps >> 2), decaySteps: steps }),
  clip: 1,
  evalEvery: Math.max(1, Math.floor(steps / 3)),
  onEval: ({ step, train: tl, val }) => console.log(`step ${step}: train ${tl.toFixed(3)}${val === undefined ? '' : `, val ${val.toFixed(3)}`}`),
});
const first = result.losses[0].loss;
const last = result.losses.at(-1).loss;
console.log(`loss ${first.toFixed(3)} → ${last.toFixed(3)} in ${(result.wallMs / 1000).toFixed(1)} s`);

const path = join(values.out, 'model.safetensors');
await mkdir(values.out, { recursive: true });
await saveCheckpoint(path, model, { tokenizer: tok });
console.log(`checkpoint: ${path}`);

const ids = generate(model, tok.encode(values.prompt), { maxNewTokens: 120, temperature: 0.8, topK: 20, seed: 7 });
console.log(`--- sample ---\n${tok.decode(ids)}`);
