// Checkpoints: the model file of `saveModel` (safetensors, Hugging Face names, family tag and
// config in the metadata) plus the optimizer's state buffers, and in `__metadata__` the
// optimizer's step and hyper-parameters, the tokenizer and the training position (step, batch
// source, dropout Rng) — everything an exact resume needs, for every family. Files of the
// earlier GPT-only format ('wasmformer-gpt-1') still load. Loading checks the whole file against
// the model before it copies a single number, so a bad file changes nothing.
import { CheckpointError } from '../errors.js';
import type { RngState } from '../random.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import type { GPT } from '../models/gpt.js';
import type { Model, ModelFamily } from '../models/model.js';
import { MODEL_FORMAT, checkFinite, checkModelFile, familyConfig, loadModel } from '../models/files.js';
import type { Optimizer } from '../optim/optimizer.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile } from '../io/safetensors.js';
import { sumOfSquares } from '../ops/optim.js';
import { firstNonFinite } from './step.js';
import { readFileBytes, writeFileAtomic } from '../io/files.js';
import { loadTokenizer, type AnyTokenizer } from '../tokenizers/load.js';

/** The earlier GPT-only checkpoint format, still read. */
export const CHECKPOINT_FORMAT = 'wasmformer-gpt-1';

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
  /** Saved as `tokenizer.save()` (any tokenizer: char, BPE, WordPiece); `tokenizerFromCheckpoint` restores it. */
  tokenizer?: { save(): string };
  position?: TrainPosition;
}

/** A decoded checkpoint: tensors by name and the parsed metadata. */
export interface Checkpoint {
  tensors: Map<string, { dtype: string; shape: number[]; data: Float32Array | Int32Array }>;
  /** The model family ('gpt' for files of the earlier GPT-only format). */
  family: ModelFamily;
  /** The full config; absent in files written elsewhere (e.g. Hugging Face's): then only names and shapes are checked. */
  config?: object;
  /** The tokenizer's saved JSON, as written; {@link tokenizerFromCheckpoint} gives the tokenizer. */
  tokenizer?: string;
  optimizer?: Record<string, unknown>;
  position?: TrainPosition;
  /** The decoded file. */
  file: SafetensorsFile;
}

/**
 * The checkpoint of `model` (and optionally optimizer, tokenizer, position) as safetensors bytes.
 * Without an optimizer it is a plain weights file that Hugging Face's GPT2LMHeadModel can load.
 * @example
 * ```ts
 * const bytes = checkpointBytes(model, { optimizer: opt, tokenizer: tok, position: { step } });
 * ```
 */
/**
 * A checkpoint's bytes: the model (as `saveModel` writes it) and, when given, the optimizer's
 * state, the tokenizer and the training position. Refuses non-finite weights.
 * @example
 * ```ts
 * const bytes = checkpointBytes(model, { optimizer, position: { step: 100 } });
 * ```
 */
export function checkpointBytes(model: Model, contents: CheckpointContents = {}): Uint8Array {
  // never write a checkpoint that could not be loaded back (or would spread a NaN)
  if (!Number.isFinite(sumOfSquares(model.rt, model.params.flat))) {
    throw new CheckpointError(`checkpoint: refusing to save non-finite weights (${firstNonFinite(model.params)})`);
  }
  const tensors: Parameters<typeof encodeSafetensors>[0] = {};
  for (const p of model.params.list()) tensors[p.name] = { dtype: 'F32', shape: [...p.spec.shape], data: p.value.f32() };
  const metadata: Record<string, string> = { format: MODEL_FORMAT, family: model.family, config: JSON.stringify(model.config) };
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
export async function saveCheckpoint(path: string, model: Model, contents: CheckpointContents = {}): Promise<void> {
  await writeFileAtomic(path, checkpointBytes(model, contents));
}

/** Decodes and checks a checkpoint's bytes (or reads `path` first). Throws CheckpointError. */
export async function readCheckpoint(source: Uint8Array | string): Promise<Checkpoint> {
  const bytes = typeof source === 'string' ? await readFileBytes(source) : source;
  return parseCheckpoint(bytes);
}

/** Synchronous `readCheckpoint` for bytes. */
export function parseCheckpoint(bytes: Uint8Array): Checkpoint {
  const file = decodeSafetensors(bytes);
  const { tensors, metadata } = file;
  const json = (key: string): unknown => {
    const s = metadata[key];
    if (s === undefined) return undefined;
    try {
      return JSON.parse(s);
    } catch {
      throw new CheckpointError(`checkpoint: metadata '${key}' is not valid JSON`);
    }
  };
  const family = (metadata.family ?? 'gpt') as ModelFamily;   // the GPT-only format had no tag
  const raw = json('config');
  let config: object | undefined;
  if (raw !== undefined) {
    try {
      config = familyConfig(family, raw);
    } catch (err) {
      throw new CheckpointError(`checkpoint: its model config is invalid: ${(err as Error).message}`);
    }
  }
  return {
    tensors, family, config, tokenizer: metadata.tokenizer, file,
    optimizer: json('optimizer') as Record<string, unknown> | undefined,
    position: json('position') as TrainPosition | undefined,
  };
}

/**
 * The tokenizer stored in a checkpoint (CharTokenizer, BPETokenizer or WordPieceTokenizer, by its
 * saved type), or undefined when the checkpoint has none. A stored tokenizer that does not load
 * throws CheckpointError with the reason.
 * @example
 * ```ts
 * const tok = tokenizerFromCheckpoint(await readCheckpoint('runs/emma/ckpt.safetensors'));
 * ```
 */
export function tokenizerFromCheckpoint(ckpt: Checkpoint): AnyTokenizer | undefined {
  if (ckpt.tokenizer === undefined) return undefined;
  try {
    return loadTokenizer(ckpt.tokenizer);
  } catch (err) {
    throw new CheckpointError(`checkpoint: its tokenizer does not load: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The GPT a checkpoint describes, with its weights (any family: `loadModel`). Everything is
 * checked before anything is allocated; the weights are copied in without a random init.
 * @example
 * ```ts
 * const model = modelFromCheckpoint(rt, await readCheckpoint('runs/shakespeare/model.safetensors'));
 * ```
 */
export function modelFromCheckpoint(rt: Runtime, ckpt: Checkpoint): GPT {
  if (!ckpt.config) throw new CheckpointError('checkpoint: no model config in __metadata__.config; build the model with its config and use loadWeights');
  if (ckpt.family !== 'gpt') throw new CheckpointError(`checkpoint: holds a ${ckpt.family} model, not a GPT; use loadModel`);
  return loadModel(rt, ckpt.file, { family: 'gpt', config: ckpt.config, strict: true }).model as GPT;
}

/**
 * Copies a checkpoint's weights (and, given `optimizer`, its state) into `model`. The whole
 * file is checked first — family, config, names, shapes, dtypes, finite values, the optimizer's
 * state and step — so a bad file changes nothing.
 * @example
 * ```ts
 * loadWeights(model, await readCheckpoint(path), optimizer);
 * ```
 */
export function loadWeights(model: Model, ckpt: Checkpoint, optimizer?: Optimizer): void {
  if (ckpt.family !== model.family) throw new CheckpointError(`checkpoint: holds a ${ckpt.family} model, this is a ${model.family}`);
  const theirs = ckpt.config as Record<string, unknown> | undefined, ours = model.config as Record<string, unknown>;
  if (theirs) {
    const diffs = Object.keys(ours).filter((k) => theirs[k] !== ours[k]).map((k) => `${k}: checkpoint ${String(theirs[k])}, model ${String(ours[k])}`);
    if (diffs.length) throw new CheckpointError(`checkpoint: config does not match the model (${diffs.join('; ')})`);
  }
  let plan: ReturnType<typeof checkModelFile>;
  try {
    plan = checkModelFile(model, ckpt.file, true);
  } catch (err) {
    throw new CheckpointError((err as Error).message.replace(/^loadModel: /, 'checkpoint: '));
  }
  const copies: [Tensor, Float32Array][] = plan.copies.map(([p, src]) => [p.value, src]);
  if (optimizer) {
    if (!ckpt.optimizer) throw new CheckpointError('checkpoint: has no optimizer state to resume from');
    for (const [name, buf] of Object.entries(optimizer.stateTensors())) {
      const t = ckpt.tensors.get(`optimizer.${name}`);
      if (!t || t.data.length !== buf.size || !(t.data instanceof Float32Array)) {
        const hint = t ? ' (optimizer state holds the parameters that are not frozen: resume with the same frozen groups)' : '';
        throw new CheckpointError(`checkpoint: optimizer.${name} is missing or has ${t?.data.length ?? 0} elements, expected ${buf.size}${hint}`);
      }
      checkFinite('checkpoint', `optimizer.${name}`, t.data, t.shape);
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
