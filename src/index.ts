// wasmformer's public API: the runtime (wasm loading, memory, tensors), the checked ops
// that call the kernels, the plain-JS twins, and the typed errors.
export { createRuntime, Runtime } from './runtime.js';
export type { Backend, RuntimeOptions, MemoryReport, TensorOptions, RandomOptions } from './runtime.js';
export { Tensor, shapeSize } from './tensor.js';
export type { DType } from './tensor.js';
export { Arena } from './memory/arena.js';
export type { ArenaReport, Mark } from './memory/arena.js';
export { Heap, ALIGN, PAGE_BYTES } from './memory/heap.js';
export { Rng, portableLog } from './random.js';
export type { RngState } from './random.js';
export { detectFeatures } from './wasm/features.js';
export type { Features } from './wasm/features.js';
export { loadModule, defaultWasmUrl, WASM_VARIANTS } from './wasm/load.js';
export type { WasmVariant, WasmSource } from './wasm/load.js';
export { KERNELS, jsKernels } from './wasm/abi.js';
export type { Kernels, KernelName, Ptr } from './wasm/abi.js';
export {
  WasmformerError, ShapeError, DTypeError, ValueError, OutOfMemoryError, StaleTensorError, WasmLoadError, FeatureError,
  CheckpointError, TokenError, TrainingError, NotImplementedError,
} from './errors.js';
export { matmul } from './ops/gemm.js';
export type { MatmulOptions } from './ops/gemm.js';
export { softmax, softmaxBackward } from './ops/softmax.js';
export type { SoftmaxOptions } from './ops/softmax.js';
export { layernorm, layernormBackward } from './ops/layernorm.js';
export type { LayernormResult } from './ops/layernorm.js';
export { gelu, geluBackward, relu, reluBackward } from './ops/activation.js';
export { add, mul, scale, axpy, fill, copy, colsum } from './ops/elementwise.js';

// Training stack: autograd, differentiable ops, modules, models, optimizers, data, training,
// generation, checkpoints.
export { Tape, gradOf, gradSlot, passGrad } from './autograd/tape.js';
export { linear } from './fn/linear.js';
export type { WeightLayout } from './fn/linear.js';
export { embedding, checkIds } from './fn/embedding.js';
export { layerNorm } from './fn/layernorm.js';
export { activation } from './fn/activation.js';
export type { Activation } from './fn/activation.js';
export { residual } from './fn/residual.js';
export { dropout } from './fn/dropout.js';
export { attention, attend, attendForward, attendBackward, checkKeyMask } from './fn/attention.js';
export type { AttentionResult, AttentionDims, AttentionOptions, HeadView, GradView, MaskView, ColumnSlice } from './fn/attention.js';
export { crossEntropy } from './fn/crossentropy.js';
export type { CrossEntropyOptions } from './fn/crossentropy.js';
export { ParameterSet, Parameter } from './nn/parameters.js';
export type { ParameterSpec, Init } from './nn/parameters.js';
export type { ModelContext } from './nn/context.js';
export { Linear, Embedding, LayerNorm } from './nn/layers.js';
export { MultiHeadAttention, attendCached } from './nn/attention.js';
export { ProjectedAttention } from './nn/projected-attention.js';
export type { ProjectionNames, ProjectedAttentionConfig } from './nn/projected-attention.js';
export { TransformerLayer, BERT_LAYER_NAMES, VIT_LAYER_NAMES, SEQ2SEQ_ENCODER_NAMES, SEQ2SEQ_DECODER_NAMES } from './nn/layer.js';
export type { LayerNames, LayerConfig, LayerInputs } from './nn/layer.js';
export type { LayerCache } from './nn/attention.js';
export { MLP } from './nn/mlp.js';
export { Block } from './nn/block.js';
export type { BlockConfig, NormPlacement } from './nn/block.js';
export { sinusoidalTable } from './nn/positions.js';
export { GPT, gptConfig, GPT2_SMALL } from './models/gpt.js';
export type { GPTConfig, GPTOutput } from './models/gpt.js';
export { AdamW } from './optim/adamw.js';
export type { AdamWOptions } from './optim/adamw.js';
export { SGD } from './optim/sgd.js';
export type { SGDOptions } from './optim/sgd.js';
export { FlatOptimizer } from './optim/optimizer.js';
export type { Optimizer, StepOptions } from './optim/optimizer.js';
export { clipGradNorm, gradNorm } from './optim/clip.js';
export { cosineWithWarmup, linearWarmup, noam, constant } from './optim/schedule.js';
export type { LrSchedule, CosineWithWarmupOptions, LinearWarmupOptions, NoamOptions } from './optim/schedule.js';
export { CharTokenizer } from './tokenizers/char.js';
export { BatchSampler, splitTokens } from './data/batches.js';
export { train, evaluate } from './train/train.js';
export { trainStep } from './train/step.js';
export type { Trainable, StepResult } from './train/step.js';
export type { TrainOptions, TrainResult, StepInfo, EvalInfo } from './train/train.js';
export { checkpointBytes, saveCheckpoint, readCheckpoint, parseCheckpoint, loadWeights, modelFromCheckpoint, CHECKPOINT_FORMAT } from './train/checkpoint.js';
export type { Checkpoint, CheckpointContents, TrainPosition } from './train/checkpoint.js';
export { generate, generateTokens, generateStream, lastLogits } from './generate/generate.js';
export type { GenerateOptions } from './generate/generate.js';
export { sampleToken, argmax } from './generate/sample.js';
export type { SamplingOptions } from './generate/sample.js';
export { encodeSafetensors, decodeSafetensors, f16ToF32, bf16ToF32, f32ToF16, f32ToBf16 } from './io/safetensors.js';
export { writeFileAtomic, readFileBytes, fileExists } from './io/files.js';
export { lossCurveSvg, toCsv } from './viz/plot.js';
export type { Series, PlotOptions } from './viz/plot.js';
export { attentionMaps, attentionSvg, attentionTerminal, colormapRgb } from './viz/attention.js';
export type { AttentionMaps, AttentionShape, AttentionMapsOptions, AttentionSvgOptions, AttentionTerminalOptions, AttentionScale, Colormap } from './viz/attention.js';
