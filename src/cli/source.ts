// What the CLI's model argument can be: a Hugging Face folder or base URL (loadPretrained), or
// one .safetensors file written by wasmformer (saveModel, or a training checkpoint with its
// tokenizer inside).
import { existsSync, statSync } from 'node:fs';
import { loadModel } from '../models/files.js';
import type { Model } from '../models/model.js';
import { loadPretrained } from '../models/pretrained.js';
import type { Runtime } from '../runtime.js';
import { readCheckpoint, tokenizerFromCheckpoint } from '../train/checkpoint.js';
import type { AnyTokenizer } from '../tokenizers/load.js';
import { UsageError } from './args.js';

/** A loaded model and its tokenizer (null when the source has none). */
export interface Loaded {
  model: Model;
  tokenizer: AnyTokenizer | null;
  /** Where it came from, for messages. */
  source: string;
}

/**
 * Loads `source`: an http(s) URL or a directory → loadPretrained; a file → our safetensors format.
 * @throws UsageError for a path that does not exist; the loaders' typed errors otherwise.
 */
export async function loadSource(rt: Runtime, source: string, progress?: NodeJS.WritableStream): Promise<Loaded> {
  // loading a published model takes seconds: say so on a terminal
  const tty = (progress as NodeJS.WriteStream | undefined)?.isTTY === true;
  const t0 = performance.now();
  if (tty) progress!.write(`loading ${source} …`);
  const loaded = await load(rt, source);
  if (tty) progress!.write(` ${(loaded.model.numParams() / 1e6).toFixed(1)}M parameters in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return loaded;
}

async function load(rt: Runtime, source: string): Promise<Loaded> {
  if (/^https?:\/\//i.test(source)) {
    const { model, tokenizer } = await loadPretrained(rt, source);
    return { model, tokenizer, source };
  }
  if (!existsSync(source)) throw new UsageError(`'${source}' does not exist; give a model folder (config.json + model.safetensors), a URL, or a .safetensors file written by wasmformer`);
  if (statSync(source).isDirectory()) {
    const { model, tokenizer } = await loadPretrained(rt, source);
    return { model, tokenizer, source };
  }
  const ckpt = await readCheckpoint(source);
  const { model } = loadModel(rt, ckpt.file, { family: ckpt.family, config: ckpt.config });
  model.eval();
  return { model, tokenizer: tokenizerFromCheckpoint(ckpt) ?? null, source };
}
