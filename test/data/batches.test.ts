// splitTokens and BatchSampler: the 90/10 split, determinism (with golden starts, which
// must not change across runtimes or versions), contiguous windows with y = x shifted by
// one, starts covering exactly [0, len − T − 1], and resuming from a JSON state.
import { describe, expect, it } from 'vitest';
import { Rng, ShapeError, ValueError } from '../../src/index.js';
import { BatchSampler, splitTokens } from '../../src/data/batches.js';

/** tokens[i] = i, so every token names its own position. */
const arange = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

function batch(sampler: BatchSampler): { x: Int32Array; y: Int32Array } {
  const x = new Int32Array(sampler.batchSize * sampler.blockSize);
  const y = new Int32Array(x.length);
  sampler.next(x, y);
  return { x, y };
}

/** The window starts of a batch over `arange`: the first token of each row. */
const starts = (x: Int32Array, T: number): number[] => Array.from({ length: x.length / T }, (_, b) => x[b * T]!);

describe('splitTokens', () => {
  it('gives the first floor(0.9·n) tokens to train and the rest to val, as views', () => {
    const tokens = arange(1001);
    const { train, val } = splitTokens(tokens);
    expect(train.length).toBe(900);
    expect(val.length).toBe(101);
    expect(val[0]).toBe(900);
    expect(train.buffer).toBe(tokens.buffer);
    expect(splitTokens(arange(10), 0.5).train).toEqual(arange(5));
  });

  it('rejects fractions outside (0, 1)', () => {
    for (const f of [0, 1, -0.1, 1.5, NaN]) {
      expect(() => splitTokens(arange(10), f)).toThrow(ValueError);
    }
    expect(() => splitTokens(arange(10), 1)).toThrow(/trainFraction is 1, expected a number strictly between 0 and 1/);
  });
});

describe('BatchSampler', () => {
  it('is deterministic: the same seed gives the same batches, these golden ones in every runtime', () => {
    const a = new BatchSampler(arange(1000), 4, 8, 42);
    const b = new BatchSampler(arange(1000), 4, 8, 42);
    for (let i = 0; i < 5; i++) expect(batch(a)).toEqual(batch(b));
    expect(batch(new BatchSampler(arange(1000), 4, 8, 43)).x).not.toEqual(batch(new BatchSampler(arange(1000), 4, 8, 42)).x);
    // Golden values: start i from xoshiro128** seeded by (seed, i), with rejection sampling; a change breaks resumed runs.
    const g = new BatchSampler(arange(1000), 4, 8, 42);
    expect([...starts(batch(g).x, 8), ...starts(batch(g).x, 8)]).toEqual(GOLDEN_STARTS);
  });

  it('takes its seed from an Rng: one nextU32 from it', () => {
    const fromRng = new BatchSampler(arange(500), 3, 5, new Rng(7));
    const seed = new Rng(7).nextU32();
    expect(fromRng.state().seed).toBe(seed);
    expect(batch(fromRng)).toEqual(batch(new BatchSampler(arange(500), 3, 5, seed)));
  });

  it('fills contiguous windows with y equal to x shifted by one', () => {
    const rng = new Rng(3);
    const tokens = Int32Array.from({ length: 300 }, () => rng.int(65));
    const T = 16;
    const sampler = new BatchSampler(tokens, 8, T, 1);
    const positions = new BatchSampler(arange(300), 8, T, 1); // same seed: same starts
    for (let step = 0; step < 20; step++) {
      const { x, y } = batch(sampler);
      const s = starts(batch(positions).x, T);
      for (let b = 0; b < 8; b++) {
        expect(x.subarray(b * T, (b + 1) * T)).toEqual(tokens.subarray(s[b]!, s[b]! + T));
        expect(y.subarray(b * T, (b + 1) * T)).toEqual(tokens.subarray(s[b]! + 1, s[b]! + T + 1));
      }
    }
  });

  it('draws every start in [0, len − T − 1] and nothing outside it', () => {
    const len = 20, T = 6; // 14 possible starts
    const sampler = new BatchSampler(arange(len), 7, T, 9);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const { x, y } = batch(sampler);
      for (const s of starts(x, T)) seen.add(s);
      expect(Math.max(...y)).toBeLessThanOrEqual(len - 1);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: len - T }, (_, i) => i));
    // The shortest stream: exactly one window, always at 0.
    expect(batch(new BatchSampler(arange(T + 1), 2, T, 1))).toEqual({ x: new Int32Array([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]), y: new Int32Array([1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6]) });
  });

  it('resumes from a JSON state with the identical continuation', () => {
    const tokens = arange(5000);
    const run = new BatchSampler(tokens, 4, 32, 1337);
    for (let i = 0; i < 10; i++) batch(run);
    const saved = JSON.parse(JSON.stringify(run.state()));
    expect(saved).toEqual({ scheme: 2, seed: 1337, draws: 40, range: 4968 });
    const expected = [batch(run), batch(run), batch(run)];
    const resumed = new BatchSampler(tokens, 4, 32, 0);
    resumed.setState(saved);
    expect([batch(resumed), batch(resumed), batch(resumed)]).toEqual(expected);
    expect(resumed.state()).toEqual(run.state());
  });

  it('rejects streams shorter than one window, bad sizes, bad outputs and foreign states', () => {
    expect(() => new BatchSampler(arange(64), 2, 64, 1)).toThrow(/the token stream has 64 tokens, fewer than one window of blockSize \+ 1 = 65/);
    expect(() => new BatchSampler(arange(64), 0, 8, 1)).toThrow(/batchSize is 0, expected an integer ≥ 1/);
    expect(() => new BatchSampler(arange(64), 2, 2.5, 1)).toThrow(/blockSize is 2\.5/);
    expect(() => new BatchSampler(arange(64), 2, 8, 0.5)).toThrow(/seed is 0\.5/);
    const sampler = new BatchSampler(arange(64), 2, 8, 1);
    expect(() => sampler.next(new Int32Array(16), new Int32Array(15))).toThrow(ShapeError);
    expect(() => sampler.next(new Int32Array(16), new Int32Array(15))).toThrow(/x has 16 and y has 15 elements, expected B·T = 2·8 = 16 each/);
    const other = new BatchSampler(arange(65), 2, 8, 1).state();
    expect(() => sampler.setState(other)).toThrow(/the snapshot drew starts from 57 positions, this sampler from 56/);
    expect(() => sampler.setState({ scheme: 2, seed: -1, draws: 0, range: 56 })).toThrow(ValueError);
    expect(() => sampler.setState({ scheme: 2, seed: 1, draws: 1.5, range: 56 })).toThrow(/draws: integer ≥ 0/);
    expect(() => sampler.setState({ seed: 1, draws: 0, range: 56 } as never)).toThrow(/earlier one-stream sampler/);
    expect(sampler.state()).toEqual({ scheme: 2, seed: 1, draws: 0, range: 56 });   // refused states change nothing
  });

  it('restores any position in O(1): start i depends on (seed, i) only', () => {
    const tokens = arange(5000);
    const far = new BatchSampler(tokens, 4, 32, 9);
    far.setState({ scheme: 2, seed: 9, draws: 1e15, range: 4968 });             // replaying 10^15 draws would take years
    const a = batch(far);
    far.setState({ scheme: 2, seed: 9, draws: 1e15, range: 4968 });
    expect(batch(far)).toEqual(a);
    expect(far.state().draws).toBe(1e15 + 4);
    // and a position reached by drawing equals the same position set directly
    const drawn = new BatchSampler(tokens, 4, 32, 9);
    for (let i = 0; i < 7; i++) batch(drawn);
    const set = new BatchSampler(tokens, 4, 32, 0);
    set.setState({ scheme: 2, seed: 9, draws: 28, range: 4968 });
    expect(batch(set)).toEqual(batch(drawn));
  });
});

// Start 0 of seed 42 is new Rng((42 ^ imul(0, 0x9e3779b9) ^ imul(1, 0x85ebca6b)) >>> 0).int(992) = 954.
const GOLDEN_STARTS = [954, 339, 544, 384, 306, 958, 127, 903];
