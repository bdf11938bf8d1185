// Generation for real use: a batch of prompts of different lengths equals each prompt alone;
// beam search on a GPT; repetition/frequency/presence penalties; stop strings on decoded text
// (never in the output, streamed pieces join to the whole); abort signals and time limits;
// every option checked before any work; a generator left unfinished leaves the model's mode alone.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  applyPenalties, beamSearch, CharTokenizer, completeText, createRuntime, generate, generateBatch, generateText, generateTokens, GPT,
  loadPretrained, TokenError, ValueError, type GPTConfig,
} from '../../src/index.js';

const rt = await createRuntime({ variant: 'simd', threads: 1 });
const cfg: Partial<GPTConfig> = { vocabSize: 17, blockSize: 40, nLayer: 2, nHead: 4, dModel: 32 };
const tok = new CharTokenizer([...'abcdefghij .,!?\n#']);   // 17 characters

function model(seed = 1): GPT {
  const m = new GPT(rt, cfg, { seed });
  const flat = m.params.flat.f32();
  for (let i = 0; i < flat.length; i++) flat[i] = flat[i]! * 3;   // far from uniform: greedy choices are robust
  return m;
}

describe('generateBatch', () => {
  it('prompts of different lengths give what each gives alone (greedy and seeded sampling)', () => {
    const m = model(2);
    const prompts = [[1, 2, 3, 4, 5, 6, 7], [9], [4, 4, 12], [16, 0]];
    for (const opts of [{ maxNewTokens: 20, temperature: 0 }, { maxNewTokens: 20, temperature: 0.9, topK: 8, seed: 5 }]) {
      const alone = prompts.map((p) => Array.from(generate(m, p, opts)).slice(p.length));
      const batch = generateBatch(m, prompts, opts);
      expect(batch.map((r) => Array.from(r.tokens))).toEqual(alone);
      expect(batch.every((r) => r.reason === 'length')).toBe(true);
    }
    m.dispose();
  });

  it('rows stop at their stop tokens; penalties apply per row; the memory it took is given back', () => {
    const m = model(3);
    const prompts = [[3, 1], [5, 5, 5, 5], [8]];
    const greedy = prompts.map((p) => Array.from(generate(m, p, { maxNewTokens: 15, temperature: 0 })).slice(p.length));
    const used = rt.memoryReport().persistent.usedBytes;   // after generate() made the model's pooled cache
    const stopAt = greedy[0]![4]!;
    const out = generateBatch(m, prompts, { maxNewTokens: 15, temperature: 0, stopTokens: [stopAt] });
    out.forEach((r, b) => {
      const first = greedy[b]!.indexOf(stopAt);
      expect(Array.from(r.tokens)).toEqual(first >= 0 ? greedy[b]!.slice(0, first + 1) : greedy[b]);
      expect(r.reason).toBe(first >= 0 ? 'stop-token' : 'length');
    });
    const pen = { maxNewTokens: 15, temperature: 0, repetitionPenalty: 1.5, presencePenalty: 0.7 };
    const alone = prompts.map((p) => Array.from(generate(m, p, pen)).slice(p.length));
    expect(generateBatch(m, prompts, pen).map((r) => Array.from(r.tokens))).toEqual(alone);
    expect(rt.memoryReport().persistent.usedBytes).toBe(used);
    expect(() => generateBatch(m, [[1], Array(30).fill(2)], { maxNewTokens: 20 })).toThrow(/longest prompt \(30 tokens\) plus maxNewTokens 20 exceeds blockSize 40/);
    expect(() => generateBatch(m, [], { maxNewTokens: 2 })).toThrow(/prompts is empty/);
    expect(() => generateBatch(m, [[1], [2, 99]], { maxNewTokens: 2 })).toThrow(TokenError);
    m.dispose();
  });
});

describe('penalties', () => {
  it('repetition divides positive and multiplies negative logits of seen tokens; frequency and presence subtract', () => {
    const logits = Float32Array.of(2, -2, 1, 0.5);
    applyPenalties(logits, new Map([[0, 3], [1, 1], [5, 2]]), { repetitionPenalty: 2, frequencyPenalty: 0.1, presencePenalty: 0.25 });
    expect(Array.from(logits)).toEqual(Array.from(Float32Array.of(2 / 2 - 0.3 - 0.25, -2 * 2 - 0.1 - 0.25, 1, 0.5)));
  });

  it('a strong repetition penalty stops a greedy model from repeating itself', () => {
    const m = model(4);
    const plain = Array.from(generate(m, [1], { maxNewTokens: 30, temperature: 0 })).slice(1);
    const penalized = Array.from(generate(m, [1], { maxNewTokens: 16, temperature: 0, repetitionPenalty: 1e6, frequencyPenalty: 1e6 })).slice(1);
    expect(new Set(plain).size).toBeLessThan(plain.length);           // greedy loops
    expect(new Set(penalized).size).toBe(penalized.length);           // 16 different tokens of 17
    m.dispose();
  });
});

describe('beamSearch on a GPT', () => {
  it('one beam without length penalty is greedy; more beams find a sequence at least as likely', () => {
    const m = model(5);
    const prompt = [2, 7, 1];
    const greedy = Array.from(generate(m, prompt, { maxNewTokens: 12, temperature: 0 })).slice(3);
    const [one] = beamSearch(m, prompt, { beamSize: 1, lengthPenalty: 0, maxNewTokens: 12 });
    expect(one!.tokens).toEqual(greedy);
    expect(one!.finished).toBe(false);
    const [best] = beamSearch(m, prompt, { beamSize: 5, lengthPenalty: 0, maxNewTokens: 12 });
    expect(best!.logProb).toBeGreaterThanOrEqual(one!.logProb - 1e-9);
    // with an EOS id the hypotheses end there (EOS left out of the tokens)
    const eos = greedy[3]!;
    const ended = beamSearch(m, prompt, { beamSize: 3, maxNewTokens: 12, eosId: eos });
    expect(ended.some((h) => h.finished)).toBe(true);
    for (const h of ended) expect(h.tokens.includes(eos)).toBe(false);
    expect(() => beamSearch(m, prompt, { beamSize: 2, maxNewTokens: 38 })).toThrow(/maxNewTokens is 38, expected an integer in \[1, 37\]/);
    m.dispose();
  });
});

describe('text in, text out', () => {

  it('stops at a stop string, which the output never contains; streamed pieces join to the text', async () => {
    const m = model(6);
    const full = completeText(m, tok, 'ab', { maxNewTokens: 30, temperature: 0 });
    expect(full.reason).toBe('length');
    expect(full.text).toBe(tok.decode(full.tokens));
    const stop = full.text.slice(10, 12);
    const first = full.text.indexOf(stop);
    const cut = completeText(m, tok, 'ab', { maxNewTokens: 30, temperature: 0, stopStrings: [stop, 'zzz-never'] });
    expect(cut.reason).toBe('stop-string');
    expect(cut.text).toBe(full.text.slice(0, first));
    const pieces: string[] = [];
    const stream = generateText(m, tok, 'ab', { maxNewTokens: 30, temperature: 0, stopStrings: [stop] });
    let r = await stream.next();
    for (; !r.done; r = await stream.next()) pieces.push(r.value);
    expect(pieces.join('')).toBe(cut.text);
    expect(r.value).toMatchObject({ text: cut.text, reason: 'stop-string' });
    expect(pieces.some((p) => p.includes(stop))).toBe(false);
    m.dispose();
  });

  it('a byte-level BPE model streams whole characters: the pieces join to decode(ids)', async () => {
    const fixture = fileURLToPath(new URL('../fixtures/pretrained/tiny-gpt2', import.meta.url));
    const { model: gpt, tokenizer } = await loadPretrained(rt, fixture);
    const pieces: string[] = [];
    const stream = generateText(gpt as GPT, tokenizer!, 'the fox', { maxNewTokens: 25, temperature: 1, seed: 11 });
    let r = await stream.next();
    for (; !r.done; r = await stream.next()) pieces.push(r.value);
    expect(pieces.join('')).toBe(r.value.text);
    expect(r.value.text).toBe(tokenizer!.decode(r.value.tokens, { skipSpecialTokens: true }));
    gpt.dispose();
  });

  it('an abort signal or a time limit ends generation between tokens, with the reason', async () => {
    const m = model(7);
    const controller = new AbortController();
    let n = 0;
    const it = generateTokens(m, [1], { maxNewTokens: 30, temperature: 0, signal: controller.signal });
    for (let r = it.next(); !r.done; r = it.next()) if (++n === 5) controller.abort();
    expect(n).toBe(5);
    const aborted = new AbortController();
    aborted.abort();
    expect(Array.from(generate(m, [1], { maxNewTokens: 30, signal: aborted.signal }))).toEqual([1]);   // no work at all
    const timed = completeText(m, tok, 'a', { maxNewTokens: 30, temperature: 0, timeLimitMs: 1e-9 });
    expect(timed).toMatchObject({ reason: 'time', tokens: [] });
    const batch = generateBatch(m, [[1], [2, 3]], { maxNewTokens: 10, signal: aborted.signal });
    expect(batch.map((b) => [b.tokens.length, b.reason])).toEqual([[0, 'abort'], [0, 'abort']]);
    m.dispose();
  });
});

describe('options are checked before any work', () => {
  it('names the bad option even when no token would be sampled', () => {
    const m = model(8);
    const bad: [object, RegExp][] = [
      [{ maxNewTokens: 0, temperature: -1 }, /temperature is -1/],
      [{ maxNewTokens: 1e9 }, /maxNewTokens is 1000000000, expected an integer in \[0, 1000000\]/],
      [{ maxNewTokens: 2, topP: 0 }, /topP is 0/],
      [{ maxNewTokens: 2, repetitionPenalty: 0 }, /repetitionPenalty is 0/],
      [{ maxNewTokens: 2, frequencyPenalty: NaN }, /frequencyPenalty is NaN/],
      [{ maxNewTokens: 2, seed: 1.7 }, /seed is 1.7/],
      [{ maxNewTokens: 2, timeLimitMs: -5 }, /timeLimitMs is -5/],
      [{ maxNewTokens: 2, stopTokens: [40] }, /stop token 40/],
    ];
    for (const [opts, message] of bad) expect(() => generateTokens(m, [1], opts as never), JSON.stringify(opts)).toThrow(message);
    expect(() => generateTokens(m, [1, 2.5], { maxNewTokens: 1 })).toThrow(/prompt id 2.5 at position 1 is not an integer/);
    expect(() => completeText(m, tok, 'a', { maxNewTokens: 2, stopStrings: [''] })).toThrow(ValueError);
    m.dispose();
  });

  it('a generator left unfinished leaves the model in its own mode; returning it gives its cache back; dispose frees it', () => {
    const base = rt.memoryReport().persistent.usedBytes;
    const m = model(9);
    m.train(true);
    const it = generateTokens(m, [1, 2], { maxNewTokens: 50, temperature: 0 });
    it.next();
    it.next();
    expect(m.ctx.training).toBe(true);
    it.return('abort');
    const used = rt.memoryReport().persistent.usedBytes;
    const again = generateTokens(m, [1], { maxNewTokens: 3 });
    again.next();
    expect(rt.memoryReport().persistent.usedBytes).toBe(used);   // the returned cache was reused
    again.return('abort');
    m.dispose();
    expect(rt.memoryReport().persistent.usedBytes).toBe(base);   // pooled caches go with the model
  });
});
