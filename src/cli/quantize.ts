// `wasmformer quantize <model> <out.safetensors> --dtype int8|f16|bf16`: the model's weights in a
// smaller file (saveModel's formats), its tokenizer inside, readable by every command and by
// loadModel / loadPretrained.
import { statSync } from 'node:fs';
import { writeFileAtomic } from '../io/files.js';
import { saveModel } from '../models/files.js';
import type { Runtime } from '../runtime.js';
import { choice, parse, positionals } from './args.js';
import { loadSource } from './source.js';

export const QUANTIZE_HELP = `usage: wasmformer quantize <model> <out.safetensors> [--dtype int8|f16|bf16]
  int8 (default): every matmul weight as I8 with one f32 scale per output channel, the rest f32
  f16 / bf16:     every parameter at half precision
  the output holds the tokenizer: 'wasmformer generate <out.safetensors>' runs it`;

export async function quantizeCommand(rt: Runtime, args: string[], io: { stdout: NodeJS.WritableStream; stderr?: NodeJS.WritableStream }): Promise<void> {
  const p = parse('quantize', args, { dtype: { type: 'string' } });
  if (p.values.help) {
    io.stdout.write(QUANTIZE_HELP + '\n');
    return;
  }
  const [source, out] = positionals('quantize', p, ['model', 'out.safetensors']);
  const dtype = choice(p, 'dtype', ['int8', 'f16', 'bf16'] as const, 'int8');
  const { model, tokenizer } = await loadSource(rt, source!, io.stderr);
  const bytes = saveModel(model, tokenizer ? { tokenizer: tokenizer.save() } : {}, { dtype });
  await writeFileAtomic(out!, bytes);
  const f32Bytes = 4 * model.numParams();
  io.stdout.write(`${out}: ${dtype}, ${(statSync(out!).size / 2 ** 20).toFixed(1)} MiB (the f32 weights: ${(f32Bytes / 2 ** 20).toFixed(1)} MiB)\n`);
  model.dispose();
}
