// Hugging Face `config.json` for our models: the fields transformers reads for the family's
// architecture (GPT2LMHeadModel, BertForMaskedLM, ViTForImageClassification), so
// `saveModel`'s safetensors plus this file make a folder transformers' from_pretrained opens.
// Our 'gelu' is the tanh form (transformers' "gelu_new"), our 'gelu_erf' its "gelu".
import { ConfigError, ValueError, preview } from '../errors.js';
import { familyConfig } from './files.js';
import type { BertConfig } from './bert.js';
import type { GPTConfig } from './gpt.js';
import type { Model, ModelFamily } from './model.js';
import type { ViTConfig } from './vit.js';
import type { T5Config } from './t5.js';

/** Our activation names as transformers spells them: our tanh 'gelu' is its "gelu_new", our 'gelu_erf' its "gelu". */
const act = (a: string) => (a === 'gelu' ? 'gelu_new' : a === 'gelu_erf' ? 'gelu' : a);

/**
 * The Hugging Face `config.json` fields of a model's config.
 * @throws ValueError for a config transformers' architecture cannot express (a post-norm or sinusoidal GPT, a Seq2Seq).
 * @example
 * ```ts
 * writeFileSync('out/config.json', JSON.stringify(hfConfig(model), null, 2));
 * writeFileSync('out/model.safetensors', saveModel(model));
 * ```
 */
export function hfConfig(model: Model): Record<string, unknown> {
  switch (model.family) {
    case 'gpt': {
      const c = model.config as GPTConfig;
      if (c.norm !== 'pre' || c.positions !== 'learned' || !c.bias || !c.tieWeights || c.window) {
        throw new ValueError(`hfConfig: GPT-2 is pre-norm with learned positions, biases, a tied head and full attention; this GPT has norm '${c.norm}', positions '${c.positions}', bias ${c.bias}, tieWeights ${c.tieWeights}, window ${c.window}`);
      }
      return {
        model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], vocab_size: c.vocabSize, n_positions: c.blockSize, n_ctx: c.blockSize,
        n_embd: c.dModel, n_layer: c.nLayer, n_head: c.nHead, n_inner: c.dFF, activation_function: act(c.activation),
        resid_pdrop: c.dropout, embd_pdrop: c.dropout, attn_pdrop: c.dropout, layer_norm_epsilon: c.layerNormEps, tie_word_embeddings: true,
      };
    }
    case 'bert': {
      const c = model.config as BertConfig;
      return {
        model_type: 'bert', architectures: ['BertForMaskedLM'], vocab_size: c.vocabSize, hidden_size: c.dModel,
        num_hidden_layers: c.nLayer, num_attention_heads: c.nHead, intermediate_size: c.dFF,
        hidden_act: act(c.activation), hidden_dropout_prob: c.dropout, attention_probs_dropout_prob: 0,
        max_position_embeddings: c.maxPositions, type_vocab_size: c.typeVocabSize, layer_norm_eps: c.layerNormEps,
        num_labels: c.numLabels, initializer_range: c.initStd,
      };
    }
    case 'vit': {
      const c = model.config as ViTConfig;
      return {
        model_type: 'vit', architectures: ['ViTForImageClassification'], image_size: c.imageSize, patch_size: c.patchSize,
        num_channels: c.channels, num_labels: c.numClasses, hidden_size: c.dModel, num_hidden_layers: c.nLayer,
        num_attention_heads: c.nHead, intermediate_size: c.dFF, hidden_act: act(c.activation), hidden_dropout_prob: c.dropout,
        attention_probs_dropout_prob: 0, layer_norm_eps: c.layerNormEps, qkv_bias: true,
      };
    }
    case 'seq2seq':
      // Named like Marian, but Marian's position table is [sin | cos] halves and its config has
      // fields (final layer norms, logits bias) we have not matched against transformers.
      throw new ValueError('hfConfig: no transformers architecture is known to match the Seq2Seq layout exactly; save it with saveModel');
    case 't5': {
      const c = model.config as T5Config;
      return {
        model_type: 't5', architectures: ['T5ForConditionalGeneration'], is_encoder_decoder: true, vocab_size: c.vocabSize,
        d_model: c.dModel, d_kv: c.dKv, d_ff: c.dFF, num_layers: c.nLayer, num_decoder_layers: c.nDecoderLayer,
        num_heads: c.nHead, relative_attention_num_buckets: c.relBuckets, relative_attention_max_distance: c.relMaxDistance,
        dropout_rate: c.dropout, layer_norm_epsilon: c.layerNormEps, feed_forward_proj: c.feedForward, tie_word_embeddings: c.tieWordEmbeddings,
        is_gated_act: c.feedForward === 'gated-gelu', dense_act_fn: c.feedForward === 'gated-gelu' ? 'gelu_new' : c.feedForward,
        pad_token_id: c.padId, eos_token_id: c.eosId, decoder_start_token_id: c.decoderStartId, initializer_factor: 1,
      };
    }
  }
}

/** transformers' activation names we compute, as ours. */
const FROM_HF_ACT: Record<string, 'gelu' | 'gelu_erf' | 'relu'> = { gelu_new: 'gelu', gelu_pytorch_tanh: 'gelu', gelu_fast: 'gelu', gelu: 'gelu_erf', relu: 'relu' };

/** The model types `configFromHf` reads, and the family each becomes. */
export const HF_MODEL_TYPES: Readonly<Record<string, ModelFamily>> = { gpt2: 'gpt', bert: 'bert', vit: 'vit', t5: 't5' };

/**
 * Our family and config from a Hugging Face `config.json` (GPT-2 and its distillations, BERT, ViT,
 * T5 v1.0 — t5-small … t5-11b — and models of its layout).
 * Fields that change the computation in ways we do not implement (cross-attention in a GPT-2,
 * relative positions in a BERT, ViT without qkv biases, an activation we lack) are refused, named.
 * @throws ConfigError naming the field of `file` at fault.
 * @example
 * ```ts
 * const { family, config } = configFromHf(JSON.parse(await readFileText('gpt2/config.json')));
 * // family 'gpt', config { vocabSize: 50257, blockSize: 1024, nLayer: 12, … }
 * ```
 */
export function configFromHf(json: unknown, file = 'config.json'): { family: ModelFamily; config: object } {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError(`${file}: expected a JSON object of config fields, got ${preview(json)}`);
  const c = json as Record<string, unknown>;
  const type = c.model_type;
  const family = typeof type === 'string' ? HF_MODEL_TYPES[type] : undefined;
  if (!family) {
    throw new ConfigError(`${file}: model_type ${preview(type)} is not supported; supported: ${Object.keys(HF_MODEL_TYPES).join(', ')} (architectures ${preview(c.architectures)})`);
  }
  const int = (key: string, fallback?: number): number => {
    const v = c[key] ?? fallback;
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw new ConfigError(`${file}: ${key} is ${preview(c[key])}, expected an integer ≥ 0`);
    return v as number;
  };
  const num = (key: string, fallback: number): number => {
    const v = c[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${file}: ${key} is ${preview(c[key])}, expected a number`);
    return v;
  };
  const act = (key: string, fallback: string) => {
    const v = c[key] ?? fallback;
    const ours = typeof v === 'string' ? FROM_HF_ACT[v] : undefined;
    if (!ours) throw new ConfigError(`${file}: ${key} is ${preview(v)}, not an activation we compute (${Object.keys(FROM_HF_ACT).join(', ')})`);
    return ours;
  };
  const refuse = (key: string, ok: (v: unknown) => boolean, why: string) => {
    if (c[key] !== undefined && !ok(c[key])) throw new ConfigError(`${file}: ${key} is ${preview(c[key])}; ${why}`);
  };
  const labels = () => (c.id2label && typeof c.id2label === 'object' ? Object.keys(c.id2label).length : int('num_labels', 2));
  let config: object;
  if (family === 'gpt') {
    refuse('add_cross_attention', (v) => v === false, 'a GPT-2 with cross-attention is not supported');
    refuse('scale_attn_weights', (v) => v === true, 'unscaled attention is not supported');
    refuse('scale_attn_by_inverse_layer_idx', (v) => v === false, 'per-layer attention scaling is not supported');
    refuse('tie_word_embeddings', (v) => typeof v === 'boolean', 'expected true or false');
    const dModel = int('n_embd');
    config = {
      vocabSize: int('vocab_size'), blockSize: int('n_positions'), nLayer: int('n_layer'), nHead: int('n_head'), dModel,
      dFF: c.n_inner === null || c.n_inner === undefined ? 4 * dModel : int('n_inner'), dropout: 0,
      activation: act('activation_function', 'gelu_new'), layerNormEps: num('layer_norm_epsilon', 1e-5),
      tieWeights: c.tie_word_embeddings !== false,
    };
  } else if (family === 'bert') {
    refuse('position_embedding_type', (v) => v === 'absolute', "only 'absolute' position embeddings are supported");
    refuse('is_decoder', (v) => v === false, 'a BERT decoder is not supported');
    config = {
      vocabSize: int('vocab_size'), maxPositions: int('max_position_embeddings'), typeVocabSize: int('type_vocab_size', 2),
      nLayer: int('num_hidden_layers'), nHead: int('num_attention_heads'), dModel: int('hidden_size'), dFF: int('intermediate_size'),
      dropout: 0, layerNormEps: num('layer_norm_eps', 1e-12), activation: act('hidden_act', 'gelu'), numLabels: labels(),
    };
  } else if (family === 't5') {
    // transformers derives is_gated_act and dense_act_fn from feed_forward_proj ('gated-gelu': gelu_new)
    refuse('feed_forward_proj', (v) => v === 'relu' || v === 'gelu' || v === 'gated-gelu', "expected 'relu', 'gelu' or 'gated-gelu' (other gated activations are not built)");
    const dModel = int('d_model'), nHead = int('num_heads', 8);
    refuse('tie_word_embeddings', (v) => typeof v === 'boolean', 'expected true or false');
    config = {
      vocabSize: int('vocab_size'), dModel, dKv: int('d_kv', 64), dFF: int('d_ff'), nLayer: int('num_layers'), nDecoderLayer: int('num_decoder_layers', int('num_layers')),
      nHead, relBuckets: int('relative_attention_num_buckets', 32), relMaxDistance: int('relative_attention_max_distance', 128),
      layerNormEps: num('layer_norm_epsilon', 1e-6), feedForward: (c.feed_forward_proj ?? 'relu') as 'relu' | 'gelu' | 'gated-gelu', dropout: 0,
      tieWordEmbeddings: c.tie_word_embeddings !== false, padId: int('pad_token_id', 0), eosId: int('eos_token_id', 1),
      decoderStartId: int('decoder_start_token_id', 0),
    };
  } else {
    refuse('qkv_bias', (v) => v === true, 'ViT without query/key/value biases is not supported');
    config = {
      imageSize: int('image_size'), patchSize: int('patch_size'), channels: int('num_channels', 3), numClasses: labels(),
      nLayer: int('num_hidden_layers'), nHead: int('num_attention_heads'), dModel: int('hidden_size'), dFF: int('intermediate_size'),
      dropout: 0, layerNormEps: num('layer_norm_eps', 1e-12), activation: act('hidden_act', 'gelu') as 'gelu' | 'gelu_erf',
    };
  }
  try {
    return { family, config: familyConfig(family, config) };
  } catch (err) {
    throw new ConfigError(`${file}: ${(err as Error).message}`, { cause: err });
  }
}
