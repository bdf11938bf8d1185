// Learning-rate schedules as plain functions of the step: `schedule(step)` is the learning
// rate for update number `step`, counted from 0. The options are checked once, when the
// schedule is made; each call checks only its step.
import { ValueError } from '../errors.js';

/** A learning-rate schedule: the rate used for the update with 0-based index `step`. */
export type LrSchedule = (step: number) => number;

export interface CosineWithWarmupOptions {
  /** Peak learning rate, reached at step = warmupSteps. */
  lr: number;
  /** Floor the cosine decays to, and the rate after decaySteps. 0 ≤ minLr ≤ lr. */
  minLr: number;
  /** Steps of linear warmup (an integer ≥ 0). */
  warmupSteps: number;
  /** Step at which the cosine reaches minLr (an integer > warmupSteps). */
  decaySteps: number;
}

export interface LinearWarmupOptions {
  /** Rate after the warmup. */
  lr: number;
  /** Steps of linear warmup (an integer ≥ 0). */
  warmupSteps: number;
}

export interface NoamOptions {
  /** Model width d_model (an integer ≥ 1). */
  dModel: number;
  /** Step count s at which the rate peaks (an integer ≥ 0; 0 gives a pure s^−0.5 decay). */
  warmupSteps: number;
  /** Multiplies the whole schedule. Default 1. */
  factor?: number;
}

/**
 * Linear warmup then cosine decay to `minLr`, as nanoGPT's `get_lr`:
 * - step < warmupSteps: lr · (step + 1) / (warmupSteps + 1) — the current nanoGPT form, so
 *   step 0 already trains (older versions used lr · step / warmupSteps, which is 0 at step 0);
 * - step > decaySteps: minLr;
 * - otherwise, with r = (step − warmupSteps) / (decaySteps − warmupSteps):
 *   minLr + 0.5 · (1 + cos(π·r)) · (lr − minLr).
 * @throws ValueError for a negative or non-finite rate, minLr > lr, a warmup that is not an
 *   integer ≥ 0, or decaySteps ≤ warmupSteps.
 * @example
 * ```ts
 * const lrAt = cosineWithWarmup({ lr: 6e-4, minLr: 6e-5, warmupSteps: 2000, decaySteps: 600000 });
 * lrAt(2000); // 6e-4
 * ```
 */
export function cosineWithWarmup(opts: CosineWithWarmupOptions): LrSchedule {
  const op = 'cosineWithWarmup';
  const { lr, minLr, warmupSteps, decaySteps } = opts;
  checkRate(op, 'lr', lr);
  checkRate(op, 'minLr', minLr);
  if (minLr > lr) throw new ValueError(`${op}: minLr ${minLr} is above lr ${lr}`);
  checkSteps(op, 'warmupSteps', warmupSteps);
  if (!Number.isInteger(decaySteps) || decaySteps <= warmupSteps) {
    throw new ValueError(`${op}: decaySteps is ${decaySteps}, expected an integer > warmupSteps = ${warmupSteps}`);
  }
  return (step) => {
    checkStep(op, step);
    if (step < warmupSteps) return (lr * (step + 1)) / (warmupSteps + 1);
    if (step > decaySteps) return minLr;
    const ratio = (step - warmupSteps) / (decaySteps - warmupSteps);
    const coeff = 0.5 * (1 + Math.cos(Math.PI * ratio)); // 1 → 0
    return minLr + coeff * (lr - minLr);
  };
}

/**
 * Linear warmup then a constant rate: lr · (step + 1) / (warmupSteps + 1) while
 * step < warmupSteps (the warmup of `cosineWithWarmup`), lr afterwards.
 * @example
 * ```ts
 * const lrAt = linearWarmup({ lr: 1e-3, warmupSteps: 100 });
 * lrAt(0); // 1e-3 / 101
 * ```
 */
export function linearWarmup(opts: LinearWarmupOptions): LrSchedule {
  const op = 'linearWarmup';
  const { lr, warmupSteps } = opts;
  checkRate(op, 'lr', lr);
  checkSteps(op, 'warmupSteps', warmupSteps);
  return (step) => {
    checkStep(op, step);
    return step < warmupSteps ? (lr * (step + 1)) / (warmupSteps + 1) : lr;
  };
}

/**
 * The schedule of "Attention Is All You Need" (§5.3), with s = step + 1 so step 0 is finite:
 * factor · dModel^−0.5 · min(s^−0.5, s · warmupSteps^−1.5). It rises linearly to its peak
 * factor · (dModel · warmupSteps)^−0.5 at s = warmupSteps, then decays as s^−0.5.
 * @throws ValueError for dModel not an integer ≥ 1, warmupSteps not an integer ≥ 0, or a
 *   negative or non-finite factor.
 * @example
 * ```ts
 * const lrAt = noam({ dModel: 512, warmupSteps: 4000 });
 * lrAt(3999); // 512^-0.5 · 4000^-0.5 ≈ 7.0e-4, the peak
 * ```
 */
export function noam(opts: NoamOptions): LrSchedule {
  const op = 'noam';
  const { dModel, warmupSteps } = opts;
  const factor = opts.factor ?? 1;
  if (!Number.isInteger(dModel) || dModel < 1) throw new ValueError(`${op}: dModel is ${dModel}, expected an integer ≥ 1`);
  checkSteps(op, 'warmupSteps', warmupSteps);
  checkRate(op, 'factor', factor);
  const scale = factor / Math.sqrt(dModel);
  const rampSlope = warmupSteps === 0 ? Infinity : Math.pow(warmupSteps, -1.5);
  return (step) => {
    checkStep(op, step);
    const s = step + 1;
    return scale * Math.min(1 / Math.sqrt(s), s * rampSlope);
  };
}

/**
 * The same rate at every step.
 * @example
 * ```ts
 * const lrAt = constant(3e-4);
 * lrAt(1000); // 3e-4
 * ```
 */
export function constant(lr: number): LrSchedule {
  checkRate('constant', 'lr', lr);
  return (step) => {
    checkStep('constant', step);
    return lr;
  };
}

function checkRate(op: string, name: string, x: number): void {
  if (!(x >= 0) || !Number.isFinite(x)) throw new ValueError(`${op}: ${name} is ${x}, expected a finite number ≥ 0`);
}

function checkSteps(op: string, name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`${op}: ${name} is ${n}, expected an integer ≥ 0`);
}

function checkStep(op: string, step: number): void {
  if (!Number.isInteger(step) || step < 0) throw new ValueError(`${op}: step is ${step}, expected an integer ≥ 0`);
}
