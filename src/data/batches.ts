// Training batches from one token stream, as nanoGPT's get_batch: B random windows of T+1
// tokens, x the first T and y the same shifted by one. Start i comes from its own Rng seeded by
// (seed, i) — integer operations only, so a seed gives the same batches in every runtime, and a
// {seed, draws} snapshot resumes the identical sequence in O(1), whatever the number of draws.
import { ShapeError, ValueError, preview } from '../errors.js';
import { Rng } from '../random.js';

/**
 * Splits a token stream into its first `trainFraction` (train) and the rest (val), as
 * nanoGPT does: `n = floor(len · trainFraction)`. Both parts are views into `tokens`.
 * @throws ValueError unless 0 < trainFraction < 1
 * @example
 * const { train, val } = splitTokens(tok.encode(text)); // 90% / 10%
 */
export function splitTokens(tokens: Int32Array, trainFraction = 0.9): { train: Int32Array; val: Int32Array } {
  if (!(trainFraction > 0 && trainFraction < 1)) {
    throw new ValueError(`splitTokens: trainFraction is ${trainFraction}, expected a number strictly between 0 and 1`);
  }
  const n = Math.floor(tokens.length * trainFraction);
  return { train: tokens.subarray(0, n), val: tokens.subarray(n) };
}

/**
 * A JSON-serialisable position in a {@link BatchSampler}'s sequence: the seed of its
 * stream, how many window starts were drawn, and the range they were drawn from.
 */
export interface BatchSamplerState {
  /** 2: start i drawn from its own Rng seeded by (seed, i). (Snapshots of the earlier one-stream sampler have none and cannot be continued.) */
  scheme: 2;
  seed: number;
  draws: number;
  /** The number of possible starts, tokens.length − T; a state only fits a sampler with the same range. */
  range: number;
}

/**
 * Draws batches of B windows of T tokens (inputs x) and their next tokens (targets y)
 * from a token stream, at starts uniform in [0, len − T − 1].
 *
 * Given a seed number, the starts come from `new Rng(seed)`. Given an Rng, the sampler
 * takes one `nextU32()` from it as the seed of its own stream, so the batches are still a
 * function of that Rng and {@link BatchSampler.state} can always name them.
 * @example
 * const sampler = new BatchSampler(train, 8, 64, 1337);
 * const x = new Int32Array(8 * 64), y = new Int32Array(8 * 64); // (B, T)
 * sampler.next(x, y);                 // y[b, t] is the token after x[b, t]
 * const saved = sampler.state();      // store in the checkpoint (JSON)
 * const resumed = new BatchSampler(train, 8, 64, 0);
 * resumed.setState(saved);            // continues with the batches `sampler` would draw next
 */
export class BatchSampler {
  readonly tokens: Int32Array;
  readonly batchSize: number; // B
  readonly blockSize: number; // T
  #seed: number;
  #draws = 0;

  /**
   * @param tokens the stream; must hold at least T+1 tokens (one window and its target)
   * @param batchSize B, windows per batch
   * @param blockSize T, tokens per window
   * @param rng a seed (integer, taken modulo 2^32) or an Rng to take the seed from
   * @throws ValueError for sizes that are not positive integers, a bad seed, or a stream shorter than T+1
   */
  constructor(tokens: Int32Array, batchSize: number, blockSize: number, rng: Rng | number) {
    for (const [name, v] of [['batchSize', batchSize], ['blockSize', blockSize]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new ValueError(`BatchSampler: ${name} is ${v}, expected an integer ≥ 1`);
    }
    if (tokens.length < blockSize + 1) {
      throw new ValueError(
        `BatchSampler: the token stream has ${tokens.length} tokens, fewer than one window of blockSize + 1 = ${blockSize + 1} (inputs and their next-token targets)`,
      );
    }
    if (typeof rng === 'number' && !Number.isSafeInteger(rng)) {
      throw new ValueError(`BatchSampler: seed is ${rng}, expected an integer`);
    }
    this.tokens = tokens;
    this.batchSize = batchSize;
    this.blockSize = blockSize;
    this.#seed = typeof rng === 'number' ? rng >>> 0 : rng.nextU32();
  }

  /** Start number `i` of the sequence: uniform in [0, range), from an Rng of its own seeded by (seed, i). */
  #start(i: number): number {
    return Rng.at(this.#seed, i).int(this.range);
  }

  /** The number of possible window starts: tokens.length − T. */
  get range(): number {
    return this.tokens.length - this.blockSize;
  }

  /**
   * Fills the next batch: x[b·T + t] = tokens[s_b + t] and y[b·T + t] = tokens[s_b + t + 1]
   * for B fresh random starts s_b.
   * @param x (B, T) inputs, overwritten
   * @param y (B, T) targets, overwritten
   * @throws ShapeError unless x and y both have B·T elements
   */
  next(x: Int32Array, y: Int32Array): void {
    const B = this.batchSize, T = this.blockSize;
    if (x.length !== B * T || y.length !== B * T) {
      throw new ShapeError(`BatchSampler.next: x has ${x.length} and y has ${y.length} elements, expected B·T = ${B}·${T} = ${B * T} each`);
    }
    for (let b = 0; b < B; b++) {
      const s = this.#start(this.#draws + b);
      x.set(this.tokens.subarray(s, s + T), b * T);
      y.set(this.tokens.subarray(s + 1, s + T + 1), b * T);
    }
    this.#draws += B;
  }

  /** A JSON-serialisable snapshot of the position in the batch sequence. */
  state(): BatchSamplerState {
    return { scheme: 2, seed: this.#seed, draws: this.#draws, range: this.range };
  }

  /**
   * Continues from a snapshot taken by {@link BatchSampler.state}, in O(1): the next batch is
   * the one the snapshotted sampler would have drawn next.
   * @throws ValueError for a malformed snapshot or one taken over a stream of a different length or T
   */
  setState(state: BatchSamplerState): void {
    this.checkState(state);
    this.#seed = state.seed;
    this.#draws = state.draws;
  }

  /** Throws ValueError unless `state` is a snapshot this sampler can continue from; changes nothing. */
  checkState(state: unknown): asserts state is BatchSamplerState {
    const { scheme, seed, draws, range } = (state && typeof state === 'object' ? state : {}) as Partial<BatchSamplerState>;
    if (scheme !== 2) {
      throw new ValueError(`BatchSampler.setState: the snapshot ${preview(state)} has scheme ${preview(scheme)}, expected 2; snapshots of the earlier one-stream sampler cannot be continued (its batches would differ)`);
    }
    if (!Number.isSafeInteger(seed) || seed! < 0 || seed! > 0xffffffff || !Number.isSafeInteger(draws) || draws! < 0) {
      throw new ValueError(`BatchSampler.setState: got ${preview(state)}, expected { scheme: 2, seed: 0..2^32-1, draws: integer ≥ 0, range }`);
    }
    if (range !== this.range) {
      throw new ValueError(
        `BatchSampler.setState: the snapshot drew starts from ${preview(range)} positions, this sampler from ${this.range} ` +
          `(${this.tokens.length} tokens − T=${this.blockSize}); it was taken over a different stream or block size`,
      );
    }
  }
}
