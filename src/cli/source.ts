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

/** The formats the CLI runs a model in (`--dtype`): other than f32, the weights are held only in that format. */
export const SOURCE_DTYPES = ['f32', 'int8', 'f16', 'bf16'] as const;
export type SourceDType = (typeof SOURCE_DTYPES)[number];

/**
 * Loads `source`: an http(s) URL or a directory → loadPretrained; a file → our safetensors format;
 * `dtype` other than f32 holds the weight matrices only in that format.
 * @throws UsageError for a path that does not exist; the loaders' typed errors otherwise.
 */
export async function loadSource(rt: Runtime, source: string, progress?: NodeJS.WritableStream, dtype: SourceDType = 'f32'): Promise<Loaded> {
  // loading a published model takes seconds: say so on a terminal
  const tty = (progress as NodeJS.WriteStream | undefined)?.isTTY === true;
  const t0 = performance.now();
  if (tty) progress!.write(`loading ${source} …`);
  const loaded = await load(rt, source, dtype);
  if (tty) progress!.write(` ${(loaded.model.numParams() / 1e6).toFixed(1)}M parameters in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return loaded;
}

async function load(rt: Runtime, source: string, dtype: SourceDType): Promise<Loaded> {
  if (/^https?:\/\//i.test(source)) {
    const { model, tokenizer } = await loadPretrained(rt, source, { dtype });
    return { model, tokenizer, source };
  }
  if (!existsSync(source)) throw new UsageError(`'${source}' does not exist; give a model folder (config.json + model.safetensors), a URL, or a .safetensors file written by wasmformer`);
  if (statSync(source).isDirectory()) {
    const { model, tokenizer } = await loadPretrained(rt, source, { dtype });
    return { model, tokenizer, source };
  }
  const ckpt = await readCheckpoint(source);
  const { model } = loadModel(rt, ckpt.file, { family: ckpt.family, config: ckpt.config, dtype });
  model.eval();
  return { model, tokenizer: tokenizerFromCheckpoint(ckpt) ?? null, source };
}
