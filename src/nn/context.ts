// What every module of one model shares: the runtime, the train/eval switch, and the Rng
// that dropout draws its seeds from (part of a checkpoint, so resumed runs drop the same units).
import type { Rng } from '../random.js';
import type { Runtime } from '../runtime.js';

/** Shared by the modules of one model. */
export interface ModelContext {
  readonly rt: Runtime;
  /** Dropout is active only while training. */
  training: boolean;
  /** Source of dropout seeds. */
  readonly rng: Rng;
}
