// Hugging Face `config.json` for our models: the fields transformers reads for the family's
// architecture (GPT2LMHeadModel, BertForMaskedLM, ViTForImageClassification), so
// `saveModel`'s safetensors plus this file make a folder transformers' from_pretrained opens.
// Our 'gelu' is the tanh form (transformers' "gelu_new"), our 'gelu_erf' its "gelu".
import { ValueError } from '../errors.js';
import type { BertConfig } from './bert.js';
import type { GPTConfig } from './gpt.js';
import type { Model } from './model.js';
import type { ViTConfig } from './vit.js';

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
      if (c.norm !== 'pre' || c.positions !== 'learned' || !c.bias || !c.tieWeights) {
        throw new ValueError(`hfConfig: GPT-2 is pre-norm with learned positions, biases and a tied head; this GPT has norm '${c.norm}', positions '${c.positions}', bias ${c.bias}, tieWeights ${c.tieWeights}`);
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
  }
}
