// The ABI of wasmformer's kernels: every export of every wasm variant, in one place.
// Pointers are byte addresses into the imported memory; sizes are element counts.
// Kernels trust their arguments (src/ops checks them), never allocate and never throw.
// Argument order: outputs, saved stats, inputs, params, sizes. Backward kernels add (+=).

export { heap_base } from "./layout";
export { gemm_f32, gemm_block_f32, gemm_small_path, gemm_batched_f32, gemm_workspace_bytes, GEMM_MR, GEMM_NR, GEMM_KC, GEMM_MC, GEMM_NC, GEMM_SMALL_M, GEMM_SMALL_R, GEMM_SMALL_KC, GEMM_GEMV_NB, GEMM_GEMV_KC, GEMM_PANEL, GEMM_PANEL_MAX, gemv_chunks_f32, gemv_sum_f32, pack_weight_f32, gemm_packed_f32, gemm_gelu_f32 } from "./gemm";
export { softmax_forward, softmax_backward, attention_mask_f32 } from "./softmax";
export { layernorm_forward, layernorm_backward, layernorm_backward_params } from "./layernorm";
export { gelu_forward, gelu_backward, gelu_erf_forward, gelu_erf_backward, relu_forward, relu_backward, tanh_forward, tanh_backward } from "./activation";
export { add_f32, mul_f32, scale_f32, axpy_f32, fill_f32, copy_f32, colsum_f32, argmax_f32 } from "./elementwise";
export { embedding_forward, embedding_backward } from "./embedding";
export { crossentropy_forward, crossentropy_backward } from "./crossentropy";
export { adamw_f32, sgd_f32, sumsq_f32 } from "./optim";
export { dropout_forward, dropout_backward } from "./dropout";
export { quant_pack_i8, quant_pack_f16, quant_pack_bf16, QUANT_NR, QUANT_KB } from "./quant_pack";
export { gemm_q8_f32, quant_rows_q8, quant_rows_bytes } from "./quant_q8";
export { gather_quant } from "./quant_gather";
export { gemm_f16_f32, gemm_bf16_f32 } from "./quant_half";
export { rmsnorm_forward, rmsnorm_backward, rmsnorm_backward_params } from "./rmsnorm";
export { swiglu_forward, swiglu_backward, geglu_forward, geglu_backward } from "./swiglu";
export { rope_forward, rope_backward } from "./rope";
export { attention_fused_forward, attention_fused_backward, attention_fused_probs, attention_rows_split, attention_split_bytes, ATTN_BQ, ATTN_BK, ATTN_ROWS_BK, ATTN_MAX_HS } from "./attention";
export { relbias_forward, relbias_backward } from "./relbias";
export { pack_bf16, unpack_bf16 } from "./convert";
