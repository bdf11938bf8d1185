// One file format for every family: safetensors with the parameters under their Hugging Face
// names (F32), and in `__metadata__` the format, the family tag and the model config. Loading
// checks everything before it allocates anything: the family and the config (types, bounds),
// then every tensor the config implies (present under its name or one alias — never two —, shape,
// float dtype, finite values). Hugging Face files without our metadata load too, given the family
// and config: names with or without the family prefix (`transformer.`, `bert.`, `vit.`), buffers
// and tied copies ignored, heads a file may lack (BERT's pooler and heads, ViT's classifier) kept
// at their random initialisation and reported.
import { CheckpointError, ValueError, WasmformerError, preview } from '../errors.js';
import { roundEven } from '../math.js';
import type { Runtime } from '../runtime.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile, type SafetensorsInput } from '../io/safetensors.js';
import type { Parameter, ParameterSet } from '../nn/parameters.js';
import { BERT, bertConfig } from './bert.js';
import { GPT, gptConfig } from './gpt.js';
import type { Model, ModelFamily, ModelOptions } from './model.js';
import { HeldWeights } from './weight-sinks.js';
import { dequantizeWeight, int8Values, rescaleChannels, type QuantizedWeight } from '../ops/quant.js';
import { Seq2Seq, seq2seqConfig } from './seq2seq.js';
import { ViT, vitConfig } from './vit.js';
import { T5, t5Config } from './t5.js';

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
  t5: {
    config: (c) => t5Config(c),
    make: (rt, c, o) => new T5(rt, c, o),
    names: (name) => [name],   // Hugging Face's own; its tied copies (encoder/decoder.embed_tokens, lm_head when tied) are ignored
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
  /** The format inference multiplies the weight matrices in (see ModelOptions.dtype); other than 'f32', the weights are held only in it unless `keepF32`. */
  dtype?: 'f32' | 'int8' | 'f16' | 'bf16';
  /** Keep the f32 weights beside a `dtype` other than 'f32' (default false, as loadPretrained). */
  keepF32?: boolean;
}

/** The formats `saveModel` writes weights in. */
export type SaveDType = 'f32' | 'f16' | 'bf16' | 'int8';

/** The file name of an int8 weight's per-channel scales: `<weight name>_scale` (as compressed-tensors names them). */
export const SCALE_SUFFIX = '_scale';

/**
 * A model's weights as one safetensors file: parameters under their Hugging Face names, with the
 * format, the family and the config in the metadata. `dtype` 'f32' (default) keeps every bit;
 * 'f16' / 'bf16' store every parameter at half precision (rounded to nearest even; a value f16
 * cannot hold is refused); 'int8' stores each matmul weight as I8 with F32 scales, one per output
 * channel (symmetric: scale = max |w| / 127, the same numbers the int8 kernels quantize to), and
 * embeddings and position tables one scale per row, in `<name>_scale` shaped to broadcast along
 * that axis; biases and norms stay F32.
 * `loadModel` and `loadPretrained` read all four back (as f32 parameters).
 * @throws ValueError for a weight f16 cannot hold, or a non-finite one.
 * @example
 * ```ts
 * const bytes = saveModel(model);                      // Uint8Array
 * const again = loadModel(rt, bytes).model;            // same family, config and weights
 * const small = saveModel(model, {}, { dtype: 'int8' });   // ≈ 1/4 the size for GPT-2's matrices
 * ```
 */
export function saveModel(model: Model, metadata: Record<string, string> = {}, opts: { dtype?: SaveDType } = {}): Uint8Array {
  const dtype = opts.dtype ?? 'f32';
  if (!['f32', 'f16', 'bf16', 'int8'].includes(dtype)) throw new ValueError(`saveModel: dtype ${preview(dtype)} is not one of f32, f16, bf16, int8`);
  const tensors: Record<string, SafetensorsInput> = {};
  for (const p of model.params.list()) {
    const shape = [...p.spec.shape];
    if (p.held && dtype === 'int8' && p.held.dtype === 'int8') {
      // held int8 weights are written as they are held: the same integers and scales, exactly
      const { q, scales } = int8Values(model.rt, p.held);
      tensors[p.name] = { dtype: 'I8', shape, data: q };
      tensors[p.name + SCALE_SUFFIX] = { dtype: 'F32', shape: shape.map((d, a) => (a === p.spec.outAxis ? d : 1)), data: scales };
      continue;
    }
    const data = p.held ? heldValues(model.rt, p.held) : p.value.f32();
    if (dtype !== 'f32') checkFinite('saveModel', p.name, data, shape, ValueError);
    if (dtype === 'f16' || dtype === 'bf16') {
      if (dtype === 'f16') {
        const big = data.findIndex((v) => Math.abs(v) >= 65520);
        if (big >= 0) throw new ValueError(`saveModel: ${p.name} element ${big} is ${data[big]}, beyond f16's largest finite value 65504`);
      }
      tensors[p.name] = { dtype: dtype === 'f16' ? 'F16' : 'BF16', shape, data };
    } else if (dtype === 'int8' && int8Axis(p) !== null) {
      const { q, scales, scaleShape } = quantizeChannels(data, shape, int8Axis(p)!);
      tensors[p.name] = { dtype: 'I8', shape, data: q };
      tensors[p.name + SCALE_SUFFIX] = { dtype: 'F32', shape: scaleShape, data: scales };
    } else {
      tensors[p.name] = { dtype: 'F32', shape, data };
    }
  }
  for (const key of ['format', 'family', 'config', 'dtype']) if (key in metadata) throw new CheckpointError(`saveModel: metadata '${key}' is written by saveModel itself`);
  return encodeSafetensors(tensors, { ...metadata, format: MODEL_FORMAT, family: model.family, config: JSON.stringify(model.config), dtype });
}

/** The values a held weight stands for (dequantized), copied out of wasm memory. */
function heldValues(rt: Runtime, qw: QuantizedWeight): Float32Array {
  const t = dequantizeWeight(rt, qw, { arena: 'persistent' });
  try {
    return t.f32().slice();
  } finally {
    rt.free(t);
  }
}

/**
 * Symmetric int8 with one scale per channel along `axis`: scale = max |w| / 127 and
 * q = clamp(roundeven(w · 127/max), ±127) in f32 arithmetic — the int8 kernels' quantization.
 */
function quantizeChannels(w: Float32Array, shape: number[], axis: number): { q: Int8Array; scales: Float32Array; scaleShape: number[] } {
  const channels = shape[axis]!, after = shape.slice(axis + 1).reduce((a, d) => a * d, 1);
  const channel = (i: number) => Math.floor(i / after) % channels;
  const amax = new Float32Array(channels);
  for (let i = 0; i < w.length; i++) amax[channel(i)] = Math.max(amax[channel(i)]!, Math.abs(w[i]!));
  const scales = new Float32Array(channels), inv = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const zero = !(amax[c]! >= 2 ** -121);
    scales[c] = zero ? 0 : Math.fround(amax[c]! / 127);
    inv[c] = zero ? 0 : Math.fround(127 / amax[c]!);
  }
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-127, Math.min(127, roundEven(Math.fround(w[i]! * inv[channel(i)]!))));
  return { q, scales, scaleShape: shape.map((d, a) => (a === axis ? d : 1)) };
}

/** The axis an int8 file quantizes a parameter along, or null to keep it f32: matmul weights per output channel, other ≥ 2-D tensors (embeddings, position tables) per row. */
function int8Axis(p: Parameter): number | null {
  const { shape, decay, outAxis } = p.spec;
  if (decay && outAxis !== undefined) return outAxis;
  return shape.length >= 2 ? shape.length - 2 : null;
}

/** f32 weights from int8 values `q` and scales broadcast along the axis where `scaleShape` is not 1 (how `saveModel` stores them). */
export function dequantizeChannels(q: ArrayLike<number>, shape: readonly number[], scales: Float32Array, scaleShape: readonly number[], out: Float32Array = new Float32Array(q.length)): Float32Array {
  // the one axis with more than one scale (none: a single scale for all); channel of element i along it
  const axis = scaleShape.findIndex((d) => d !== 1);
  const after = axis < 0 ? 1 : shape.slice(axis + 1).reduce((a, d) => a * d, 1), channels = axis < 0 ? 1 : shape[axis]!;
  for (let i = 0; i < q.length; i++) out[i] = Math.fround(q[i]! * scales[Math.floor(i / after) % channels]!);
  return out;
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
      seed: opts.seed, dtype: opts.dtype, keepF32: opts.keepF32 ?? false,
      validate: (params) => { plan = planCopies(family, params, file, opts.strict ?? false); },
      init: () => plan!.missing.length > 0,
    });
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError(`loadModel: the ${family} config ${preview(config)} does not build a model: ${(err as Error).message}`);
  }
  const p = plan as Plan | null;
  if (!p) throw new WasmformerError('loadModel: the model did not run the validation step');
  const held = new HeldWeights(rt, p.copies.map(([param]) => param).filter((param) => param.held));
  try {
    for (const [param, data] of p.copies) {
      if (!param.held) {
        param.value.f32().set(data);
        continue;
      }
      held.write(param, data, 0, `loadModel: ${p.names.get(param)}`);
      const sc = p.rescale.get(param);
      if (sc) rescaleChannels(rt, param.held, sc);
    }
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    held.dispose();
  }
  model.params.changed();
  return { model, report: { missing: p.missing, ignored: p.ignored } };
}

/**
 * A `family` model of a checked full `config` (see familyConfig), with the constructor options
 * a loader needs (`validate` runs on the declared parameters before any allocation; `init: false`).
 * @example
 * ```ts
 * const model = makeModel(rt, 'bert', familyConfig('bert', { nLayer: 2 }), { init: false });
 * ```
 */
export function makeModel(rt: Runtime, family: ModelFamily, config: object, opts: ModelOptions): Model {
  return FAMILIES[family].make(rt, config, opts);
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
  const { copies, missing, ignored } = planCopies(model.family, model.params, file, strict);
  return { copies, missing, ignored };
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
  /** Held int8 weights whose copies are a file's integers, with the scales to apply after. */
  rescale: Map<Parameter, Float32Array>;
  /** The file tensor of each parameter. */
  names: Map<Parameter, string>;
  missing: string[];
  ignored: string[];
}

/** Throws CheckpointError naming `name`, the indices and the value of the first NaN or ±Inf in `data`. */
export function checkFinite(op: string, name: string, data: Float32Array, shape: readonly number[], Err: new (m: string) => Error = CheckpointError): void {
  let bad = -1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) {   // NaN or ±Infinity (a plain loop: 4× findIndex's speed on 124M values)
      bad = i;
      break;
    }
  }
  if (bad >= 0) throw new Err(`${op}: ${name}[${coordinates(bad, shape).join(', ')}] (element ${bad}) is ${data[bad]}; a file must hold finite values`);
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

/** A parameter and the file tensor that holds it. */
export interface NamePlan {
  pairs: [Parameter, string][];
  /** File name of an I8 tensor → the name of its scales. */
  scales: Map<string, string>;
  missing: string[];
  ignored: string[];
}

/** The float dtypes a parameter loads from. */
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16']);

/**
 * Checks every parameter the model declared against the names, shapes and dtypes of a file
 * (before any allocation; no data needed): present under its name or one alias (never two),
 * same shape, a float dtype; heads the family allows to be missing are listed unless `strict`.
 */
export function planNames(family: ModelFamily, params: ParameterSet, tensors: ReadonlyMap<string, { dtype: string; shape: readonly number[] }>, strict: boolean): NamePlan {
  const rules = FAMILIES[family];
  const plan: NamePlan = { pairs: [], scales: new Map(), missing: [], ignored: [] };
  const used = new Set<string>();   // file names copied from
  for (const p of params.list()) {
    const found = rules.names(p.name).filter((n) => tensors.has(n));
    if (found.length > 1) throw new CheckpointError(`loadModel: the file holds both ${found.join(' and ')}, two names for the ${family} parameter ${p.name}; it is ambiguous`);
    const name = found[0];
    if (name === undefined) {
      if (!strict && rules.optional?.test(p.name)) {
        plan.missing.push(p.name);
        continue;
      }
      throw new CheckpointError(`loadModel: ${family} parameter ${p.name} (shape [${p.spec.shape.join(', ')}]) is missing from the file`);
    }
    const t = tensors.get(name)!;
    if (t.shape.join(',') !== p.spec.shape.join(',')) {
      throw new CheckpointError(`loadModel: ${name} has shape [${t.shape.join(', ')}], the ${family} config needs [${p.spec.shape.join(', ')}] for ${p.name}`);
    }
    if (t.dtype === 'I8') {
      // int8 weights with per-channel scales (saveModel's 'int8'): scales broadcast along one axis
      const scaleName = name + SCALE_SUFFIX, sc = tensors.get(scaleName);
      const axes = sc ? sc.shape.map((d, a) => (d === t.shape[a] && d !== 1 ? a : -1)).filter((a) => a >= 0) : [];
      const fits = sc && sc.shape.length === t.shape.length && sc.shape.every((d, a) => d === 1 || d === t.shape[a]) && axes.length <= 1;
      if (!sc || !FLOAT_DTYPES.has(sc.dtype) || !fits) {
        throw new CheckpointError(`loadModel: ${name} is I8, which needs float scales ${scaleName} shaped like [${t.shape.join(', ')}] with 1 on every axis but the output one; ${sc ? `it is ${sc.dtype} [${sc.shape.join(', ')}]` : 'the file has none'}`);
      }
      // a weight held only quantized takes the file's integers as they are and its scales after
      // them: int8, with scales per output channel (or one), as saveModel writes them
      if (params.holds(p) && params.heldAs !== 'int8') {
        throw new CheckpointError(`loadModel: ${name} is I8 with scales, which cannot be held as ${params.heldAs} without its f32 values; load it with dtype 'int8', or with keepF32: true`);
      }
      if (params.holds(p) && axes.length === 1 && axes[0] !== p.spec.outAxis) {
        throw new CheckpointError(`loadModel: ${name} is I8 with scales along axis ${axes[0]}, but a weight held as int8 takes one scale per output channel (axis ${p.spec.outAxis}); load it with keepF32: true`);
      }
      plan.scales.set(name, scaleName);
      used.add(scaleName);
    } else if (!FLOAT_DTYPES.has(t.dtype)) {
      throw new CheckpointError(`loadModel: ${name} has dtype ${t.dtype}, expected a float type (F32, F16, BF16), or I8 with scales`);
    }
    used.add(name);
    plan.pairs.push([p, name]);
  }
  // the rest: buffers (GPT-2's attn.bias masks, position_ids), tied copies (lm_head.weight,
  // Marian's embed_tokens), other tasks' heads, optimizer state. A second name for a parameter
  // cannot hide here: every alias of every parameter was looked up above.
  for (const name of tensors.keys()) if (!used.has(name)) plan.ignored.push(name);
  return plan;
}

/**
 * planNames on a decoded file, plus every copied tensor's values checked finite. I8 tensors are
 * dequantized, except for weights the model holds only as int8: those keep their integers (as
 * f32), their scales listed in `rescale`.
 */
function planCopies(family: ModelFamily, params: ParameterSet, file: SafetensorsFile, strict: boolean): Plan {
  const { pairs, scales, missing, ignored } = planNames(family, params, file.tensors, strict);
  const rescale = new Map<Parameter, Float32Array>();
  const copies = pairs.map(([p, name]): [Parameter, Float32Array] => {
    const t = file.tensors.get(name)!;
    const scaleName = scales.get(name);
    let data = t.data as Float32Array;
    if (scaleName) {
      const sc = file.tensors.get(scaleName)!;
      checkFinite('loadModel', scaleName, sc.data as Float32Array, sc.shape);
      if (params.holds(p)) {
        rescale.set(p, sc.data as Float32Array);
        return [p, Float32Array.from(t.data)];
      }
      data = dequantizeChannels(t.data, t.shape, sc.data as Float32Array, sc.shape);
    }
    if (!params.holds(p)) checkFinite('loadModel', name, data, t.shape);   // held ones: when quantized
    return [p, data];
  });
  return { copies, rescale, names: new Map(pairs), missing, ignored };
}
