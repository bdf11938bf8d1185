// What every module of one model shares: the runtime, the train/eval switch, the Rng that
// dropout draws its seeds from (part of a checkpoint, so resumed runs drop the same units), how
// attention runs (fused or dense: the same numbers to f32 rounding, different memory) and
// whether layers are checkpointed (recomputed in the backward: less memory, same gradients) and
// how the activations the backward needs are stored (f32, or bf16 under mixed precision).
import type { AttentionPath } from '../fn/attention.js';
import type { ActivationStore } from '../fn/bf16-storage.js';
import type { Rng } from '../random.js';
import type { Runtime } from '../runtime.js';

/** Shared by the modules of one model. */
export interface ModelContext {
  readonly rt: Runtime;
  /** Dropout is active only while training. */
  training: boolean;
  /** Source of dropout seeds. */
  readonly rng: Rng;
  /** 'fused' (default: attention memory O(T)) or 'dense' (stores the T×T probabilities). */
  attentionPath?: AttentionPath;
  /** Gradient checkpointing while training: segments of this many layers keep only their input (0 or absent: off). */
  checkpoint?: number;
  /** With `checkpoint`: only the first this many segments recompute (absent: all). */
  checkpointSegments?: number;
  /** 'bf16': mixed precision, the layers' activations kept for the backward as bf16 (fn/bf16-storage.ts); 'f32' or absent: as computed. */
  precision?: Precision;
  /** @internal Overrides the store `precision` picks ('f32': the bf16 machinery without rounding, for tests). */
  activationStore?: ActivationStore;
}

/** How training keeps activations: 'f32', or 'bf16' (mixed precision: f32 arithmetic, master weights and optimizer state). */
export type Precision = 'f32' | 'bf16';
