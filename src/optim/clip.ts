// The global gradient norm over the flat gradient buffer (one kernel call), and the scale
// that clipping to a maximum norm applies (PyTorch's clip_grad_norm_: max / (norm + 1e-6),
// at most 1). The scale is handed to the optimizer, which applies it while it reads the
// gradients, so clipping costs no extra pass. A NaN or Inf anywhere shows as a non-finite norm.
import { ValueError } from '../errors.js';
import type { ParameterSet } from '../nn/parameters.js';
import { sumOfSquares } from '../ops/optim.js';

/** ‖g‖₂ over every parameter gradient. */
export function gradNorm(params: ParameterSet): number {
  return Math.sqrt(sumOfSquares(params.rt, params.grads));
}

/**
 * The global norm and the factor that brings it down to `maxNorm` (1 when it is below).
 * @example
 * ```ts
 * const { norm, scale } = clipGradNorm(model.params, 1.0);
 * opt.step({ lr, gradScale: scale });
 * ```
 */
export function clipGradNorm(params: ParameterSet, maxNorm: number): { norm: number; scale: number } {
  if (!(maxNorm > 0)) throw new ValueError(`clipGradNorm: maxNorm is ${maxNorm}, expected > 0`);
  const norm = gradNorm(params);
  const scale = Number.isFinite(norm) ? Math.min(1, maxNorm / (norm + 1e-6)) : NaN;
  return { norm, scale };
}
