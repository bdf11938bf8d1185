// BERT's masked-language-model corruption, on plain id arrays before they become tensors:
// each ordinary token is selected with probability `prob` (15%); a selected token becomes
// [MASK] 80% of the time, a random ordinary token 10%, stays itself 10%, and its label is the
// original id (−100, ignored by the loss, everywhere else). Special tokens ([PAD], [CLS],
// [SEP], [MASK]) are never selected, and every sequence gets at least one selected token.
import { ValueError } from '../errors.js';
import type { Rng } from '../random.js';

/** How `maskTokens` corrupts a batch. */
export interface MaskOptions {
  /** Tokens per sequence: ids holds B·seqLen ids, sequence after sequence. */
  seqLen: number;
  rng: Rng;
  /** Id of [MASK]. */
  maskId: number;
  /** Random replacements are drawn uniformly from [0, vocabSize) minus the special ids. */
  vocabSize: number;
  /** Ids never selected (PAD, CLS, SEP, …); [MASK] is added. */
  specialIds: readonly number[];
  /** Selection probability per ordinary token (default 0.15). */
  prob?: number;
}

/** A corrupted batch: model inputs and MLM labels, both (B·seqLen). */
export interface MaskedBatch {
  inputs: Int32Array;
  /** The original id where a token was selected, −100 elsewhere. */
  labels: Int32Array;
}

/**
 * BERT's 80/10/10 masking of a batch of sequences.
 * @example
 * ```ts
 * const { inputs, labels } = maskTokens(ids, { seqLen: 66, rng: new Rng(1), maskId: 3, vocabSize: 100, specialIds: [0, 1, 2] });
 * model.mlm(rt.tensor(inputs, [B, 66], { dtype: 'i32', arena: 'step' }), rt.tensor(labels, [B, 66], { dtype: 'i32', arena: 'step' }));
 * ```
 */
export function maskTokens(ids: ArrayLike<number>, opts: MaskOptions): MaskedBatch {
  const fn = 'maskTokens';
  const { seqLen: T, rng, maskId, vocabSize: V } = opts;
  const prob = opts.prob ?? 0.15;
  if (!Number.isInteger(T) || T < 1 || ids.length % T !== 0) throw new ValueError(`${fn}: ${ids.length} ids do not split into sequences of seqLen = ${T}`);
  if (!(prob > 0 && prob <= 1)) throw new ValueError(`${fn}: prob is ${prob}, expected 0 < prob ≤ 1`);
  if (!Number.isInteger(V) || V < 1) throw new ValueError(`${fn}: vocabSize is ${V}, expected an integer ≥ 1`);
  const special = new Set([...opts.specialIds, maskId]);
  for (const s of special) if (!Number.isInteger(s) || s < 0 || s >= V) throw new ValueError(`${fn}: special id ${s} is outside [0, ${V})`);
  const normal: number[] = [];
  for (let id = 0; id < V; id++) if (!special.has(id)) normal.push(id);
  if (normal.length === 0) throw new ValueError(`${fn}: all ${V} ids are special; there is nothing to draw random replacements from`);
  const inputs = Int32Array.from(ids);
  const labels = new Int32Array(ids.length).fill(-100);
  const corrupt = (i: number): void => {
    labels[i] = inputs[i]!;
    const u = rng.uniform();
    if (u < 0.8) inputs[i] = maskId;
    else if (u < 0.9) inputs[i] = normal[rng.int(normal.length)]!;
    // else: unchanged, but still predicted
  };
  for (let s = 0; s * T < ids.length; s++) {
    const eligible: number[] = [];
    let chosen = 0;
    for (let i = s * T; i < (s + 1) * T; i++) {
      const id = inputs[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new ValueError(`${fn}: id ${id} at [${s}, ${i - s * T}] is outside [0, ${V})`);
      if (special.has(id)) continue;
      eligible.push(i);
      if (rng.uniform() < prob) {
        corrupt(i);
        chosen++;
      }
    }
    if (eligible.length === 0) throw new ValueError(`${fn}: sequence ${s} has only special tokens; there is nothing to mask`);
    // ≥ 1 per sequence, so no sequence (and no batch) has an all-ignored loss
    if (chosen === 0) corrupt(eligible[rng.int(eligible.length)]!);
  }
  return { inputs, labels };
}
