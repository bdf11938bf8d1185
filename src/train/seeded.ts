// The BatchSource most tasks need: batch i is made from its own Rng seeded by (seed, i), so a
// run is reproducible from its seed and a checkpoint's position is just { seed, i } — resume
// costs nothing however far the run went.
import { ValueError, preview } from '../errors.js';
import { Rng } from '../random.js';
import type { Tensor } from '../tensor.js';
import type { BatchSource } from './train.js';

/** The position of a {@link seededBatches} source: batch `i` comes next. */
export interface SeededBatchesState {
  seed: number;
  i: number;
}

/**
 * A BatchSource whose batch i is `make(Rng.at(seed, i), i)`: the model's loss on a batch built
 * in the step arena, and how many items (tokens, examples) it held.
 * @throws ValueError for a seed that is not an integer.
 * @example
 * ```ts
 * const batches = seededBatches(1, (rng) => {
 *   const b = task.batch(rng, 64);                                       // your data, drawn from rng
 *   return { loss: model.forward(b.src, b.tgtIn, b.tgtOut).loss!, items: 64 * b.T };
 * });
 * await train({ model, optimizer, batches, steps: 3000, lr: noam({ dModel: 64, warmupSteps: 400 }) });
 * ```
 */
export function seededBatches(seed: number, make: (rng: Rng, i: number) => { loss: Tensor; items: number }): BatchSource & { readonly seed: number; readonly i: number } {
  if (!Number.isSafeInteger(seed)) throw new ValueError(`seededBatches: seed is ${preview(seed)}, expected an integer`);
  const s = seed >>> 0;
  let i = 0;
  const check = (state: unknown): SeededBatchesState => {
    const { seed: at, i: next } = (state && typeof state === 'object' ? state : {}) as Partial<SeededBatchesState>;
    if (!Number.isSafeInteger(next) || next! < 0 || at !== s) {
      throw new ValueError(`seededBatches: the position ${preview(state)} is not one of this source's, expected { seed: ${s}, i: integer ≥ 0 }`);
    }
    return { seed: s, i: next! };
  };
  return {
    get seed() { return s; },
    get i() { return i; },
    next() {
      const made = make(Rng.at(s, i), i);
      i++;
      return made;
    },
    state: (): SeededBatchesState => ({ seed: s, i }),
    checkState: (state) => void check(state),
    setState: (state) => { i = check(state).i; },
  };
}
