// The GPT model: config checks, the parameter table (Hugging Face names, shapes, count), the
// gradient of the whole model by finite differences, bad input, and the attention maps.
import { describe, expect, it } from 'vitest';
import { attentionMaps, attentionTerminal, createRuntime, GPT, gptConfig, ShapeError, TokenError, ValueError, type GPTConfig } from '../../src/index.js';
import { gradcheck } from '../helpers/gradcheck.js';

const rt = await createRuntime({ variant: 'simd' });

const tiny: Partial<GPTConfig> = { vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, dModel: 8 };

function batch(B: number, T: number, V: number, seed: number): { idx: number[]; tgt: number[] } {
  const idx: number[] = [];
  const tgt: number[] = [];
  for (let i = 0; i < B * T; i++) {
    idx.push((i * 7 + seed) % V);
    tgt.push((i * 5 + seed * 3 + 1) % V);
  }
  return { idx, tgt };
}

describe('GPT config and parameters', () => {
  it('defaults to GPT-2 small and derives dFF = 4·dModel', () => {
    const cfg = gptConfig({ dModel: 128, nHead: 4 });
    expect(cfg.dFF).toBe(512);
    expect(gptConfig().vocabSize).toBe(50257);
  });

  it('rejects configs that do not fit, naming the numbers', () => {
    expect(() => gptConfig({ dModel: 130, nHead: 4 })).toThrow(ShapeError);
    expect(() => gptConfig({ dModel: 130, nHead: 4 })).toThrow(/dModel = 130 is not divisible by nHead = 4/);
    expect(() => gptConfig({ nLayer: 0 })).toThrow(ValueError);
    expect(() => gptConfig({ dropout: 1 })).toThrow(/dropout is 1/);
    expect(() => gptConfig({ norm: 'middle' as 'pre' })).toThrow(/norm is middle/);
  });

  it('has Hugging Face GPT-2 names and layouts, and numParams matches the formula', () => {
    const model = new GPT(rt, { vocabSize: 65, blockSize: 64, nLayer: 4, nHead: 4, dModel: 128 });
    const names = model.params.list().map((p) => `${p.name} [${p.spec.shape.join(',')}]`);
    expect(names.slice(0, 14)).toEqual([
      'transformer.wte.weight [65,128]', 'transformer.wpe.weight [64,128]',
      'transformer.h.0.ln_1.weight [128]', 'transformer.h.0.ln_1.bias [128]',
      'transformer.h.0.attn.c_attn.weight [128,384]', 'transformer.h.0.attn.c_attn.bias [384]',
      'transformer.h.0.attn.c_proj.weight [128,128]', 'transformer.h.0.attn.c_proj.bias [128]',
      'transformer.h.0.ln_2.weight [128]', 'transformer.h.0.ln_2.bias [128]',
      'transformer.h.0.mlp.c_fc.weight [128,512]', 'transformer.h.0.mlp.c_fc.bias [512]',
      'transformer.h.0.mlp.c_proj.weight [512,128]', 'transformer.h.0.mlp.c_proj.bias [128]',
    ]);
    expect(names.at(-1)).toBe('transformer.ln_f.bias [128]');
    const [V, T, L, C, F] = [65, 64, 4, 128, 512];
    const perLayer = 4 * C + (C * 3 * C + 3 * C) + (C * C + C) + (C * F + F) + (F * C + C);
    expect(model.numParams()).toBe(V * C + T * C + L * perLayer + 2 * C);
    expect(model.numParams({ nonEmbedding: true })).toBe(V * C + L * perLayer + 2 * C);
    // L·(4·d² + 2·d·d_ff) + V·d, plus biases, norms and positions (DESIGN.md's formula)
    expect(L * (4 * C * C + 2 * C * F) + V * C).toBe(model.numParams() - T * C - L * (3 * C + C + F + C + 4 * C) - 2 * C);
    // weight-decayed group: exactly the four matmul weights per layer
    expect(model.params.decayEnd).toBe(L * (4 * C * C + 2 * C * F));
  });

  it('untied, bias-free, post-norm, sinusoidal: lm_head appears, ln_f and biases do not', () => {
    const model = new GPT(rt, { ...tiny, tieWeights: false, bias: false, norm: 'post', positions: 'sinusoidal' });
    const names = model.params.list().map((p) => p.name);
    expect(names).toContain('lm_head.weight');
    expect(names.some((n) => n.endsWith('.bias') || n.includes('ln_f') || n.includes('wpe'))).toBe(false);
    expect(model.params.get('lm_head.weight')!.spec.shape).toEqual([11, 8]);
  });
});

describe('GPT forward and backward', () => {
  const variants: [string, Partial<GPTConfig>][] = [
    ['pre-norm, tied, learned positions, GELU', {}],
    // (ReLU's kink makes differences across it meaningless; ReLU is checked op by op, away from it)
    ['post-norm, untied, sinusoidal, no bias', { norm: 'post', tieWeights: false, positions: 'sinusoidal', bias: false }],
    ['with dropout 0.2 (the same seeds every evaluation)', { dropout: 0.2 }],
  ];
  it.each(variants)('whole-model gradient by finite differences: %s', (_n, extra) => {
    const model = new GPT(rt, { ...tiny, ...extra }, { seed: 3 });
    // 3× GPT-2's 0.02 init: every path then carries a gradient well above the f32 rounding
    // noise of the loss, and Richardson extrapolation removes the curvature error of ε = 1e-2
    const flat = model.params.flat.f32();
    for (let i = 0; i < flat.length; i++) flat[i] = flat[i]! * 3;
    const { idx, tgt } = batch(2, 6, 11, 1);
    const x = rt.tensor(idx, [2, 6], { dtype: 'i32' });
    const y = rt.tensor(tgt, [2, 6], { dtype: 'i32' });
    const rngState = model.ctx.rng.getState();
    const f = () => {
      model.ctx.rng.setState(rngState);
      return model.forward(x, y).loss!;
    };
    const params = model.params.list().map((p) => p.value);
    gradcheck(rt, f, params, { scalar: true, samples: 6, eps: 1e-2, richardson: true });
  });

  it('dropout is active in training only: eval forwards repeat exactly, training forwards differ', () => {
    const model = new GPT(rt, { ...tiny, dropout: 0.5 }, { seed: 9 });
    const { idx } = batch(2, 6, 11, 3);
    const logits = () => rt.step.scope(() => rt.tape.noGrad(() => model.forward(rt.tensor(idx, [2, 6], { dtype: 'i32', arena: 'step' })).logits.toArray()));
    model.eval();
    const a = logits();
    expect(logits()).toEqual(a);
    model.train();
    const b = logits();
    const c = logits();
    expect(b).not.toEqual(c);
    expect(b).not.toEqual(a);
  });

  it('lastOnly computes the head for the last position only: the same logits as the full forward\'s last row', () => {
    // up to GEMM_SMALL_M (16) rows, each row of a packed product is computed alike whatever the
    // number of rows, so the 1-row head equals the T-row head's last row bit for bit
    const model = new GPT(rt, { ...tiny, blockSize: 16 }, { seed: 4 });
    model.eval();
    for (const [B, T] of [[1, 1], [1, 5], [2, 8], [1, 16]] as const) {   // B·T ≤ 16 rows in the full head
      rt.step.scope(() => rt.tape.noGrad(() => {
        const { idx } = batch(B, T, 11, T);
        const x = rt.tensor(idx, [B, T], { dtype: 'i32', arena: 'step' });
        const full = model.forward(x).logits.f32();
        const last = model.forward(x, undefined, { lastOnly: true }).logits;
        expect(last.shape).toEqual([B, 1, 11]);
        for (let b = 0; b < B; b++) expect(Array.from(last.f32().subarray(b * 11, (b + 1) * 11)), `B ${B} T ${T} row ${b}: lastOnly vs full`).toEqual(Array.from(full.subarray((b * T + T - 1) * 11, (b * T + T) * 11)));
        const cache = model.createCache(B);
        const cached = model.forwardCached(x, cache, 0, { lastOnly: true });
        expect(Array.from(cached.f32()), `B ${B} T ${T}: cached vs uncached`).toEqual(Array.from(last.f32()));
        for (const c of cache) { rt.free(c.k); rt.free(c.v); }
      }));
    }
    expect(() => rt.tape.noGrad(() => model.forward(rt.tensor([1, 2], [1, 2], { dtype: 'i32', arena: 'step' }), rt.tensor([1, 2], [1, 2], { dtype: 'i32', arena: 'step' }), { lastOnly: true }))).toThrow(/a loss needs every position/);
    model.dispose();
  });

  it('gives clear errors for bad token ids and long sequences', () => {
    const model = new GPT(rt, tiny);
    const tooLong = rt.tensor(new Array(9).fill(0), [1, 9], { dtype: 'i32', arena: 'step' });
    expect(() => model.forward(tooLong)).toThrow(ShapeError);
    expect(() => model.forward(tooLong)).toThrow(/sequence length 9 exceeds blockSize 8/);
    const big = rt.tensor([1, 2, 11, 0], [1, 4], { dtype: 'i32', arena: 'step' });
    expect(() => model.forward(big)).toThrow(TokenError);
    expect(() => model.forward(big)).toThrow(/token id 11 at position 2 is outside \[0, 11\)/);
    const neg = rt.tensor([1, -1], [1, 2], { dtype: 'i32', arena: 'step' });
    expect(() => model.forward(neg)).toThrow(/token id -1 at position 1/);
    const ok = rt.tensor([1, 2], [1, 2], { dtype: 'i32', arena: 'step' });
    const badTargets = rt.tensor([1, 12], [1, 2], { dtype: 'i32', arena: 'step' });
    expect(() => model.forward(ok, badTargets)).toThrow(/target 12 at position 1 is outside \[0, 11\)/);
    const floats = rt.tensor([1, 2], [1, 2], { arena: 'step' });
    expect(() => model.forward(floats)).toThrow(/expected dtype i32/);
  });

  it('keeps attention maps on request: rows sum to 1, causal zeros above the diagonal', () => {
    const model = new GPT(rt, tiny);
    model.keepAttention();
    const { idx } = batch(1, 5, 11, 2);
    rt.tape.noGrad(() => model.forward(rt.tensor(idx, [1, 5], { dtype: 'i32', arena: 'step' })));
    const maps = model.keptAttention();
    expect(maps.map((m) => m.name)).toEqual(['h.0', 'h.1']);
    expect(maps[1]).toMatchObject({ batch: 1, heads: 2, tq: 5, tk: 5 });
    const p = maps[1]!.data; // (1, 2, 5, 5)
    expect(p.length).toBe(2 * 5 * 5);
    for (let r = 0; r < 10; r++) {
      let sum = 0;
      for (let j = 0; j < 5; j++) {
        sum += p[r * 5 + j]!;
        if (j > r % 5) expect(p[r * 5 + j]).toBe(0);
      }
      expect(sum).toBeCloseTo(1, 5);
    }
    const am = attentionMaps(model, { labels: ['a', 'b', 'c', 'd', 'e'] });
    expect([am.layers, am.heads, am.tq, am.tk]).toEqual([2, 2, 5, 5]);
    expect(Array.from(am.data.subarray(50, 100))).toEqual(Array.from(p));
    expect(attentionTerminal(am, { color: false }).split('\n').length).toBeGreaterThan(5);
  });

  it('keeps maps of attention that runs on the fused kernels only (ALiBi, a window): rows sum to 1, zeros outside the band; decoding keeps the same rows', () => {
    const model = new GPT(rt, { ...tiny, blockSize: 12, positions: 'alibi', window: 3 }, { seed: 4 });
    model.keepAttention();
    const T = 10, idx = Array.from({ length: T }, (_, i) => (i * 7 + 3) % 11);
    rt.tape.noGrad(() => model.forward(rt.tensor(idx, [1, T], { dtype: 'i32', arena: 'step' })));
    const full = model.keptAttention();
    for (const m of full) {
      expect(m).toMatchObject({ batch: 1, heads: 2, tq: T, tk: T });
      for (let r = 0; r < 2 * T; r++) {
        let sum = 0;
        for (let j = 0; j < T; j++) {
          const v = m.data[r * T + j]!, i = r % T;
          if (j > i || j < i - 3) expect(v, `${m.name} row ${r} key ${j}`).toBe(0);   // causal, window 3
          else expect(v).toBeGreaterThan(0);
          sum += v;
        }
        expect(Math.abs(sum - 1)).toBeLessThan(1e-6);   // ≤ 4 terms, each exp(s − lse) within a few u
      }
    }
    // the prompt through the KV cache, then the last token alone: its row is the full forward's last row
    // (scores of 4-term dot products made in another order, and exp: a few f32 roundings of values ≤ 1, so 1e-6)
    const cache = model.createCache(1);
    rt.tape.noGrad(() => model.forwardCached(rt.tensor(idx.slice(0, T - 1), [1, T - 1], { dtype: 'i32', arena: 'step' }), cache, 0));
    rt.tape.noGrad(() => model.forwardCached(rt.tensor([idx[T - 1]!], [1, 1], { dtype: 'i32', arena: 'step' }), cache, T - 1));
    const last = model.keptAttention();
    for (let l = 0; l < 2; l++) {
      expect(last[l]).toMatchObject({ tq: 1, tk: T });
      for (let hh = 0; hh < 2; hh++) for (let j = 0; j < T; j++) {
        expect(Math.abs(last[l]!.data[hh * T + j]! - full[l]!.data[(hh * T + T - 1) * T + j]!)).toBeLessThan(1e-6);
      }
    }
    model.dispose();
  });
});
