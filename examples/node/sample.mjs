// Load a checkpoint written by train.mjs (or `npm run train`) and stream a continuation.
//
//   node examples/node/sample.mjs runs/node/model.safetensors --prompt "Two roads" [--tokens 200] [--temperature 0.8]
import { parseArgs } from 'node:util';
import { CharTokenizer, createRuntime, generateStream, modelFromCheckpoint, readCheckpoint } from 'wasmformer';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    prompt: { type: 'string', default: '\n' },
    tokens: { type: 'string', default: '200' },
    temperature: { type: 'string', default: '0.8' },
    topK: { type: 'string', default: '20' },
    seed: { type: 'string', default: '0' },
  },
});
if (!positionals[0]) throw new Error('usage: node examples/node/sample.mjs <checkpoint.safetensors> [--prompt text]');

const rt = await createRuntime();
const ckpt = await readCheckpoint(positionals[0]);
if (!ckpt.tokenizer) throw new Error(`${positionals[0]} has no tokenizer in its metadata`);
const tok = CharTokenizer.load(ckpt.tokenizer);
const model = modelFromCheckpoint(rt, ckpt);
model.eval();

process.stdout.write(values.prompt);
for await (const id of generateStream(model, tok.encode(values.prompt), {
  maxNewTokens: Number(values.tokens), temperature: Number(values.temperature), topK: Number(values.topK), seed: Number(values.seed),
})) {
  process.stdout.write(tok.decode([id]));
}
process.stdout.write('\n');
