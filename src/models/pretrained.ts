// A published model in one call: a Hugging Face folder (a directory, or a base URL) holding
// config.json, model.safetensors (or a sharded index) and tokenizer files becomes a model, its
// tokenizer and its config. Everything that can be checked before memory is taken is checked
// first — the config, every tensor's name, shape and dtype in every shard's header, the
// tokenizer against the vocabulary — then the model is built without a random initialisation
// and the weights stream from the files straight into wasm memory (F16/BF16 widened on the way),
// so no copy of the file is ever held in JS. Any failure frees the model: nothing half-loaded.
import { CheckpointError, ConfigError, FileError, preview } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { ByteStream, Fetch } from '../io/byte-stream.js';
import { openFolder, type Folder } from '../io/folder.js';
import { readSafetensorsHeader, streamSafetensorsData, type TensorSink } from '../io/safetensors-stream.js';
import type { SafetensorsEntry, SafetensorsHeader } from '../io/safetensors.js';
import { tokenizerFromFolder, type FolderTokenizer } from '../tokenizers/files.js';
import { sumOfSquares } from '../ops/optim.js';
import { checkFinite, dequantizeChannels, makeModel, planNames, type LoadReport, type NamePlan } from './files.js';
import { configFromHf } from './huggingface.js';
import type { Model, ModelFamily } from './model.js';
import { f32Sink, HeldWeights } from './weight-sinks.js';
import { rescaleChannels } from '../ops/quant.js';

export interface PretrainedOptions {
  /** fetch for URL sources (default the global one). */
  fetch?: Fetch;
  /** Refuse a file that lacks any parameter, heads included (default false: missing heads are reported and initialised from `seed`). */
  strict?: boolean;
  /** Seeds heads the file lacks (e.g. a BERT classifier) and dropout. */
  seed?: number;
  /** Read the tokenizer too (default true; a folder without tokenizer files then gives `tokenizer: null`). */
  tokenizer?: boolean;
  /** Keep packed copies of the weight matrices for faster decoding (default true: about 2× the weight memory once used). */
  packWeights?: boolean;
  /**
   * The format inference multiplies the weight matrices in: 'f32' (default), 'int8', 'f16' or
   * 'bf16'. The matmul weights and a tied embedding are then quantized as they stream in and held
   * only in that format (int8: about a quarter of the f32 bytes): an inference-only model. With
   * `keepF32: true` the f32 weights are kept too and the copies made on first use.
   */
  dtype?: 'f32' | 'int8' | 'f16' | 'bf16';
  /** Keep the f32 weights beside a `dtype` other than 'f32' (default false): the model can then train and change formats. */
  keepF32?: boolean;
}

/** What `loadPretrained` returns. */
export interface Pretrained {
  model: Model;
  family: ModelFamily;
  /** Our config of the model (from config.json). */
  config: object;
  /** The folder's tokenizer (spiece.model, tokenizer.json, vocab.json + merges.txt, or vocab.txt), or null without one. */
  tokenizer: FolderTokenizer | null;
  /** Heads the file lacked (initialised from `seed`) and file tensors not used. */
  report: LoadReport;
}

/**
 * Loads a Hugging Face model folder: a directory (Node, Bun, Deno) or a base URL (anywhere fetch
 * works). GPT-2 (and distilgpt2), BERT, ViT and T5 (v1.0, v1.1 and Flan-T5, with their SentencePiece
 * spiece.model); the model comes back in eval mode.
 * @throws FileError for a missing folder or file (naming it), an HTTP error or an HTML page;
 *   ConfigError for an unsupported architecture or config field; CheckpointError for weights or
 *   tokenizer files that do not match the config (naming the tensor, file or field). The runtime
 *   then holds nothing more than before.
 * @example
 * ```ts
 * const { model, tokenizer } = await loadPretrained(rt, 'models/distilgpt2');
 * const ids = generate(model as GPT, tokenizer!.encode('Hello, my name is'), { maxNewTokens: 20 });
 * console.log(tokenizer!.decode(ids));
 * ```
 */
export async function loadPretrained(rt: Runtime, source: string | URL, opts: PretrainedOptions = {}): Promise<Pretrained> {
  const folder = openFolder(source, { fetch: opts.fetch });
  const configText = await folder.text('config.json');
  if (configText === null) throw new FileError(folder.at('config.json'), 'ENOENT', `loadPretrained: ${folder.name} has no config.json (is it a Hugging Face model folder?)`);
  let json: unknown;
  try {
    json = JSON.parse(configText);
  } catch (err) {
    throw new ConfigError(`${folder.at('config.json')}: not valid JSON (${(err as Error).message})`);
  }
  const { family, config } = configFromHf(json, folder.at('config.json'));
  const vocab = (config as { vocabSize?: number }).vocabSize;
  const tokenizer = opts.tokenizer === false ? null : await readTokenizer(folder, vocab);

  const shards = await openShards(folder);
  let model: Model | null = null;
  let held: HeldWeights | null = null;
  try {
    const tensors = new Map<string, SafetensorsEntry & { shard: number }>();
    shards.forEach((s, i) => {
      for (const e of s.header.entries) {
        if (tensors.has(e.name)) throw new CheckpointError(`loadPretrained: tensor '${e.name}' is in ${shards[tensors.get(e.name)!.shard]!.stream.name} and in ${s.stream.name}`);
        tensors.set(e.name, { ...e, shard: i });
      }
    });
    let plan: NamePlan | null = null;
    const built = makeModel(rt, family, config, {
      seed: opts.seed, packWeights: opts.packWeights, dtype: opts.dtype, keepF32: opts.keepF32 ?? false,
      validate: (params) => { plan = planNames(family, params, tensors, opts.strict ?? false); },
      init: () => plan!.missing.length > 0,
    });
    model = built;
    const p = plan as NamePlan | null;
    if (!p) throw new CheckpointError('loadPretrained: the model did not run the validation step');
    const sinks = new Map<string, TensorSink>();
    const scales = new Map<string, Float32Array>();   // of I8 weights (saveModel's 'int8'), applied once all has arrived
    held = new HeldWeights(rt, p.pairs.map(([param]) => param).filter((param) => param.held));
    for (const [param, name] of p.pairs) {
      const dtype = tensors.get(name)!.dtype;
      sinks.set(name, param.held ? held.sink(param, dtype, `loadPretrained: ${name}`) : f32Sink(param.value, dtype));
      const scaleName = p.scales.get(name);
      if (scaleName) {
        const sc = tensors.get(scaleName)!, buf = new Float32Array(sc.shape.reduce((a, d) => a * d, 1));
        scales.set(name, buf);
        sinks.set(scaleName, f32Sink(buf, sc.dtype));
      }
    }
    for (const s of shards) await streamSafetensorsData(s.stream, s.header, sinks);
    held.dispose();
    for (const [param, name] of p.pairs) {
      const sc = scales.get(name);
      if (!sc) continue;
      checkFinite('loadPretrained', p.scales.get(name)!, sc, tensors.get(p.scales.get(name)!)!.shape);
      if (param.held) {     // the file's integers were held as they are (scale 1): now its scales
        rescaleChannels(rt, param.held, sc);
        continue;
      }
      const v = param.value.f32();
      dequantizeChannels(v, param.spec.shape, sc, tensors.get(p.scales.get(name)!)!.shape, v);
    }
    // finite everywhere iff Σw² is (one threaded kernel, summed in f64); otherwise, or if that sum
    // overflows f32, the exact scan names the tensor and index
    if (!Number.isFinite(sumOfSquares(rt, built.params.flat))) {
      for (const [param, name] of p.pairs) if (!param.held) checkFinite('loadPretrained', name, param.value.f32(), param.spec.shape);
    }
    built.params.changed();
    built.eval();
    return { model: built, family, config, tokenizer, report: { missing: p.missing, ignored: p.ignored } };
  } catch (err) {
    held?.dispose();
    model?.dispose();
    if (err instanceof CheckpointError && !(err instanceof ConfigError)) err.message = err.message.replace(/^loadModel: /, 'loadPretrained: ');
    throw err;
  } finally {
    for (const s of shards) await s.stream.close();
  }
}

/** The safetensors streams of a folder with their headers read: model.safetensors, or the shards its index names. */
async function openShards(folder: Folder): Promise<{ stream: ByteStream; header: SafetensorsHeader }[]> {
  const files: string[] = [];
  const single = await folder.stream('model.safetensors');
  const opened: { stream: ByteStream; header: SafetensorsHeader }[] = [];
  try {
    if (single) {
      try {
        return [{ stream: single, header: await readSafetensorsHeader(single) }];
      } catch (err) {
        await single.close();
        throw err;
      }
    }
    const indexText = await folder.text('model.safetensors.index.json');
    if (indexText === null) {
      throw new FileError(folder.at('model.safetensors'), 'ENOENT', `loadPretrained: ${folder.name} has no model.safetensors and no model.safetensors.index.json (PyTorch .bin files are not read: convert them to safetensors)`);
    }
    let map: unknown;
    try {
      map = (JSON.parse(indexText) as { weight_map?: unknown }).weight_map;
    } catch (err) {
      throw new CheckpointError(`${folder.at('model.safetensors.index.json')}: not valid JSON (${(err as Error).message})`);
    }
    if (!map || typeof map !== 'object' || Object.values(map).some((f) => typeof f !== 'string' || !/^[\w.-]+\.safetensors$/.test(f))) {
      throw new CheckpointError(`${folder.at('model.safetensors.index.json')}: weight_map is ${preview(map)}, expected { tensor name: "shard.safetensors" }`);
    }
    for (const f of Object.values(map as Record<string, string>)) if (!files.includes(f)) files.push(f);
    for (const f of files) {
      const stream = await folder.stream(f);
      if (!stream) throw new FileError(folder.at(f), 'ENOENT', `loadPretrained: the index names shard ${f}, which ${folder.name} does not have`);
      try {
        opened.push({ stream, header: await readSafetensorsHeader(stream) });
      } catch (err) {
        await stream.close();
        throw err;
      }
    }
    return opened;
  } catch (err) {
    for (const s of opened) await s.stream.close();
    throw err;
  }
}

/** The folder's tokenizer (see tokenizerFromFolder), or null; one whose ids do not fit the model's vocabulary is a CheckpointError. */
async function readTokenizer(folder: Folder, vocabSize: number | undefined): Promise<FolderTokenizer | null> {
  const found = await tokenizerFromFolder(folder);
  if (found && vocabSize !== undefined && found.tokenizer.vocabSize > vocabSize) {
    throw new CheckpointError(`loadPretrained: ${folder.at(found.file)} has ${found.tokenizer.vocabSize} tokens, but the model's vocabulary (config.json vocab_size) is ${vocabSize}: ids ≥ ${vocabSize} would have no embedding`);
  }
  return found?.tokenizer ?? null;
}
