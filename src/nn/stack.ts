// A stack of transformer layers run in order: every family's encoder and decoder. With gradient
// checkpointing on (ModelContext.checkpoint = k), segments of k layers keep only their input
// while training; their backward recomputes them (fn/checkpoint.ts) with the same dropout draws.
// ModelContext.checkpointSegments limits how many (the first ones) do: the rest keep their
// activations, trading memory back for less recompute.
// Every segment is checkpointed, the last too: the step arena frees nothing until the step ends,
// so a plain last segment's activations and gradients would sit under every later recompute.
// Under mixed precision (ModelContext.precision 'bf16') every layer that is not checkpointed keeps
// its activations as bf16 (fn/bf16-storage.ts).
import type { Tensor } from '../tensor.js';
import type { RngState } from '../random.js';
import { checkpoint } from '../fn/checkpoint.js';
import { storedSegment } from '../fn/bf16-storage.js';
import type { ModelContext } from './context.js';
import type { LayerInputs, TransformerLayer } from './layer.js';

/**
 * x (B, T, C) through `layers` in order → (B, T, C).
 * @example
 * ```ts
 * const h = runLayers(model.ctx, model.h, x);                          // GPT's blocks
 * const y = runLayers(ctx, decoder, y0, { selfMask, memory, memoryMask });
 * ```
 */
export function runLayers(ctx: ModelContext, layers: readonly TransformerLayer[], x: Tensor, inputs: LayerInputs = {}): Tensor {
  const k = ctx.checkpoint ?? 0, limit = ctx.checkpointSegments ?? Infinity;
  const all = (from: number, to: number) => (h: Tensor) => {
    for (let i = from; i < to; i++) h = layers[i]!.forward(h, inputs);
    return h;
  };
  const store = ctx.activationStore ?? (ctx.precision === 'bf16' ? 'bf16' : null);
  if ((k === 0 && !store) || inputs.cache || !ctx.rt.tape.enabled) return all(0, layers.length)(x);
  const rng = ctx.rng;
  const opts = { inputs: [inputs.memory], save: () => rng.getState(), restore: (s: unknown) => void rng.setState(s as RngState) };
  // the first `limit` segments recompute; the layers after them keep their activations (less
  // recompute for more memory: a partial checkpoint), as bf16 under mixed precision
  let i = 0;
  for (let n = 0; k > 0 && n < limit && i < layers.length; n++, i += k) x = checkpoint(ctx.rt, all(i, Math.min(layers.length, i + k)), x, opts);
  if (!store) return i < layers.length ? all(i, layers.length)(x) : x;
  for (; i < layers.length; i++) x = storedSegment(ctx.rt, all(i, i + 1), x, { inputs: [inputs.memory], store });
  return x;
}
