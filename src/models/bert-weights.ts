// BERT weights as safetensors under Hugging Face's names, both ways. Saving writes every
// parameter as F32 (the tied decoder weight once, as the word embedding, as transformers does)
// with the config in the metadata. Loading takes files of BertModel (names without `bert.`),
// BertForMaskedLM, BertForSequenceClassification or BertForPreTraining: the embeddings and
// encoder must all be there; the heads (pooler, cls.predictions, classifier) are loaded when
// present. The whole file is checked before a single number is copied.
import { CheckpointError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsFile, type SafetensorsInput } from '../io/safetensors.js';
import { writeFileAtomic } from '../io/files.js';
import type { BERT, BertConfig } from './bert.js';

export const BERT_WEIGHTS_FORMAT = 'wasmformer-bert-1';

/** File names never loaded: the tied decoder (it is the word embedding) and buffers. */
const IGNORED = [/^(bert\.)?embeddings\.position_ids$/, /^cls\.predictions\.decoder\.(weight|bias)$/];

/** Head parameters, which a file may lack (e.g. BertForMaskedLM has no pooler or classifier). */
const HEADS = /^(bert\.pooler\.|cls\.|classifier\.)/;

/** What `loadBertWeights` did. */
export interface BertLoadReport {
  /** Model parameters copied from the file. */
  loaded: string[];
  /** Head parameters the file lacks; they keep their values. */
  missing: string[];
  /** File tensors not used (tied decoder, position_ids, cls.seq_relationship, …). */
  ignored: string[];
}

/**
 * The model's weights as safetensors bytes, Hugging Face names, F32, config in the metadata.
 * @example
 * ```ts
 * const bytes = bertWeightsBytes(model);
 * loadBertWeights(other, bytes);   // same config: identical outputs
 * ```
 */
export function bertWeightsBytes(model: BERT): Uint8Array {
  const tensors: Record<string, SafetensorsInput> = {};
  for (const p of model.params.list()) tensors[p.name] = { dtype: 'F32', shape: [...p.spec.shape], data: p.value.f32() };
  return encodeSafetensors(tensors, { format: BERT_WEIGHTS_FORMAT, config: JSON.stringify(model.config) });
}

/**
 * Writes `bertWeightsBytes(model)` atomically (temporary file, then rename).
 * @example
 * ```ts
 * await saveBertWeights('runs/bert/model.safetensors', model);
 * ```
 */
export async function saveBertWeights(path: string, model: BERT): Promise<void> {
  await writeFileAtomic(path, bertWeightsBytes(model));
}

/**
 * Copies Hugging Face BERT weights into `model`: safetensors bytes or a decoded file. Names
 * may carry the `bert.` prefix or not, LayerNorm parameters may be the old `gamma`/`beta`,
 * dtypes F32, F16 or BF16. Every embedding and encoder parameter must be present with the
 * model's shape; head parameters are optional unless `strict`. On any problem throws
 * CheckpointError and changes nothing.
 * @example
 * ```ts
 * const report = loadBertWeights(model, readFileSync('model.safetensors'));
 * report.missing; // e.g. ['classifier.weight', 'classifier.bias'] for a BertForMaskedLM file
 * ```
 */
export function loadBertWeights(model: BERT, source: Uint8Array | SafetensorsFile, opts: { strict?: boolean } = {}): BertLoadReport {
  const file = source instanceof Uint8Array ? decodeSafetensors(source) : source;
  const used = new Set<string>();
  const copies: [Float32Array, Float32Array][] = [];
  const report: BertLoadReport = { loaded: [], missing: [], ignored: [] };
  for (const p of model.params.list()) {
    const name = candidates(p.name).find((n) => file.tensors.has(n));
    if (name === undefined) {
      if (HEADS.test(p.name) && !opts.strict) {
        report.missing.push(p.name);
        continue;
      }
      throw new CheckpointError(`BERT weights: parameter ${p.name} (shape [${p.spec.shape.join(', ')}]) is missing`);
    }
    const t = file.tensors.get(name)!;
    if (t.shape.join(',') !== p.spec.shape.join(',')) {
      throw new CheckpointError(`BERT weights: ${name} has shape [${t.shape.join(', ')}], the model expects [${p.spec.shape.join(', ')}] for ${p.name}`);
    }
    if (!(t.data instanceof Float32Array)) throw new CheckpointError(`BERT weights: ${name} has dtype ${t.dtype}, expected F32, F16 or BF16`);
    used.add(name);
    copies.push([p.value.f32(), t.data]);
    report.loaded.push(p.name);
  }
  for (const name of file.tensors.keys()) {
    if (used.has(name)) continue;
    if (!IGNORED.some((re) => re.test(name)) && candidatesOfFile(name).some((n) => model.params.get(n))) {
      throw new CheckpointError(`BERT weights: ${name} names the same parameter as another tensor of the file`);
    }
    report.ignored.push(name);
  }
  for (const [dst, src] of copies) dst.set(src);
  model.params.changed();
  return report;
}

/**
 * The Hugging Face `config.json` fields of a BERT config (BertConfig in transformers).
 * @example
 * ```ts
 * writeFileSync('config.json', JSON.stringify(hfBertConfig(model.config), null, 2));
 * ```
 */
export function hfBertConfig(cfg: BertConfig): Record<string, unknown> {
  return {
    model_type: 'bert', architectures: ['BertForMaskedLM'], vocab_size: cfg.vocabSize, hidden_size: cfg.dModel,
    num_hidden_layers: cfg.nLayer, num_attention_heads: cfg.nHead, intermediate_size: cfg.dFF,
    // wasmformer's GELU is the tanh form, transformers' "gelu_new"; "gelu" there is the erf form
    hidden_act: cfg.activation === 'gelu' ? 'gelu_new' : 'relu', hidden_dropout_prob: cfg.dropout,
    attention_probs_dropout_prob: 0, max_position_embeddings: cfg.maxPositions, type_vocab_size: cfg.typeVocabSize,
    layer_norm_eps: cfg.layerNormEps, num_labels: cfg.numLabels, initializer_range: 0.02,
  };
}

/** File names that may hold model parameter `name`, preferred first. */
function candidates(name: string): string[] {
  const names = name.startsWith('bert.') ? [name, name.slice(5)] : [name];
  const legacy = names.map((n) => n.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'));
  return [...names, ...legacy.filter((n) => !names.includes(n))];
}

/** Model parameter names a file name could stand for (the inverse of `candidates`). */
function candidatesOfFile(name: string): string[] {
  const modern = name.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
  return [modern, `bert.${modern}`];
}
