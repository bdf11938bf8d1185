// decodeTokens: greedy decoding of one source as an iterator (encoder–decoders), for streaming
// text and servers — the same tokens as greedyDecode of that source alone, with the step arena
// free to be reset between tokens (its state lives in the persistent store until it ends), an
// abort signal and a time limit, options checked before it returns, and nothing left held.
import { describe, expect, it } from 'vitest';
import { createRuntime, decodeTokens, greedyDecode, Seq2Seq, ShapeError, T5, ValueError, type EncoderDecoder } from '../../src/index.js';

const rt = await createRuntime({ variant: 'simd', threads: 1 });
const used = () => rt.memoryReport().persistent.usedBytes;

const models: [string, () => EncoderDecoder][] = [
  ['Seq2Seq', () => new Seq2Seq(rt, { srcVocabSize: 12, tgtVocabSize: 12, dModel: 16, nHead: 4, nLayer: 2, dFF: 32, maxPositions: 12, dropout: 0, padId: 0, bosId: 1, eosId: 2 }, { seed: 3 })],
  ['T5 (v1.1-shaped)', () => new T5(rt, { vocabSize: 12, dModel: 16, nHead: 2, dKv: 12, nLayer: 2, dFF: 24, feedForward: 'gated-gelu', tieWordEmbeddings: false, dropout: 0.1 }, { seed: 3 })],
];

describe('decodeTokens', () => {
  it.each(models)('%s: the tokens of greedyDecode on each source alone, the step arena reset between tokens; nothing left held', (_, make) => {
    const m = make();
    greedyDecode(m, [[3]], { maxLength: 2 });     // the packed weight copies, made on first use
    const before = used();
    for (let i = 0; i < 8; i++) {
      const source = Array.from({ length: 1 + (i % 5) }, (_, j) => 3 + ((i * 5 + j * 3) % 8));
      for (const minLength of [0, 4]) {
        const want = greedyDecode(m, [source], { maxLength: 10, minLength })[0]!;
        const got: number[] = [];
        const it = decodeTokens(m, source, { maxLength: 10, minLength });
        let r = it.next();
        for (; !r.done; r = it.next()) {
          got.push(r.value);
          rt.step.reset();                         // what a server's other requests may do between tokens
        }
        expect(got, `source ${source}`).toEqual(want);
        expect(r.value).toBe(want.length < 10 ? 'eos' : 'length');
        expect(used()).toBe(before);
      }
    }
    expect(m.ctx.training).toBe(true);           // eval only while a token is computed
    m.dispose();
  });

  it('stops on an aborted signal or the time limit, freeing what it held; refuses bad options before it returns', () => {
    const m = models[1]![1]();
    greedyDecode(m, [[3]], { maxLength: 2 });
    const before = used();
    const ctl = new AbortController();
    const it = decodeTokens(m, [3, 4, 5], { maxLength: 10, minLength: 5, signal: ctl.signal });
    expect(it.next().done).toBe(false);
    ctl.abort();
    expect(it.next()).toEqual({ done: true, value: 'abort' });
    expect(used()).toBe(before);
    // leaving a loop early frees it too
    for (const _ of decodeTokens(m, [3, 4, 5], { maxLength: 10, minLength: 5 })) break;
    expect(used()).toBe(before);
    const slow = decodeTokens(m, [3, 4, 5], { maxLength: 10, minLength: 9, timeLimitMs: 1e-9 });
    expect([...slow]).toEqual([]);
    expect(() => decodeTokens(m, [3], { maxLength: 0 })).toThrow(ValueError);
    expect(() => decodeTokens(m, [3], { maxLength: 4, minLength: 4 })).toThrow(/minLength is 4, expected an integer in \[0, 3\]/);
    expect(() => decodeTokens(m, [], {})).toThrow(ShapeError);
    expect(() => decodeTokens(m, [3], { timeLimitMs: -1 })).toThrow(/timeLimitMs is -1/);
    m.dispose();
  });
});
