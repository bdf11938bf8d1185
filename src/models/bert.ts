// BERT: an encoder-only transformer in the shape of Hugging Face's BertModel — word, position
// and token-type (segment) embeddings summed and layer-normalised, nLayer bidirectional
// encoder layers over a padding mask, a tanh pooler on the [CLS] position — with the two heads
// of BertForMaskedLM (transform, GELU, LayerNorm, decoder tied to the word embeddings) and
// BertForSequenceClassification (one linear layer on the pooled vector). Parameter names and
// layouts are Hugging Face's, so weights move to and from PyTorch unchanged (bert-weights.ts).
import { DTypeError, ShapeError, TokenError, ValueError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { activation, checkActivation } from '../fn/activation.js';
import { crossEntropy } from '../fn/crossentropy.js';
import { dropout } from '../fn/dropout.js';
import { checkIds } from '../fn/embedding.js';
import { gatherRows } from '../fn/gather.js';
import { linear } from '../fn/linear.js';
import { residual } from '../fn/residual.js';
import type { NormPlacement } from '../nn/layer.js';
import { runLayers } from '../nn/stack.js';
import { Embedding, LayerNorm, Linear } from '../nn/layers.js';
import { BERT_LAYER_NAMES, TransformerLayer } from '../nn/layer.js';
import type { Parameter } from '../nn/parameters.js';
import type { KeepsAttention } from '../nn/attention.js';
import { positionIds } from '../nn/positions.js';
import { Model, type ModelOptions } from './model.js';

/** The shape of a BERT. Defaults are bert-base-uncased's. */
export interface BertConfig {
  vocabSize: number;
  /** Longest sequence, [CLS] and [SEP] included (rows of the position table). */
  maxPositions: number;
  /** Number of segment types (sentence A / B). */
  typeVocabSize: number;
  nLayer: number;
  nHead: number;
  dModel: number;
  /** Hidden width of the feed-forward layers (default 4·dModel). */
  dFF: number;
  /** Dropout after the embeddings, each residual branch and the pooler (0 = off). */
  dropout: number;
  layerNormEps: number;
  /** Of the feed-forward layers and the MLM transform: 'gelu' (tanh form, the original BERT), 'gelu_erf' (transformers' "gelu": Hugging Face checkpoints) or 'relu'. */
  activation: 'gelu' | 'gelu_erf' | 'relu';
  /** 'post' (BERT) or 'pre' (adds a final LayerNorm, `bert.encoder.LayerNorm`). */
  norm: NormPlacement;
  /** Classes of the sequence-classification head. */
  numLabels: number;
  /** Std of the normal init of every weight matrix and embedding (Hugging Face's initializer_range). */
  initStd: number;
}

/** bert-base-uncased (110M parameters), with a two-class classifier. */
export const BERT_BASE: BertConfig = {
  vocabSize: 30522, maxPositions: 512, typeVocabSize: 2, nLayer: 12, nHead: 12, dModel: 768, dFF: 3072,
  dropout: 0.1, layerNormEps: 1e-12, activation: 'gelu', norm: 'post', numLabels: 2, initStd: 0.02,
};

/**
 * A full config from a partial one (bert-base defaults; dFF defaults to 4·dModel), checked.
 * @example
 * ```ts
 * const cfg = bertConfig({ vocabSize: 100, maxPositions: 130, nLayer: 2, nHead: 4, dModel: 64, numLabels: 4 });
 * cfg.dFF; // 256
 * ```
 */
export function bertConfig(partial: Partial<BertConfig> = {}): BertConfig {
  const dModel = partial.dModel ?? BERT_BASE.dModel;
  const cfg: BertConfig = { ...BERT_BASE, dFF: 4 * dModel, ...partial };
  for (const key of ['vocabSize', 'maxPositions', 'typeVocabSize', 'nLayer', 'nHead', 'dModel', 'dFF', 'numLabels'] as const) {
    const v = cfg[key];
    if (!Number.isInteger(v) || v < 1) throw new ValueError(`BERT config: ${key} is ${v}, expected an integer ≥ 1`);
  }
  if (cfg.dModel % cfg.nHead !== 0) throw new ShapeError(`BERT config: dModel = ${cfg.dModel} is not divisible by nHead = ${cfg.nHead}`);
  if (!(cfg.dropout >= 0 && cfg.dropout < 1)) throw new ValueError(`BERT config: dropout is ${cfg.dropout}, expected 0 ≤ p < 1`);
  if (!(cfg.initStd > 0 && cfg.initStd < 10)) throw new ValueError(`BERT config: initStd is ${cfg.initStd}, expected 0 < std < 10`);
  if (!(cfg.layerNormEps > 0)) throw new ValueError(`BERT config: layerNormEps is ${cfg.layerNormEps}, expected > 0`);
  checkActivation('BERT config', cfg.activation, ['gelu', 'gelu_erf', 'relu']);
  if (cfg.norm !== 'pre' && cfg.norm !== 'post') throw new ValueError(`BERT config: norm is ${String(cfg.norm)}, expected 'pre' or 'post'`);
  return cfg;
}

/** What the encoder reads besides the token ids. */
export interface BertInputs {
  /** i32 (B, T) segment ids in [0, typeVocabSize); default all 0. */
  tokenTypes?: Tensor | null;
  /** i32 (B, T): 1 = real token, 0 = padding (Hugging Face's attention_mask); default all 1. */
  attentionMask?: Tensor | null;
}

/** What `BERT.mlm` returns. */
export interface MLMOutput {
  /** (M, V) for the M labelled positions, or (B, T, V) with `allPositions` or without labels. */
  logits: Tensor;
  /** (1) mean cross-entropy over the labelled positions, when labels were given. */
  loss?: Tensor;
  /** Flat position b·T + t of each logits row when the head ran on the labelled rows only; else null. */
  positions: Int32Array | null;
}

/** What `BERT.classify` returns. */
export interface ClassifyOutput {
  /** (B, numLabels) */
  logits: Tensor;
  /** (1) mean cross-entropy, when labels were given. */
  loss?: Tensor;
}

/**
 * A BERT encoder with a masked-language-model head and a sequence-classification head.
 * @example
 * ```ts
 * const rt = await createRuntime();
 * const model = new BERT(rt, { vocabSize: 100, maxPositions: 66, nLayer: 2, nHead: 4, dModel: 64, numLabels: 4 }, { seed: 1 });
 * const ids = rt.tensor(batchIds, [8, 66], { dtype: 'i32', arena: 'step' });
 * const mask = rt.tensor(batchMask, [8, 66], { dtype: 'i32', arena: 'step' });
 * const { loss } = model.mlm(ids, labels, { attentionMask: mask });           // labels −100 except masked positions
 * const { logits } = model.classify(ids, null, { attentionMask: mask });      // (8, 4)
 * ```
 */
export class BERT extends Model {
  readonly family = 'bert' as const;
  readonly config: BertConfig;
  readonly wordEmbeddings: Embedding;
  readonly positionEmbeddings: Embedding;
  readonly tokenTypeEmbeddings: Embedding;
  readonly embeddingsNorm: LayerNorm;
  readonly layers: TransformerLayer[];
  /** Pre-norm only: the LayerNorm after the last layer. */
  readonly encoderNorm: LayerNorm | null;
  readonly pooler: Linear;
  /** MLM head: transform.dense, transform.LayerNorm and the decoder's bias (its weight is the word embedding). */
  readonly mlmDense: Linear;
  readonly mlmNorm: LayerNorm;
  readonly mlmBias: Parameter;
  readonly classifier: Linear;

  constructor(rt: Runtime, config: Partial<BertConfig>, opts: ModelOptions = {}) {
    const cfg = bertConfig(config);
    const seed = opts.seed ?? 1337;
    super(rt, seed, opts);
    this.config = cfg;
    const ps = this.params;
    const C = cfg.dModel;
    const eps = cfg.layerNormEps;
    const std = cfg.initStd;
    // Declared in Hugging Face's state-dict order (BertForPreTraining, then the classifier).
    this.wordEmbeddings = new Embedding(this.ctx, ps, 'bert.embeddings.word_embeddings', cfg.vocabSize, C, std, true);   // also the MLM decoder
    this.positionEmbeddings = new Embedding(this.ctx, ps, 'bert.embeddings.position_embeddings', cfg.maxPositions, C, std);
    this.tokenTypeEmbeddings = new Embedding(this.ctx, ps, 'bert.embeddings.token_type_embeddings', cfg.typeVocabSize, C, std);
    this.embeddingsNorm = new LayerNorm(this.ctx, ps, 'bert.embeddings.LayerNorm', C, { eps });
    this.layers = [];
    for (let i = 0; i < cfg.nLayer; i++) {
      this.layers.push(new TransformerLayer(this.ctx, ps, `bert.encoder.layer.${i}`, {
        dModel: C, nHead: cfg.nHead, dFF: cfg.dFF, dropout: cfg.dropout, activation: cfg.activation,
        norm: cfg.norm, layerNormEps: eps, std,
      }, BERT_LAYER_NAMES));
    }
    this.encoderNorm = cfg.norm === 'pre' ? new LayerNorm(this.ctx, ps, 'bert.encoder.LayerNorm', C, { eps }) : null;
    this.pooler = new Linear(this.ctx, ps, 'bert.pooler.dense', C, C, { std, layout: 'out,in' });
    this.mlmBias = ps.declare('cls.predictions.bias', [cfg.vocabSize], 'zeros', false);
    this.mlmDense = new Linear(this.ctx, ps, 'cls.predictions.transform.dense', C, C, { std, layout: 'out,in' });
    this.mlmNorm = new LayerNorm(this.ctx, ps, 'cls.predictions.transform.LayerNorm', C, { eps });
    this.classifier = new Linear(this.ctx, ps, 'classifier', C, cfg.numLabels, { std, layout: 'out,in' });
    opts.validate?.(ps);
    ps.allocate(rt, seed, { init: opts.init });
  }

  /**
   * ids i32 (B, T) → hidden states (B, T, C): embeddings, then every encoder layer with padded
   * keys hidden. Ids in [0, vocabSize), 1 ≤ T ≤ maxPositions.
   * @example
   * ```ts
   * const h = rt.tape.noGrad(() => model.encode(ids, { tokenTypes: segments, attentionMask: mask })); // (B, T, C)
   * ```
   */
  encode(ids: Tensor, inputs: BertInputs = {}): Tensor {
    return this.#encode(ids, this.#checkIds(ids), inputs);
  }

  /** `encode` for ids already checked to be (B, T). */
  #encode(ids: Tensor, [B, T]: [number, number], inputs: BertInputs): Tensor {
    const rt = this.rt;
    const types = inputs.tokenTypes ? this.#checkTypes(inputs.tokenTypes, B, T) : rt.zeros([B, T], { dtype: 'i32', arena: 'step' });
    const mask = inputs.attentionMask ? this.#checkMask(inputs.attentionMask, B, T) : null;
    const positions = positionIds(rt, B, T);
    // x = LayerNorm(word + position + token type), then dropout
    let x = residual(rt, residual(rt, this.wordEmbeddings.forward(ids), this.positionEmbeddings.forward(positions)),
      this.tokenTypeEmbeddings.forward(types));                                   // (B, T, C)
    x = dropout(rt, this.embeddingsNorm.forward(x), this.config.dropout, this.ctx.rng, this.ctx.training);
    x = runLayers(this.ctx, this.layers, x, { selfMask: mask });
    if (this.encoderNorm) x = this.encoderNorm.forward(x);
    return x;
  }

  /**
   * Masked-language-model head. labels i32 (B, T): the original token at the positions to
   * predict, −100 elsewhere (as `maskTokens` makes them). By default the head runs on the
   * labelled rows only (gathered: about 15% of the positions, so the (rows, V) decoder GEMM —
   * the largest of the model when V is large — and its logits shrink by that factor); with
   * `allPositions`, or without labels, it runs on every position and logits are (B, T, V).
   * @example
   * ```ts
   * const { inputs, labels } = maskTokens(batchIds, { seqLen: T, rng, maskId: 3, vocabSize: V, specialIds: [0, 1, 2] });
   * const { loss, logits, positions } = model.mlm(i32(inputs, [B, T]), i32(labels, [B, T]), { attentionMask: mask });
   * // logits (M, V): row r predicts the token at flat position positions[r] = b·T + t
   * ```
   */
  mlm(ids: Tensor, labels: Tensor | null, inputs: BertInputs & { allPositions?: boolean } = {}): MLMOutput {
    const rt = this.rt;
    const [B, T] = this.#checkIds(ids);
    const target = labels ? this.#checkMlmLabels(labels, B, T) : null;
    const h = this.#encode(ids, [B, T], inputs);                          // (B, T, C)
    if (!target || inputs.allPositions) {
      const logits = this.#mlmHead(h);                                    // (B, T, V)
      return { logits, loss: labels ? crossEntropy(rt, logits, labels) : undefined, positions: null };
    }
    const { rows, values } = target;
    const picked = rt.tensor(values, [values.length], { dtype: 'i32', arena: 'step' });
    const logits = this.#mlmHead(gatherRows(rt, h, rows));                // (M, V)
    return { logits, loss: crossEntropy(rt, logits, picked), positions: rows };
  }

  /**
   * Sequence classification (BertForSequenceClassification): the pooled [CLS] vector through
   * dropout and `classifier` → logits (B, numLabels); with labels i32 (B) in [0, numLabels),
   * also the mean cross-entropy.
   * @example
   * ```ts
   * const { loss } = model.classify(ids, rt.tensor([2, 0, 1], [3], { dtype: 'i32', arena: 'step' }), { attentionMask: mask });
   * ```
   */
  classify(ids: Tensor, labels: Tensor | null = null, inputs: BertInputs = {}): ClassifyOutput {
    const rt = this.rt;
    const dims = this.#checkIds(ids);
    if (labels) this.#checkClassLabels(labels, dims[0]);
    const pooled = this.pool(this.#encode(ids, dims, inputs));           // (B, C)
    const logits = this.classifier.forward(dropout(rt, pooled, this.config.dropout, this.ctx.rng, this.ctx.training));
    return { logits, loss: labels ? crossEntropy(rt, logits, labels) : undefined };
  }

  /** The pooler: tanh(dense(h[:, 0])), hidden states (B, T, C) → (B, C). */
  pool(h: Tensor): Tensor {
    const [B, T] = h.shape as [number, number];
    const cls = gatherRows(this.rt, h, Array.from({ length: B }, (_, b) => b * T));  // (B, C)
    return activation(this.rt, 'tanh', this.pooler.forward(cls));
  }

  /** The encoder layers' self-attentions, 'encoder.0' …, each keeping (B, NH, T, T). */
  protected attentionModules(): { name: string; attn: KeepsAttention }[] {
    return this.layers.map((l, i) => ({ name: `encoder.${i}`, attn: l.selfAttn }));
  }

  /** transform.dense → activation → transform.LayerNorm → tied decoder + bias: (…, C) → (…, V). */
  #mlmHead(h: Tensor): Tensor {
    const rt = this.rt;
    const t = this.mlmNorm.forward(activation(rt, this.config.activation, this.mlmDense.forward(h)));
    return linear(rt, t, this.wordEmbeddings.weight.value, this.mlmBias.value, 'out,in');  // logits = t · Wᵀ + b
  }

  #checkIds(ids: Tensor): [number, number] {
    if (ids.dtype !== 'i32') throw new DTypeError(`BERT: ids is ${ids.describe()}, expected dtype i32 token ids`);
    if (ids.shape.length !== 2) throw new ShapeError(`BERT: ids has shape [${ids.shape.join(', ')}], expected (B, T)`);
    const [B, T] = ids.shape as [number, number];
    if (B < 1 || T < 1) throw new ShapeError(`BERT: ids is empty (shape [${B}, ${T}]); every sequence needs at least its [CLS] token`);
    if (T > this.config.maxPositions) throw new ShapeError(`BERT: sequence length ${T} exceeds maxPositions ${this.config.maxPositions}`);
    checkIds('BERT', ids.i32(), this.config.vocabSize, 'token id', T);
    return [B, T];
  }

  #checkTypes(types: Tensor, B: number, T: number): Tensor {
    expectIds('tokenTypes', types, B, T);
    checkIds('BERT', types.i32(), this.config.typeVocabSize, 'token type', T);
    return types;
  }

  #checkMask(mask: Tensor, B: number, T: number): Tensor {
    expectIds('attentionMask', mask, B, T);
    const m = mask.i32();
    for (let b = 0; b < B; b++) {
      let real = 0;
      for (let t = 0; t < T; t++) {
        const v = m[b * T + t]!;
        if (v !== 0 && v !== 1) throw new ValueError(`BERT: attentionMask is ${v} at [${b}, ${t}], expected 1 (token) or 0 (padding)`);
        real += v;
      }
      if (real === 0) throw new ValueError(`BERT: attentionMask of sequence ${b} is all 0; it needs at least its [CLS] token`);
    }
    return mask;
  }

  /** The labelled positions of MLM labels (B, T) and their targets; throws on bad labels or none. */
  #checkMlmLabels(labels: Tensor, B: number, T: number): { rows: Int32Array; values: Int32Array } {
    expectIds('MLM labels', labels, B, T);
    const l = labels.i32();
    const V = this.config.vocabSize;
    const rows: number[] = [];
    for (let i = 0; i < l.length; i++) {
      const v = l[i]!;
      if (v === -100) continue;
      if (v < 0 || v >= V) throw new TokenError(`BERT: MLM label ${v} at [${Math.floor(i / T)}, ${i % T}] is outside [0, ${V}) and is not −100 (ignored)`);
      rows.push(i);
    }
    if (rows.length === 0) throw new ValueError(`BERT: all ${B * T} MLM labels are −100; select at least one position (maskTokens guarantees one per sequence)`);
    return { rows: Int32Array.from(rows), values: Int32Array.from(rows, (i) => l[i]!) };
  }

  #checkClassLabels(labels: Tensor, B: number): void {
    if (labels.dtype !== 'i32') throw new DTypeError(`BERT: class labels are ${labels.describe()}, expected dtype i32`);
    if (labels.shape.length !== 1 || labels.shape[0] !== B) throw new ShapeError(`BERT: class labels have shape [${labels.shape.join(', ')}], expected [${B}] (one per sequence)`);
    const l = labels.i32();
    const L = this.config.numLabels;
    for (let b = 0; b < B; b++) {
      if (!(l[b]! >= 0 && l[b]! < L)) throw new ValueError(`BERT: class label ${l[b]} of sequence ${b} is outside [0, numLabels = ${L})`);
    }
  }
}

function expectIds(what: string, t: Tensor, B: number, T: number): void {
  if (t.dtype !== 'i32') throw new DTypeError(`BERT: ${what} is ${t.describe()}, expected dtype i32`);
  if (t.shape.length !== 2 || t.shape[0] !== B || t.shape[1] !== T) {
    throw new ShapeError(`BERT: ${what} has shape [${t.shape.join(', ')}], expected [${B}, ${T}] like ids`);
  }
}
