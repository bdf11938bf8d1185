// One file format for every family: safetensors with the parameters under their Hugging Face
// names (F32), and in `__metadata__` the format, the family tag and the model config. Loading
// checks everything before it allocates anything: the family and the config (types, bounds),
// then every tensor the config implies (present under its name or one alias — never two —, shape,
// float dtype, finite values). Hugging Face files without our metadata load too, given the family
// and config: names with or without the family prefix (`transformer.`, `bert.`, `vit.`), buffers
// and tied copies ignored, heads a file may lack (BERT's pooler and heads, ViT's classifier) kept
// at their random initialisation and reported.
import { CheckpointError, WasmformerError, preview } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile, type SafetensorsInput } from '../io/safetensors.js';
import type { Parameter, ParameterSet } from '../nn/parameters.js';
import { BERT, bertConfig } from './bert.js';
import { GPT, gptConfig } from './gpt.js';
import type { Model, ModelFamily, ModelOptions } from './model.js';
import { Seq2Seq, seq2seqConfig } from './seq2seq.js';
import { ViT, vitConfig } from './vit.js';

export const MODEL_FORMAT = 'wasmformer-model-1';

/** How one family's checkpoints are named and built. */
interface FamilyRules {
  /** The full config from a partial one, checked (throws on a bad field). */
  config(partial: object): object;
  make(rt: Runtime, config: object, opts: ModelOptions): Model;
  /** The file names that may hold parameter `name`, preferred first. */
  names(name: string): string[];
  /** Parameters a file may lack (heads): they keep their initialisation. */
  optional?: RegExp;
}

const prefixed = (prefix: string) => (name: string) => (name.startsWith(prefix) ? [name, name.slice(prefix.length)] : [name]);

const FAMILIES: Record<ModelFamily, FamilyRules> = {
  gpt: {
    config: (c) => gptConfig(c),
    make: (rt, c, o) => new GPT(rt, c, o),
    names: prefixed('transformer.'),
  },
  bert: {
    config: (c) => bertConfig(c),
    make: (rt, c, o) => new BERT(rt, c, o),
    names: (name) => {
      const names = prefixed('bert.')(name);
      const legacy = names.map((n) => n.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'));
      return [...names, ...legacy.filter((n) => !names.includes(n))];
    },
    optional: /^(bert\.pooler\.|cls\.|classifier\.)/,
  },
  seq2seq: {
    config: (c) => seq2seqConfig(c),
    make: (rt, c, o) => new Seq2Seq(rt, c, o),
    names: (name) => [name],
  },
  vit: {
    config: (c) => vitConfig(c),
    make: (rt, c, o) => new ViT(rt, c, o),
    names: prefixed('vit.'),
    optional: /^classifier\./,
  },
};

/** What `loadModel` did besides building the model. */
export interface LoadReport {
  /** Parameters the file lacked (heads it may lack), left at their random initialisation. */
  missing: string[];
  /** File tensors not used (buffers, tied copies, heads of other tasks). */
  ignored: string[];
}

export interface LoadModelOptions {
  /** The family, for files without our metadata (Hugging Face's); must match the file's tag if it has one. */
  family?: ModelFamily;
  /** The config (partial: defaults fill the rest), for files without our metadata. */
  config?: object;
  /** Seeds dropout and any head the file lacks. */
  seed?: number;
  /** Refuse files that lack any parameter, heads included (default false). */
  strict?: boolean;
}

/**
 * A model's weights as one safetensors file: parameters under their Hugging Face names (F32),
 * with the format, the family and the config in the metadata.
 * @example
 * ```ts
 * const bytes = saveModel(model);                      // Uint8Array
 * const again = loadModel(rt, bytes).model;            // same family, config and weights
 * ```
 */
export function saveModel(model: Model, metadata: Record<string, string> = {}): Uint8Array {
  const tensors: Record<string, SafetensorsInput> = {};
  for (const p of model.params.list()) tensors[p.name] = { dtype: 'F32', shape: [...p.spec.shape], data: p.value.f32() };
  for (const key of ['format', 'family', 'config']) if (key in metadata) throw new CheckpointError(`saveModel: metadata '${key}' is written by saveModel itself`);
  return encodeSafetensors(tensors, { ...metadata, format: MODEL_FORMAT, family: model.family, config: JSON.stringify(model.config) });
}

/**
 * The model a file describes, with its weights; nothing is allocated until the whole file has
 * been checked against the config, and no random initialisation runs unless a head is missing.
 * @throws CheckpointError naming the field, tensor or index at fault; the runtime holds nothing more.
 * @example
 * ```ts
 * const { model } = loadModel(rt, await readFileBytes('runs/bert/model.safetensors'));
 * const hf = loadModel(rt, bytes, { family: 'gpt', config: { vocabSize: 50257 } });   // a Hugging Face GPT-2 file
 * ```
 */
export function loadModel(rt: Runtime, source: Uint8Array | SafetensorsFile, opts: LoadModelOptions = {}): { model: Model; report: LoadReport } {
  const file = source instanceof Uint8Array ? decodeSafetensors(source) : source;
  const { family, config } = describe(file, opts);
  const rules = FAMILIES[family];
  let plan: Plan | null = null;
  let model: Model;
  try {
    model = rules.make(rt, config, {
      seed: opts.seed,
      validate: (params) => { plan = planCopies(family, rules, params, file, opts.strict ?? false); },
      init: () => plan!.missing.length > 0,
    });
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError(`loadModel: the ${family} config ${preview(config)} does not build a model: ${(err as Error).message}`);
  }
  const p = plan as Plan | null;
  if (!p) throw new WasmformerError('loadModel: the model did not run the validation step');
  for (const [param, data] of p.copies) param.value.f32().set(data);
  model.params.changed();
  return { model, report: { missing: p.missing, ignored: p.ignored } };
}

/** The full config of a `family` model from a partial one (JSON), checked: unknown fields and bad values throw CheckpointError. */
export function familyConfig(family: ModelFamily, raw: unknown): object {
  if (!(family in FAMILIES)) throw new CheckpointError(`the file's family is ${preview(family)}, expected one of ${Object.keys(FAMILIES).join(', ')}`);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new CheckpointError(`the ${family} config is ${preview(raw)}, expected an object of config fields`);
  let config: object;
  try {
    config = FAMILIES[family].config(raw as object);
  } catch (err) {
    throw new CheckpointError(`the ${family} config is invalid: ${(err as Error).message}`);
  }
  const known = Object.keys(FAMILIES[family].config({}));   // every field has a default
  const unknown = Object.keys(raw).filter((k) => !known.includes(k));
  if (unknown.length) throw new CheckpointError(`the ${family} config has unknown field ${unknown.slice(0, 5).map((k) => `'${k.slice(0, 40)}'`).join(', ')} (fields: ${known.join(', ')})`);
  return config;
}

/**
 * The checked copies that would load `file` into `model` (every parameter present under its
 * name or one alias, same shape, float, finite; `strict`: heads too). Changes nothing.
 */
export function checkModelFile(model: Model, file: SafetensorsFile, strict = true): { copies: [Parameter, Float32Array][]; missing: string[]; ignored: string[] } {
  return planCopies(model.family, FAMILIES[model.family], model.params, file, strict);
}

/** The family and the full config of `file`, from its metadata or the options, checked. */
function describe(file: SafetensorsFile, opts: LoadModelOptions): { family: ModelFamily; config: object } {
  const tag = file.metadata.family;
  if (tag !== undefined && !(tag in FAMILIES)) throw new CheckpointError(`loadModel: the file's family is ${preview(tag)}, expected one of ${Object.keys(FAMILIES).join(', ')}`);
  if (opts.family !== undefined && !(opts.family in FAMILIES)) throw new CheckpointError(`loadModel: family ${preview(opts.family)} is not one of ${Object.keys(FAMILIES).join(', ')}`);
  if (tag !== undefined && opts.family !== undefined && tag !== opts.family) throw new CheckpointError(`loadModel: the file holds a ${tag} model, ${opts.family} was asked for`);
  const family = (tag ?? opts.family) as ModelFamily | undefined;
  if (!family) throw new CheckpointError('loadModel: the file names no model family (no __metadata__.family); pass { family, config } for a file written elsewhere');
  let raw: unknown = opts.config;
  if (file.metadata.config !== undefined) {
    try {
      raw = JSON.parse(file.metadata.config);
    } catch {
      throw new CheckpointError('loadModel: __metadata__.config is not valid JSON');
    }
  }
  if (raw === undefined) throw new CheckpointError(`loadModel: the file has no config (__metadata__.config); pass { config } for a ${family} file written elsewhere`);
  try {
    return { family, config: familyConfig(family, raw) };
  } catch (err) {
    throw new CheckpointError(`loadModel: ${(err as Error).message}`);
  }
}

interface Plan {
  copies: [Parameter, Float32Array][];
  missing: string[];
  ignored: string[];
}

/** Throws CheckpointError naming `name`, the indices and the value of the first NaN or ±Inf in `data`. */
export function checkFinite(op: string, name: string, data: Float32Array, shape: readonly number[]): void {
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new CheckpointError(`${op}: ${name}[${coordinates(bad, shape).join(', ')}] (element ${bad}) is ${data[bad]}; a file must hold finite values`);
}

/** The indices of flat element `i` in a tensor of `shape`. */
function coordinates(i: number, shape: readonly number[]): number[] {
  const at: number[] = [];
  for (let r = i, d = shape.length - 1; d >= 0; d--) {
    at.unshift(r % shape[d]!);
    r = Math.floor(r / shape[d]!);
  }
  return at;
}

/** Checks every parameter the model declared against the file (before any allocation) and plans the copies. */
function planCopies(family: ModelFamily, rules: FamilyRules, params: ParameterSet, file: SafetensorsFile, strict: boolean): Plan {
  const plan: Plan = { copies: [], missing: [], ignored: [] };
  const used = new Set<string>();   // file names copied from
  for (const p of params.list()) {
    const found = rules.names(p.name).filter((n) => file.tensors.has(n));
    if (found.length > 1) throw new CheckpointError(`loadModel: the file holds both ${found.join(' and ')}, two names for the ${family} parameter ${p.name}; it is ambiguous`);
    const name = found[0];
    if (name === undefined) {
      if (!strict && rules.optional?.test(p.name)) {
        plan.missing.push(p.name);
        continue;
      }
      throw new CheckpointError(`loadModel: ${family} parameter ${p.name} (shape [${p.spec.shape.join(', ')}]) is missing from the file`);
    }
    const t = file.tensors.get(name)!;
    if (t.shape.join(',') !== p.spec.shape.join(',')) {
      throw new CheckpointError(`loadModel: ${name} has shape [${t.shape.join(', ')}], the ${family} config needs [${p.spec.shape.join(', ')}] for ${p.name}`);
    }
    if (!(t.data instanceof Float32Array)) throw new CheckpointError(`loadModel: ${name} has dtype ${t.dtype}, expected a float type (F32, F16, BF16)`);
    checkFinite('loadModel', name, t.data, t.shape);
    used.add(name);
    plan.copies.push([p, t.data]);
  }
  // the rest: buffers (GPT-2's attn.bias masks, position_ids), tied copies (lm_head.weight,
  // Marian's embed_tokens), other tasks' heads, optimizer state. A second name for a parameter
  // cannot hide here: every alias of every parameter was looked up above.
  for (const name of file.tensors.keys()) if (!used.has(name)) plan.ignored.push(name);
  return plan;
}
