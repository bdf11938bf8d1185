// A stack of transformer layers run in order: every family's encoder and decoder. With gradient
// checkpointing on (ModelContext.checkpoint = k), segments of k layers keep only their input
// while training; their backward recomputes them (fn/checkpoint.ts) with the same dropout draws.
// ModelContext.checkpointSegments limits how many (the first ones) do: the rest keep their
// activations, trading memory back for less recompute.
// Every segment is checkpointed, the last too: the step arena frees nothing until the step ends,
// so a plain last segment's activations and gradients would sit under every later recompute.
// Under mixed precision (ModelContext.precision 'bf16') every layer that is not checkpointed keeps
// its activations as bf16 (fn/bf16-storage.ts).
// Without a tape (inference, decoding) nothing is kept for a backward, so each layer runs in its
// own step-arena scope and only its output is copied out: a forward holds one layer's temporaries
// at a time instead of every layer's (GPT-2 small, a 128-token prefill: 82 → 9 MiB of step arena).
import type { Tensor } from '../tensor.js';
import { copy } from '../ops/elementwise.js';
import type { RngState } from '../random.js';
import { checkpoint } from '../fn/checkpoint.js';
import { storedSegment } from '../fn/bf16-storage.js';
import type { ModelContext } from './context.js';
import type { LayerInputs, TransformerLayer } from './layer.js';

/**
 * x (B, T, C) through `layers` in order → (B, T, C). `inputs` may differ per layer (a function of
 * the layer's index: each decoder layer's own KV cache).
 * @example
 * ```ts
 * const h = runLayers(model.ctx, model.h, x);                          // GPT's blocks
 * const y = runLayers(ctx, decoder, y0, { selfMask, memory, memoryMask });
 * const z = runLayers(ctx, model.h, x1, (i) => ({ cache: caches[i], pos }));   // one decoding step
 * ```
 */
export function runLayers(ctx: ModelContext, layers: readonly TransformerLayer[], x: Tensor, inputs: LayerInputs | ((i: number) => LayerInputs) = {}): Tensor {
  const at = typeof inputs === 'function' ? inputs : () => inputs;
  if (!ctx.rt.tape.enabled) return layerByLayer(ctx, layers, x, at);
  const shared = at(0);
  const k = ctx.checkpoint ?? 0, limit = ctx.checkpointSegments ?? Infinity;
  const all = (from: number, to: number) => (h: Tensor) => {
    for (let i = from; i < to; i++) h = layers[i]!.forward(h, at(i));
    return h;
  };
  const store = ctx.activationStore ?? (ctx.precision === 'bf16' ? 'bf16' : null);
  if ((k === 0 && !store) || shared.cache || typeof inputs === 'function') return all(0, layers.length)(x);
  const rng = ctx.rng;
  const opts = { inputs: [shared.memory], save: () => rng.getState(), restore: (s: unknown) => void rng.setState(s as RngState) };
  // the first `limit` segments recompute; the layers after them keep their activations (less
  // recompute for more memory: a partial checkpoint), as bf16 under mixed precision
  let i = 0;
  for (let n = 0; k > 0 && n < limit && i < layers.length; n++, i += k) x = checkpoint(ctx.rt, all(i, Math.min(layers.length, i + k)), x, opts);
  if (!store) return i < layers.length ? all(i, layers.length)(x) : x;
  for (; i < layers.length; i++) x = storedSegment(ctx.rt, all(i, i + 1), x, { inputs: [shared.memory], store });
  return x;
}

/**
 * The layers without a tape: each in its own step-arena scope, its output copied into one of two
 * buffers made before the loop (layer i reads one, writes the other), so the temporaries of a
 * layer are gone before the next starts.
 */
function layerByLayer(ctx: ModelContext, layers: readonly TransformerLayer[], x: Tensor, at: (i: number) => LayerInputs): Tensor {
  const rt = ctx.rt;
  if (layers.length === 0) return x;
  const buffers = [rt.empty(x.shape, { arena: 'step' }), layers.length > 1 ? rt.empty(x.shape, { arena: 'step' }) : null];
  let h = x;
  layers.forEach((layer, i) => {
    const out = buffers[i % 2]!;
    const input = h;
    rt.step.scope(() => copy(rt, layer.forward(input, at(i)), { out }));
    h = out;
  });
  return h;
}
