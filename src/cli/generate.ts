// `wasmformer generate <model> [prompt]`: streams the continuation of a prompt to stdout.
import { ValueError } from '../errors.js';
import { decodeText, generateText, type TextOptions } from '../generate/text.js';
import type { GPT } from '../models/gpt.js';
import { EncoderDecoder } from '../models/encoder-decoder.js';
import { beamSearch } from '../generate/beam.js';
import { CharTokenizer } from '../tokenizers/char.js';
import type { Runtime } from '../runtime.js';
import { choice, num, parse, UsageError } from './args.js';
import { loadSource, SOURCE_DTYPES } from './source.js';

export const GENERATE_HELP = `usage: wasmformer generate <model> [prompt] [options]
  <model>             a Hugging Face folder or base URL (GPT-2 style, or T5 / Flan-T5: text to text), or a .safetensors file written by wasmformer
  [prompt]            the text to continue (default: read stdin when it is not a terminal, else "\\n")
  --max-new-tokens N  most tokens to add (default 200)
  --temperature T     0 = greedy (default 0.8)
  --top-k K           --top-p P          --seed S (default 0)
  --repetition-penalty R   --frequency-penalty F   --presence-penalty P
  --stop STRING       stop when the text contains STRING (repeatable)
  --time-limit SEC    stop after this many seconds
  --dtype D           f32 (default), int8, f16 or bf16: the weights held in that format (int8: ¼ the memory, faster)
  --beams N           encoder–decoders (T5): beam search with N beams (default 1: greedy); the sampling options are GPT's`;

/** Generation options from the command line (shared with `serve`'s defaults). */
export function textOptions(p: ReturnType<typeof parse>): TextOptions {
  const opts: TextOptions = {
    maxNewTokens: num(p, 'max-new-tokens', { min: 0, max: 1_000_000, integer: true }) ?? 200,
    temperature: num(p, 'temperature', { min: 0 }) ?? 0.8,
    topK: num(p, 'top-k', { min: 1, integer: true }),
    topP: num(p, 'top-p', { min: 1e-9, max: 1 }),
    seed: num(p, 'seed', { integer: true }) ?? 0,
    repetitionPenalty: num(p, 'repetition-penalty', { min: 1e-9 }),
    frequencyPenalty: num(p, 'frequency-penalty'),
    presencePenalty: num(p, 'presence-penalty'),
    stopStrings: (p.values.stop as string[] | undefined) ?? [],
  };
  const limit = num(p, 'time-limit', { min: 1e-3 });
  if (limit !== undefined) opts.timeLimitMs = limit * 1000;
  return opts;
}

export const GENERATION_OPTIONS = {
  'max-new-tokens': { type: 'string' }, temperature: { type: 'string' }, 'top-k': { type: 'string' }, 'top-p': { type: 'string' },
  seed: { type: 'string' }, 'repetition-penalty': { type: 'string' }, 'frequency-penalty': { type: 'string' },
  'presence-penalty': { type: 'string' }, stop: { type: 'string', multiple: true }, 'time-limit': { type: 'string' },
  dtype: { type: 'string' }, beams: { type: 'string' },
} as const;

/** Options that only GPT sampling reads. */
const SAMPLING_ONLY = ['temperature', 'top-k', 'top-p', 'seed', 'repetition-penalty', 'frequency-penalty', 'presence-penalty', 'stop'] as const;

export async function generateCommand(rt: Runtime, args: string[], io: { stdout: NodeJS.WritableStream; stderr?: NodeJS.WritableStream; readStdin(): Promise<string | null> }): Promise<void> {
  const p = parse('generate', args, GENERATION_OPTIONS);
  if (p.values.help) {
    io.stdout.write(GENERATE_HELP + '\n');
    return;
  }
  if (p.positionals.length < 1 || p.positionals.length > 2) throw new UsageError('wasmformer generate takes <model> [prompt] (see: wasmformer generate --help)');
  const opts = textOptions(p);
  const prompt = p.positionals[1] ?? (await io.readStdin()) ?? '\n';
  const dtype = choice(p, 'dtype', SOURCE_DTYPES, 'f32');
  const { model, tokenizer, source } = await loadSource(rt, p.positionals[0]!, io.stderr, dtype);
  if (!tokenizer) throw new UsageError(`${source} has no tokenizer (spiece.model, tokenizer.json, vocab.json + merges.txt, or one saved in the checkpoint)`);
  if (prompt.length === 0) throw new ValueError('the prompt is empty');
  if (model instanceof EncoderDecoder && !(tokenizer instanceof CharTokenizer)) {   // text to text (T5)
    const given = SAMPLING_ONLY.find((k) => p.values[k] !== undefined);
    if (given) throw new UsageError(`--${given} is for sampling from a GPT; ${source} holds a ${model.family} model, decoded greedily or with --beams N`);
    const maxLength = Math.min(model.decoding.maxLength, (num(p, 'max-new-tokens', { min: 1, max: 1_000_000, integer: true }) ?? 200) + 1);   // + EOS
    const beams = num(p, 'beams', { min: 1, max: 64, integer: true }) ?? 1;
    if (beams === 1) {
      // greedy: streamed as it is decoded
      for await (const piece of decodeText(model, tokenizer, prompt, { maxLength, timeLimitMs: opts.timeLimitMs })) io.stdout.write(piece);
    } else {
      const best = beamSearch(model, tokenizer.encode(prompt, { addSpecialTokens: true }), { beamSize: beams, maxLength })[0]!.tokens;
      // T5's embedding has rows past its tokenizer's ids (32128 vs 32100): padding no text maps to
      io.stdout.write(tokenizer.decode(best.filter((id) => id < tokenizer.vocabSize), { skipSpecialTokens: true }));
    }
    io.stdout.write('\n');
    model.dispose();
    return;
  }
  if (model.family !== 'gpt') throw new UsageError(`${source} holds a ${model.family} model; generate needs a GPT (a decoder-only language model) or an encoder–decoder (T5)`);
  if (p.values.beams !== undefined) throw new UsageError(`--beams is for encoder–decoders (T5); ${source} holds a GPT, sampled or greedy (--temperature 0)`);
  const stream = generateText(model as GPT, tokenizer, prompt, opts);
  for await (const piece of stream) io.stdout.write(piece);
  io.stdout.write('\n');
  model.dispose();
}
