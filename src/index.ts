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
