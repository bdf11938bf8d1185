// The transformer layer of every family (GPT-2, BERT, ViT, the original encoder–decoder):
// self-attention (bidirectional in an encoder, causal in a decoder), cross-attention to the
// encoder output (decoders of an encoder–decoder), then the position-wise feed-forward network;
// each sublayer wrapped in a residual connection with LayerNorm before it (pre-norm, GPT-2 and
// ViT) or after the sum (post-norm, BERT and the paper). What differs between families is data:
// the names table (parameter names, layouts and declaration order of each family's checkpoints).
// Options for modern decoders: RMSNorm instead of LayerNorm (normType 'rms', T5 / Llama) and the
// gated SwiGLU feed-forward (ffn 'swiglu', Llama), or GeGLU (ffn 'geglu', T5 v1.1 and Flan-T5).
import { ValueError, preview } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { residual } from '../fn/residual.js';
import type { ModelContext } from './context.js';
import { LayerNorm, RMSNorm } from './layers.js';
import { Attention, type AttentionConfig, type AttentionNames, type LayerCache } from './attention.js';
import { MLP, SwiGLUMLP, LLAMA_SWIGLU_NAMES } from './mlp.js';
import type { ParameterSet } from './parameters.js';
import type { Activation } from '../fn/activation.js';
import type { WeightLayout } from '../fn/linear.js';

/** Where LayerNorm sits in a layer. */
export type NormPlacement = 'pre' | 'post';

/** Parameter names of a layer's parts, relative to the layer's prefix. */
export interface LayerNames {
  selfAttn: AttentionNames;
  /** The LayerNorm that goes with self-attention. */
  selfNorm: string;
  /** Present in decoder layers of encoder–decoder models. */
  crossAttn?: AttentionNames;
  crossNorm?: string;
  fc1: string;
  fc2: string;
  ffnNorm: string;
  /** Layout of the feed-forward weights: 'out,in' (nn.Linear, default) or 'in,out' (GPT-2's Conv1D). */
  ffnLayout?: WeightLayout;
  /** Declare each sublayer's LayerNorm before the sublayer (GPT-2's module order: ln_1, attn, ln_2, mlp), not after. */
  normFirst?: boolean;
  /** SwiGLU feed-forward (ffn 'swiglu') projections; default Llama's `mlp.gate_proj`, `mlp.up_proj`, `mlp.down_proj` (layout: ffnLayout). */
  gate?: string;
  up?: string;
  down?: string;
}

/** Which normalisation a layer uses: LayerNorm (weight and bias), or RMSNorm (weight only, named `<norm>.weight`). */
export type NormType = 'layer' | 'rms';

/** Which feed-forward a layer uses: fc1 → activation → fc2, or the gated down(silu(gate(x)) ⊙ up(x)). */
export type FeedForwardType = 'mlp' | 'swiglu' | 'geglu';

/** A layer's sizes and options. */
/**
 * A layer's sizes and options: its self-attention's (AttentionConfig: heads, biases, init, causal,
 * positions, window, scale, relative bias; cross-attention takes the same minus positions,
 * windows and bias) and the rest of the layer's.
 */
export interface LayerConfig extends AttentionConfig {
  dFF: number;
  /** Residual dropout after attention and feed-forward, while training. */
  dropout?: number;
  /** Init std of the two output projections (default std; GPT-2: 0.02 / √(2·nLayer)). */
  projStd?: number;
  activation?: Activation;
  /** Default 'post'. */
  norm?: NormPlacement;
  layerNormEps?: number;
  /** Default 'layer'. 'rms': RMSNorm (its eps is layerNormEps, default 1e-6 then). */
  normType?: NormType;
  /** Default 'mlp'. 'swiglu' (silu gate) or 'geglu' (tanh-gelu gate): three projections named by LayerNames gate / up / down; `activation` is not used. */
  ffn?: FeedForwardType;
  /** Init std of the feed-forward's output projection (default projStd; T5: dFF^−½). */
  ffnProjStd?: number;
}

/** Names of Hugging Face GPT-2's layer (`transformer.h.N.` …), pre-norm. */
export const GPT2_LAYER_NAMES: LayerNames = {
  selfAttn: { qkv: 'attn.c_attn', o: 'attn.c_proj' }, selfNorm: 'ln_1', fc1: 'mlp.c_fc', fc2: 'mlp.c_proj', ffnNorm: 'ln_2',
  ffnLayout: 'in,out', normFirst: true,
};

/** Names of Hugging Face BERT's layer (`bert.encoder.layer.N.` …), post-norm. */
export const BERT_LAYER_NAMES: LayerNames = {
  selfAttn: { q: 'attention.self.query', k: 'attention.self.key', v: 'attention.self.value', o: 'attention.output.dense' },
  selfNorm: 'attention.output.LayerNorm', fc1: 'intermediate.dense', fc2: 'output.dense', ffnNorm: 'output.LayerNorm',
};

/** Names of Hugging Face ViT's layer (`vit.encoder.layer.N.` …), pre-norm. */
export const VIT_LAYER_NAMES: LayerNames = {
  selfAttn: { q: 'attention.attention.query', k: 'attention.attention.key', v: 'attention.attention.value', o: 'attention.output.dense' },
  selfNorm: 'layernorm_before', fc1: 'intermediate.dense', fc2: 'output.dense', ffnNorm: 'layernorm_after',
};

const SEQ2SEQ_ATTN = (p: string): AttentionNames => ({ q: `${p}.q_proj`, k: `${p}.k_proj`, v: `${p}.v_proj`, o: `${p}.out_proj` });

/** Names of the original Transformer's encoder layer as Hugging Face Marian/BART write them (`model.encoder.layers.N.` …). */
export const SEQ2SEQ_ENCODER_NAMES: LayerNames = {
  selfAttn: SEQ2SEQ_ATTN('self_attn'), selfNorm: 'self_attn_layer_norm', fc1: 'fc1', fc2: 'fc2', ffnNorm: 'final_layer_norm',
};

/** … and its decoder layer (`model.decoder.layers.N.` …), with cross-attention `encoder_attn`. */
export const SEQ2SEQ_DECODER_NAMES: LayerNames = {
  ...SEQ2SEQ_ENCODER_NAMES, crossAttn: SEQ2SEQ_ATTN('encoder_attn'), crossNorm: 'encoder_attn_layer_norm',
};

const T5_ATTN = (p: string): AttentionNames => ({ q: `${p}.q`, k: `${p}.k`, v: `${p}.v`, o: `${p}.o` });
/** T5 v1.1's gated feed-forward (ffn 'geglu'): wo(gelu(wi_0·x) ⊙ wi_1·x). */
const T5_GATED = (p: string) => ({ gate: `${p}.wi_0`, up: `${p}.wi_1`, down: `${p}.wo` });

/** Names of Hugging Face T5's encoder block (`encoder.block.N.` …), pre-norm RMSNorm, ReLU feed-forward (T5 v1.0). */
export const T5_ENCODER_NAMES: LayerNames = {
  selfAttn: T5_ATTN('layer.0.SelfAttention'), selfNorm: 'layer.0.layer_norm',
  fc1: 'layer.1.DenseReluDense.wi', fc2: 'layer.1.DenseReluDense.wo', ffnNorm: 'layer.1.layer_norm',
  ...T5_GATED('layer.1.DenseReluDense'),
};

/** … and its decoder block (`decoder.block.N.` …): cross-attention `layer.1.EncDecAttention`, the feed-forward in `layer.2`. */
export const T5_DECODER_NAMES: LayerNames = {
  ...T5_ENCODER_NAMES, crossAttn: T5_ATTN('layer.1.EncDecAttention'), crossNorm: 'layer.1.layer_norm',
  fc1: 'layer.2.DenseReluDense.wi', fc2: 'layer.2.DenseReluDense.wo', ffnNorm: 'layer.2.layer_norm',
  ...T5_GATED('layer.2.DenseReluDense'),
};

/** What a decoder layer attends to besides itself. */
export interface LayerInputs {
  /** i32 (B, T) (with a cache: (B, ≥ pos + T)): 0 marks padding in this layer's own sequence. */
  selfMask?: Tensor | null;
  /** Encoder output (B, S, C), for cross-attention. */
  memory?: Tensor;
  /** Cross-attention while decoding: `crossAttn.memoryKV(memory)`, (B or 1, S, 2C), computed once per source. */
  memoryKV?: Tensor;
  /** i32 (B or 1, S): 0 marks padding in the source. */
  memoryMask?: Tensor | null;
  /** Incremental decoding (no gradients): x holds positions pos … pos+T−1, whose keys and values go into this cache. */
  cache?: LayerCache;
  /** Position of x's first row with `cache` (default 0). */
  pos?: number;
}

/**
 * pre-norm:  x = x + attn(ln(x)) [; x = x + cross(ln(x), memory)]; x = x + ffn(ln(x))
 * post-norm: x = ln(x + attn(x)) [; x = ln(x + cross(x, memory))]; x = ln(x + ffn(x))
 * @example
 * ```ts
 * const layer = new TransformerLayer(ctx, ps, 'bert.encoder.layer.0', { dModel: 64, nHead: 4, dFF: 256, norm: 'post' }, BERT_LAYER_NAMES);
 * const y = layer.forward(x, { selfMask: mask }); // x (B, T, 64), mask i32 (B, T)
 * ```
 */
export class TransformerLayer {
  readonly selfAttn!: Attention;
  readonly selfNorm!: LayerNorm | RMSNorm;
  readonly crossAttn!: Attention | null;
  readonly crossNorm!: LayerNorm | RMSNorm | null;
  readonly ffn!: MLP | SwiGLUMLP;
  readonly ffnNorm!: LayerNorm | RMSNorm;
  readonly norm: NormPlacement;

  constructor(readonly ctx: ModelContext, ps: ParameterSet, prefix: string, cfg: LayerConfig, names: LayerNames) {
    this.norm = cfg.norm ?? 'post';
    const normType = cfg.normType ?? 'layer', ffnType = cfg.ffn ?? 'mlp';
    if (normType !== 'layer' && normType !== 'rms') throw new ValueError(`TransformerLayer: normType is ${preview(normType)}, expected 'layer' or 'rms'`);
    if (ffnType !== 'mlp' && ffnType !== 'swiglu' && ffnType !== 'geglu') throw new ValueError(`TransformerLayer: ffn is ${preview(ffnType)}, expected 'mlp', 'swiglu' or 'geglu'`);
    const ln = (name: string) => (normType === 'rms'
      ? new RMSNorm(ctx, ps, `${prefix}.${name}`, cfg.dModel, { eps: cfg.layerNormEps })
      : new LayerNorm(ctx, ps, `${prefix}.${name}`, cfg.dModel, { bias: cfg.bias, eps: cfg.layerNormEps }));
    // each sublayer with its LayerNorm, declared in the order the family's checkpoints list them
    const pair = <T>(norm: string, make: () => T): [T, LayerNorm | RMSNorm] => {
      if (names.normFirst) {
        const n = ln(norm);
        return [make(), n];
      }
      const m = make();
      return [m, ln(norm)];
    };
    [this.selfAttn, this.selfNorm] = pair(names.selfNorm, () => new Attention(ctx, ps, prefix, cfg, names.selfAttn));
    if (names.crossAttn) {
      const cross = names.crossAttn;
      [this.crossAttn, this.crossNorm] = pair(names.crossNorm ?? `${'q' in cross ? cross.q : cross.qkv}_norm`,
        () => new Attention(ctx, ps, prefix, { ...cfg, causal: false, positions: undefined, window: 0, globals: 0, relativeBias: null }, cross));   // positions, windows and biases are self-attention's
    } else {
      this.crossAttn = null;
      this.crossNorm = null;
    }
    const layout = names.ffnLayout ?? 'out,in';
    const ffnCfg = cfg.ffnProjStd === undefined ? cfg : { ...cfg, projStd: cfg.ffnProjStd };
    const gateAct = ffnType === 'geglu' ? 'gelu' : 'silu';
    [this.ffn, this.ffnNorm] = pair(names.ffnNorm, () => (ffnType !== 'mlp'
      ? new SwiGLUMLP(ctx, ps, prefix, { ...ffnCfg, act: gateAct }, { gate: names.gate ?? LLAMA_SWIGLU_NAMES.gate, up: names.up ?? LLAMA_SWIGLU_NAMES.up, down: names.down ?? LLAMA_SWIGLU_NAMES.down, layout })
      : new MLP(ctx, ps, prefix, ffnCfg, { fc: names.fc1, proj: names.fc2, layout })));
  }

  /**
   * x (B, T, C) → (B, T, C): over the whole sequence, or with `cache` and `pos` incrementally
   * (decoding, no gradients). Decoder layers of an encoder–decoder need `memory` (or `memoryKV`).
   */
  forward(x: Tensor, inputs: LayerInputs = {}): Tensor {
    const { cache, pos } = inputs;
    x = this.#sub(x, this.selfNorm, (h) => this.selfAttn.forward(h, { mask: inputs.selfMask, cache, pos }));
    if (this.crossAttn) {
      if (!inputs.memory && !inputs.memoryKV) throw new ValueError('TransformerLayer: this decoder layer has cross-attention; pass the encoder output (memory, or memoryKV when decoding)');
      x = this.#sub(x, this.crossNorm!, (h) => this.crossAttn!.forward(h, { memory: inputs.memory, memoryKV: inputs.memoryKV, mask: inputs.memoryMask }));
    }
    return this.#sub(x, this.ffnNorm, (h) => this.ffn.forward(h));
  }

  /** One residual sublayer with its LayerNorm before (pre) or after (post). */
  #sub(x: Tensor, ln: LayerNorm | RMSNorm, f: (h: Tensor) => Tensor): Tensor {
    const rt = this.ctx.rt;
    return this.norm === 'pre' ? residual(rt, x, f(ln.forward(x))) : ln.forward(residual(rt, x, f(x)));
  }
}
