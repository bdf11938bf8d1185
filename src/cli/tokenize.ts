// `wasmformer tokenize <model or tokenizer.json> [text]`: the ids of a text (or, with --decode,
// the text of ids), using a model folder's, a checkpoint's, or a tokenizer.json's tokenizer.
import { readFileSync, statSync } from 'node:fs';
import { tokenizerFromHuggingFace } from '../tokenizers/hf-tokenizer.js';
import { loadTokenizer, type AnyTokenizer } from '../tokenizers/load.js';
import { readTokenizerFolder } from '../tokenizers/files.js';
import { readCheckpoint, tokenizerFromCheckpoint } from '../train/checkpoint.js';
import { parse, UsageError } from './args.js';

export const TOKENIZE_HELP = `usage: wasmformer tokenize <source> [text] [--decode] [--tokens]
  <source>   a model folder, a tokenizer.json, or a .safetensors checkpoint with a tokenizer
  [text]     the text (default: stdin); with --decode, ids separated by spaces or commas
  --tokens   print the token strings beside the ids`;

async function tokenizerOf(source: string): Promise<AnyTokenizer> {
  let stat;
  try {
    stat = statSync(source);
  } catch {
    throw new UsageError(`'${source}' does not exist; give a model folder, a tokenizer.json or a checkpoint`);
  }
  if (stat.isDirectory()) return readTokenizerFolder(source);
  if (source.endsWith('.json')) {
    const json = readFileSync(source, 'utf8');
    return /"model"\s*:/.test(json) ? tokenizerFromHuggingFace(json) : loadTokenizer(json);
  }
  const tok = tokenizerFromCheckpoint(await readCheckpoint(source));
  if (!tok) throw new UsageError(`${source} holds no tokenizer`);
  return tok;
}

export async function tokenizeCommand(args: string[], io: { stdout: NodeJS.WritableStream; readStdin(): Promise<string | null> }): Promise<void> {
  const p = parse('tokenize', args, { decode: { type: 'boolean' }, tokens: { type: 'boolean' } });
  if (p.values.help) {
    io.stdout.write(TOKENIZE_HELP + '\n');
    return;
  }
  if (p.positionals.length < 1 || p.positionals.length > 2) throw new UsageError('wasmformer tokenize takes <source> [text] (see: wasmformer tokenize --help)');
  const tok = await tokenizerOf(p.positionals[0]!);
  const input = p.positionals[1] ?? (await io.readStdin());
  if (input === null) throw new UsageError('give the text as an argument or on stdin');
  if (p.values.decode) {
    const ids = input.split(/[\s,]+/).filter(Boolean).map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n)) throw new UsageError(`'${s}' is not a token id`);
      return n;
    });
    io.stdout.write(tok.decode(ids) + '\n');
    return;
  }
  const ids = Array.from(tok.encode(input));
  if (!p.values.tokens || !('idToToken' in tok)) io.stdout.write(ids.join(' ') + '\n');
  else io.stdout.write(ids.map((id) => `${id}\t${JSON.stringify((tok as { idToToken(id: number): string | undefined }).idToToken(id))}`).join('\n') + '\n');
}
