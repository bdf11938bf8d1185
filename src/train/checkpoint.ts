// Checkpoints as safetensors: the model's parameters under their Hugging Face names, the
// optimizer's moment buffers, and in `__metadata__` the model config, the tokenizer, the
// optimizer's step and hyper-parameters and the training position (step, data sampler and
// dropout Rng) — everything an exact resume needs. Loading checks the whole file against the
// model before it copies a single number, so a bad file changes nothing.
import { CheckpointError } from '../errors.js';
import type { RngState } from '../random.js';
import type { Runtime } from '../runtime.js';
import { GPT, gptConfig, type GPTConfig } from '../models/gpt.js';
import type { Optimizer } from '../optim/optimizer.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { readFileBytes, writeFileAtomic } from '../io/files.js';

export const CHECKPOINT_FORMAT = 'wasmformer-gpt-1';

/** Where a training run stood when the checkpoint was written. */
export interface TrainPosition {
  /** Updates done. */
  step: number;
  /** Training batch sampler position (BatchSampler.state()). */
  sampler?: unknown;
  /** Dropout Rng position. */
  dropoutRng?: RngState;
  /** Anything else the caller wants back (JSON). */
  extra?: unknown;
}

export interface CheckpointContents {
  optimizer?: Optimizer;
  /** Saved as `tokenizer.save()`. */
  tokenizer?: { save(): string };
  position?: TrainPosition;
}

/** A decoded checkpoint: tensors by name and the parsed metadata. */
export interface Checkpoint {
  tensors: Map<string, { dtype: string; shape: number[]; data: Float32Array | Int32Array }>;
  /** Absent in files written elsewhere (e.g. Hugging Face's); then only names and shapes are checked. */
  config?: GPTConfig;
  tokenizer?: string;
  optimizer?: Record<string, unknown>;
  position?: TrainPosition;
}

/**
 * The checkpoint of `model` (and optionally optimizer, tokenizer, position) as safetensors bytes.
 * Without an optimizer it is a plain weights file that Hugging Face's GPT2LMHeadModel can load.
 * @example
 * ```ts
 * const bytes = checkpointBytes(model, { optimizer: opt, tokenizer: tok, position: { step } });
 * ```
 */
export function checkpointBytes(model: GPT, contents: CheckpointContents = {}): Uint8Array {
  const tensors: Parameters<typeof encodeSafetensors>[0] = {};
  for (const p of model.params.list()) tensors[p.name] = { dtype: 'F32', shape: [...p.spec.shape], data: p.value.f32() };
  const metadata: Record<string, string> = { format: CHECKPOINT_FORMAT, config: JSON.stringify(model.config) };
  if (contents.optimizer) {
    for (const [name, t] of Object.entries(contents.optimizer.stateTensors())) {
      tensors[`optimizer.${name}`] = { dtype: 'F32', shape: [...t.shape], data: t.f32() };
    }
    metadata.optimizer = JSON.stringify(contents.optimizer.stateMeta());
  }
  if (contents.tokenizer) metadata.tokenizer = contents.tokenizer.save();
  if (contents.position) metadata.position = JSON.stringify(contents.position);
  return encodeSafetensors(tensors, metadata);
}

/** Writes a checkpoint atomically (temporary file, then rename): a crash never leaves half a file. */
export async function saveCheckpoint(path: string, model: GPT, contents: CheckpointContents = {}): Promise<void> {
  await writeFileAtomic(path, checkpointBytes(model, contents));
}

/** Decodes and checks a checkpoint's bytes (or reads `path` first). Throws CheckpointError. */
export async function readCheckpoint(source: Uint8Array | string): Promise<Checkpoint> {
  const bytes = typeof source === 'string' ? await readFileBytes(source) : source;
  return parseCheckpoint(bytes);
}

/** Synchronous `readCheckpoint` for bytes. */
export function parseCheckpoint(bytes: Uint8Array): Checkpoint {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const json = (key: string): unknown => {
    const s = metadata[key];
    if (s === undefined) return undefined;
    try {
      return JSON.parse(s);
    } catch {
      throw new CheckpointError(`checkpoint: metadata '${key}' is not valid JSON`);
    }
  };
  const raw = json('config');
  let config: GPTConfig | undefined;
  if (raw !== undefined) {
    if (!raw || typeof raw !== 'object') throw new CheckpointError('checkpoint: __metadata__.config is not a JSON object');
    try {
      config = gptConfig(raw as Partial<GPTConfig>);
    } catch (err) {
      throw new CheckpointError(`checkpoint: its model config is invalid: ${(err as Error).message}`);
    }
  }
  return {
    tensors, config, tokenizer: metadata.tokenizer,
    optimizer: json('optimizer') as Record<string, unknown> | undefined,
    position: json('position') as TrainPosition | undefined,
  };
}

/** A new GPT built from a checkpoint's config and weights. */
export function modelFromCheckpoint(rt: Runtime, ckpt: Checkpoint): GPT {
  if (!ckpt.config) throw new CheckpointError('checkpoint: no model config in __metadata__.config; build the GPT with its config and use loadWeights');
  const model = new GPT(rt, ckpt.config);
  loadWeights(model, ckpt);
  return model;
}

/**
 * Copies a checkpoint's weights (and optimizer state, when `optimizer` is given) into `model`,
 * after checking every name and shape; on any mismatch throws CheckpointError and changes nothing.
 * Accepts Hugging Face GPT-2 files too (names without `transformer.`, attention mask buffers).
 */
export function loadWeights(model: GPT, ckpt: Checkpoint, optimizer?: Optimizer): void {
  const theirs = ckpt.config;
  if (theirs) {
    const diffs = (Object.keys(model.config) as (keyof GPTConfig)[]).filter((k) => theirs[k] !== model.config[k])
      .map((k) => `${k}: checkpoint ${String(theirs[k])}, model ${String(model.config[k])}`);
    if (diffs.length) throw new CheckpointError(`checkpoint: config does not match the model (${diffs.join('; ')})`);
  }
  const copies: [Float32Array, Float32Array | Int32Array][] = [];
  const find = (name: string) => ckpt.tensors.get(name) ?? ckpt.tensors.get(name.replace(/^transformer\./, ''));
  for (const p of model.params.list()) {
    const t = find(p.name);
    if (!t) throw new CheckpointError(`checkpoint: parameter ${p.name} (shape [${p.spec.shape.join(', ')}]) is missing`);
    if (t.shape.join(',') !== p.spec.shape.join(',')) {
      throw new CheckpointError(`checkpoint: ${p.name} has shape [${t.shape.join(', ')}], the model expects [${p.spec.shape.join(', ')}]`);
    }
    if (!(t.data instanceof Float32Array)) throw new CheckpointError(`checkpoint: ${p.name} has dtype ${t.dtype}, expected a float type`);
    copies.push([p.value.f32(), t.data]);
  }
  if (optimizer) {
    if (!ckpt.optimizer) throw new CheckpointError('checkpoint: has no optimizer state to resume from');
    for (const [name, buf] of Object.entries(optimizer.stateTensors())) {
      const t = ckpt.tensors.get(`optimizer.${name}`);
      if (!t || t.data.length !== buf.size || !(t.data instanceof Float32Array)) {
        throw new CheckpointError(`checkpoint: optimizer.${name} is missing or has ${t?.data.length ?? 0} elements, expected ${buf.size}`);
      }
      copies.push([buf.f32(), t.data]);
    }
    try {
      optimizer.loadStateMeta(ckpt.optimizer); // checks, then sets the step count; the last thing that can fail
    } catch (err) {
      throw new CheckpointError(`checkpoint: ${(err as Error).message}`);
    }
  }
  for (const [dst, src] of copies) dst.set(src);
  model.params.changed();
}
