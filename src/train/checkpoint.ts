// Checkpoints as safetensors: the model's parameters under their Hugging Face names, the
// optimizer's moment buffers, and in `__metadata__` the model config, the tokenizer, the
// optimizer's step and hyper-parameters and the training position (step, data sampler and
// dropout Rng) — everything an exact resume needs. Loading checks the whole file against the
// model before it copies a single number, so a bad file changes nothing.
import { CheckpointError } from '../errors.js';
import type { RngState } from '../random.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import type { Parameter } from '../nn/parameters.js';
import { GPT, gptConfig, type GPTConfig } from '../models/gpt.js';
import type { Optimizer } from '../optim/optimizer.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { sumOfSquares } from '../ops/optim.js';
import { firstNonFinite } from './step.js';
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
  // never write a checkpoint that could not be loaded back (or would spread a NaN)
  if (!Number.isFinite(sumOfSquares(model.rt, model.params.flat))) {
    throw new CheckpointError(`checkpoint: refusing to save non-finite weights (${firstNonFinite(model.params)})`);
  }
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

/**
 * The GPT a checkpoint describes, with its weights. Everything is checked before anything is
 * allocated: the config, then every tensor the config implies (name, shape, dtype, finite
 * values) — a file whose config describes a model its tensors do not hold is refused at once,
 * holding nothing. The weights are not randomly initialised first (they are copied in).
 * @example
 * ```ts
 * const model = modelFromCheckpoint(rt, await readCheckpoint('runs/shakespeare/model.safetensors'));
 * ```
 */
export function modelFromCheckpoint(rt: Runtime, ckpt: Checkpoint): GPT {
  if (!ckpt.config) throw new CheckpointError('checkpoint: no model config in __metadata__.config; build the GPT with its config and use loadWeights');
  let sources: Float32Array[] = [];
  const model = new GPT(rt, ckpt.config, { init: false, validate: (params) => { sources = checkedSources(params.list(), ckpt); } });
  model.params.list().forEach((p, i) => p.value.f32().set(sources[i]!));
  model.params.changed();
  return model;
}

/**
 * The checkpoint tensor of every parameter in `specs`, in order, after checking each: present
 * (under its name, or without GPT-2's `transformer.` prefix — not both), the same shape, a float
 * dtype, every value finite. Throws CheckpointError naming the first fault.
 */
function checkedSources(params: readonly Parameter[], ckpt: Checkpoint): Float32Array[] {
  return params.map((p) => {
    const short = p.name.replace(/^transformer\./, '');
    const full = ckpt.tensors.get(p.name), bare = short !== p.name ? ckpt.tensors.get(short) : undefined;
    if (full && bare) throw new CheckpointError(`checkpoint: holds both ${p.name} and ${short}, two names for one parameter; the file is ambiguous`);
    const t = full ?? bare;
    if (!t) throw new CheckpointError(`checkpoint: parameter ${p.name} (shape [${p.spec.shape.join(', ')}]) is missing`);
    if (t.shape.join(',') !== p.spec.shape.join(',')) {
      throw new CheckpointError(`checkpoint: ${p.name} has shape [${t.shape.join(', ')}], the model expects [${p.spec.shape.join(', ')}]`);
    }
    if (!(t.data instanceof Float32Array)) throw new CheckpointError(`checkpoint: ${p.name} has dtype ${t.dtype}, expected a float type (F32, F16, BF16)`);
    checkFinite(`${p.name}`, t.data, t.shape);
    return t.data;
  });
}

/** Throws CheckpointError naming `name`, the index and the value of the first NaN or ±Inf in `data`. */
function checkFinite(name: string, data: Float32Array, shape: readonly number[]): void {
  for (let i = 0; i < data.length; i++) {
    if (Number.isFinite(data[i]!)) continue;
    const at: number[] = [];
    for (let r = i, d = shape.length - 1; d >= 0; d--) {
      at.unshift(r % shape[d]!);
      r = Math.floor(r / shape[d]!);
    }
    throw new CheckpointError(`checkpoint: ${name}[${at.join(', ')}] (element ${i}) is ${data[i]}; a checkpoint must hold finite values`);
  }
}

/**
 * Copies a checkpoint's weights (and, given `optimizer`, its state) into `model`. The whole
 * file is checked first — config, names, shapes, dtypes, finite values, the optimizer's state
 * and step — so a bad file changes nothing.
 * @example
 * ```ts
 * loadWeights(model, await readCheckpoint(path), optimizer);
 * ```
 */
export function loadWeights(model: GPT, ckpt: Checkpoint, optimizer?: Optimizer): void {
  const theirs = ckpt.config;
  if (theirs) {
    const diffs = (Object.keys(model.config) as (keyof GPTConfig)[]).filter((k) => theirs[k] !== model.config[k])
      .map((k) => `${k}: checkpoint ${String(theirs[k])}, model ${String(model.config[k])}`);
    if (diffs.length) throw new CheckpointError(`checkpoint: config does not match the model (${diffs.join('; ')})`);
  }
  const params = model.params.list();
  const copies: [Tensor, Float32Array][] = checkedSources(params, ckpt).map((src, i) => [params[i]!.value, src]);
  if (optimizer) {
    if (!ckpt.optimizer) throw new CheckpointError('checkpoint: has no optimizer state to resume from');
    for (const [name, buf] of Object.entries(optimizer.stateTensors())) {
      const t = ckpt.tensors.get(`optimizer.${name}`);
      if (!t || t.data.length !== buf.size || !(t.data instanceof Float32Array)) {
        throw new CheckpointError(`checkpoint: optimizer.${name} is missing or has ${t?.data.length ?? 0} elements, expected ${buf.size}`);
      }
      checkFinite(`optimizer.${name}`, t.data, t.shape);
      copies.push([buf, t.data]);
    }
    try {
      optimizer.loadStateMeta(ckpt.optimizer); // checks, then sets the step count; the last thing that can fail
    } catch (err) {
      throw new CheckpointError(`checkpoint: ${(err as Error).message}`);
    }
  }
  for (const [dst, src] of copies) dst.f32().set(src);
  model.params.changed();
}
