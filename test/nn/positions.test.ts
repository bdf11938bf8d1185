// The sinusoid tables: the paper's interleaved columns and Marian's [sin | cos] halves hold the
// same numbers (frequency i = 1/10000^(2i/dim)), columns permuted; odd widths too.
import { describe, expect, it } from 'vitest';
import { createRuntime, Seq2Seq, seq2seqConfig } from '../../src/index.js';
import { sinusoidalTable } from '../../src/nn/positions.js';

const f32 = (xs: number[]) => Array.from(Float32Array.from(xs));

describe('sinusoidalTable', () => {
  it('interleaves sin/cos as the paper, or puts them in halves as Marian', () => {
    const f = [1, 1 / 10000 ** (2 / 5), 1 / 10000 ** (4 / 5)];      // dim 5: three frequencies
    const pos = 3;
    const row = (t: Float32Array) => Array.from(t.subarray(pos * 5, pos * 5 + 5));
    expect(row(sinusoidalTable(4, 5))).toEqual(f32([Math.sin(3 * f[0]!), Math.cos(3 * f[0]!), Math.sin(3 * f[1]!), Math.cos(3 * f[1]!), Math.sin(3 * f[2]!)]));
    expect(row(sinusoidalTable(4, 5, 'halves'))).toEqual(f32([Math.sin(3 * f[0]!), Math.sin(3 * f[1]!), Math.sin(3 * f[2]!), Math.cos(3 * f[0]!), Math.cos(3 * f[1]!)]));
    // even width: the halves are a column permutation of the interleaved table
    const a = sinusoidalTable(7, 8), b = sinusoidalTable(7, 8, 'halves');
    for (let p = 0; p < 7; p++) for (let i = 0; i < 4; i++) {
      expect(b[p * 8 + i]).toBe(a[p * 8 + 2 * i]);
      expect(b[p * 8 + 4 + i]).toBe(a[p * 8 + 2 * i + 1]);
    }
  });

  it("is a Seq2Seq config option ('halves' for Marian checkpoints), checked", async () => {
    const rt = await createRuntime({ variant: 'simd', threads: 1 });
    const cfg = { srcVocabSize: 9, tgtVocabSize: 9, maxPositions: 6, nLayer: 1, nHead: 2, dModel: 8, dFF: 16, dropout: 0 };
    const loss = (sinusoid: 'interleaved' | 'halves') => {
      const m = new Seq2Seq(rt, { ...cfg, sinusoid }, { seed: 1 });
      const ids = (rows: number[][]) => rt.tensor(rows.flat(), [rows.length, rows[0]!.length], { dtype: 'i32', arena: 'step' });
      const l = rt.step.scope(() => rt.tape.noGrad(() => m.forward(ids([[3, 4, 5]]), ids([[1, 5, 4]]), ids([[5, 4, 2]])).loss!.item()));
      m.dispose();
      return l;
    };
    expect(loss('halves')).not.toBe(loss('interleaved'));
    expect(seq2seqConfig({}).sinusoid).toBe('interleaved');
    expect(() => seq2seqConfig({ sinusoid: 'split' as 'halves' })).toThrow(`sinusoid is "split", expected 'interleaved' or 'halves'`);
  });
});
