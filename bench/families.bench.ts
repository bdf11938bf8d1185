// The other families next to the GPT step: the original Transformer's training step (forward,
// backward, clip, AdamW) on the digit-reversal example's model and batch, and its decoding —
// batched greedy and beam search (k = 4, α = 0.6) with the KV cache and cross-attention
// keys/values computed once per source; BERT's MLM step on the example's character model.
// One thread, simd and relaxed builds.
// Executed directly it prints the rows:
//   node --experimental-wasm-relaxed-simd --import tsx bench/families.bench.ts
import { pathToFileURL } from 'node:url';
import { median, settle, type BenchRow } from './lib.js';
import { AdamW, BERT, ViT, beamSearch, createRuntime, greedyDecode, maskTokens, Rng, Seq2Seq, trainStep, type Backend, type Runtime } from '../src/index.js';
import { BOS, EOS, PAD, ReverseTask, VOCAB, type Batch } from '../examples/seq2seq/task.js';

const SUITE = 'families';
/** The example's model (examples/seq2seq.ts defaults). */
export const SEQ2SEQ = { dModel: 64, nLayer: 2, nHead: 4, dFF: 256, batch: 64, maxLen: 12 };
export const S2S_TRAIN_CASE = `seq2seq train step B=${SEQ2SEQ.batch}, 1…${SEQ2SEQ.maxLen} digits`;
export const S2S_GREEDY_CASE = `seq2seq greedy decode, 64 sources batched, ${SEQ2SEQ.maxLen}+1 tokens each`;
export const S2S_BEAM_CASE = `seq2seq beam search k=4, one source at a time, ${SEQ2SEQ.maxLen}+1 tokens`;
const STEPS = { warmup: 10, rounds: 3, perRound: 10 };

/** The BERT example's model (examples/bert.ts: 2 layers, d=64, 100 character ids), 64-token passages. */
export const BERT_CFG = { vocabSize: 100, dModel: 64, nLayer: 2, nHead: 4, batch: 32, T: 64 };
export const BERT_TRAIN_CASE = `BERT MLM step B=${BERT_CFG.batch} T=${BERT_CFG.T}`;

/** The ViT example's model (examples/vit-mnist.ts: 28×28 digits, 7×7 patches, 6 layers, d=64), batch 64. */
export const VIT_CFG = { imageSize: 28, patchSize: 7, channels: 1, numClasses: 10, nLayer: 6, nHead: 4, dModel: 64, dFF: 128, batch: 64 };
export const VIT_TRAIN_CASE = `ViT train step B=${VIT_CFG.batch}, 28×28, 7×7 patches`;

/** The summary's rows: [case, metric, label]. */
export const FAMILY_ROWS: [string, string, string][] = [
  [S2S_TRAIN_CASE, 'tokens/s (median)', `encoder–decoder training step (d=${SEQ2SEQ.dModel}, ${SEQ2SEQ.nLayer}+${SEQ2SEQ.nLayer} layers, B=${SEQ2SEQ.batch}), tokens/s (source + target), median`],
  [S2S_GREEDY_CASE, 'tokens/s', 'greedy decoding, 64 sources batched, tokens/s'],
  [S2S_BEAM_CASE, 'tokens/s', 'beam search k=4, α=0.6, one source at a time, tokens/s'],
  [S2S_BEAM_CASE, 'sequences/s', 'beam search k=4, sequences/s'],
  [VIT_TRAIN_CASE, 'images/s (median)', `ViT training step (d=${VIT_CFG.dModel}, ${VIT_CFG.nLayer} layers, 17 tokens per image, B=${VIT_CFG.batch}), images/s, median`],
  [BERT_TRAIN_CASE, 'tokens/s (median)', `BERT MLM training step (d=${BERT_CFG.dModel}, ${BERT_CFG.nLayer} layers, B=${BERT_CFG.batch}, T=${BERT_CFG.T}), tokens/s, median`],
];


function seq2seq(rt: Runtime): Seq2Seq {
  return new Seq2Seq(rt, {
    srcVocabSize: VOCAB, tgtVocabSize: VOCAB, maxPositions: SEQ2SEQ.maxLen + 2, nLayer: SEQ2SEQ.nLayer, nHead: SEQ2SEQ.nHead,
    dModel: SEQ2SEQ.dModel, dFF: SEQ2SEQ.dFF, dropout: 0, padId: PAD, bosId: BOS, eosId: EOS,
  }, { seed: 1 });
}

/** ms of one training step on batch `b`. */
function s2sStep(rt: Runtime, model: Seq2Seq, opt: AdamW, b: Batch, step: number): number {
  const t0 = performance.now();
  trainStep(model, opt, () => model.forward(
    rt.tensor(b.src, [b.B, b.S], { dtype: 'i32', arena: 'step' }),
    rt.tensor(b.tgtIn, [b.B, b.T], { dtype: 'i32', arena: 'step' }),
    rt.tensor(b.tgtOut, [b.B, b.T], { dtype: 'i32', arena: 'step' }), { smoothing: 0.1 }).loss!, { step, lr: 1e-3, clip: 1 });
  return performance.now() - t0;
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const row = (c: string, impl: string, metric: string, value: number, unit: string) => rows.push({ suite: SUITE, case: c, impl, metric, value, unit });
  const setups: { impl: Backend; rt: Runtime; model: Seq2Seq; opt: AdamW }[] = [];
  for (const impl of ['simd', 'relaxed'] as const) {
    try {
      const rt = await createRuntime({ variant: impl });
      const model = seq2seq(rt);
      setups.push({ impl, rt, model, opt: new AdamW(model.params, { betas: [0.9, 0.98], eps: 1e-9, weightDecay: 0 }) });
    } catch { /* this runtime cannot load the build */ }
  }
  // The same batches for every build: per step, tokens = B·(S + T).
  const task = new ReverseTask(SEQ2SEQ.maxLen, 5);
  const batches = Array.from({ length: STEPS.warmup + STEPS.rounds * STEPS.perRound }, () => task.batch(SEQ2SEQ.batch));
  const tokens = (b: Batch) => b.B * (b.S + b.T);
  for (const s of setups) for (let i = 0; i < STEPS.warmup; i++) s2sStep(s.rt, s.model, s.opt, batches[i]!, i);
  await settle();
  const tps = new Map<string, number[]>(setups.map((s) => [s.impl, []]));
  for (let r = 0; r < STEPS.rounds; r++) {
    for (const s of setups) {
      for (let i = 0; i < STEPS.perRound; i++) {
        const b = batches[STEPS.warmup + r * STEPS.perRound + i]!;
        tps.get(s.impl)!.push(tokens(b) / (s2sStep(s.rt, s.model, s.opt, b, i) / 1000));
      }
    }
  }
  for (const s of setups) {
    const xs = tps.get(s.impl)!;
    row(S2S_TRAIN_CASE, s.impl, 'tokens/s (median)', median(xs), 'tokens/s');
    row(S2S_TRAIN_CASE, s.impl, 'tokens/s (best)', Math.max(...xs), 'tokens/s');
  }
  // Decoding: the barely trained weights would end at once, so EOS is held back until the
  // longest target length (minLength): every output has maxLen digits + EOS.
  const sources = Array.from({ length: 64 }, () => task.sample('test').src);
  for (const s of setups) {
    s.rt.step.reset();
    const maxLength = SEQ2SEQ.maxLen + 1, minLength = SEQ2SEQ.maxLen;
    const greedy = () => greedyDecode(s.model, sources, { maxLength, minLength });
    greedy();
    await settle();
    const g: number[] = [];
    let produced = 0;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      produced = greedy().reduce((a, o) => a + o.length + 1, 0);
      g.push(performance.now() - t0);
    }
    row(S2S_GREEDY_CASE, s.impl, 'sequences/s', sources.length / (median(g) / 1000), 'seq/s');
    row(S2S_GREEDY_CASE, s.impl, 'tokens/s', produced / (median(g) / 1000), 'tokens/s');
    const few = sources.slice(0, 16);
    const beam = () => few.map((src) => beamSearch(s.model, src, { beamSize: 4, lengthPenalty: 0.6, maxLength, minLength })[0]!.tokens.length + 1);
    beam();
    await settle();
    const b: number[] = [];
    let out = 0;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      out = beam().reduce((a, n) => a + n, 0);
      b.push(performance.now() - t0);
    }
    row(S2S_BEAM_CASE, s.impl, 'sequences/s', few.length / (median(b) / 1000), 'seq/s');
    row(S2S_BEAM_CASE, s.impl, 'tokens/s', out / (median(b) / 1000), 'tokens/s');
  }
  await bertRows(row);
  await vitRows(row);
  return rows;
}

/** Median tokens/s of BERT MLM steps (15% of 64 random character ids masked), per build. */
async function bertRows(row: (c: string, impl: string, metric: string, value: number, unit: string) => void): Promise<void> {
  const { vocabSize, dModel, nLayer, nHead, batch: B, T } = BERT_CFG;
  for (const impl of ['simd', 'relaxed'] as const) {
    let rt: Runtime;
    try { rt = await createRuntime({ variant: impl }); } catch { continue; }
    const model = new BERT(rt, { vocabSize, maxPositions: T, nLayer, nHead, dModel, dropout: 0 }, { seed: 1 });
    const opt = new AdamW(model.params, { weightDecay: 0.01 });
    const rng = new Rng(3);
    const ms: number[] = [];
    for (let step = 0; step < STEPS.warmup + 20; step++) {
      const ids = Int32Array.from({ length: B * T }, () => 5 + rng.int(vocabSize - 5));
      const { inputs, labels } = maskTokens(ids, { seqLen: T, rng, maskId: 3, vocabSize, specialIds: [0, 1, 2, 4] });
      const t0 = performance.now();
      trainStep(model, opt, () => model.mlm(rt.tensor(inputs, [B, T], { dtype: 'i32', arena: 'step' }),
        rt.tensor(labels, [B, T], { dtype: 'i32', arena: 'step' })).loss!, { step, lr: 1e-3, clip: 1 });
      if (step >= STEPS.warmup) ms.push(performance.now() - t0);
      if (step === STEPS.warmup - 1) await settle();
    }
    row(BERT_TRAIN_CASE, impl, 'tokens/s (median)', (B * T) / (median(ms) / 1000), 'tokens/s');
  }
}

/** Median images/s of ViT training steps on random 28×28 images, per build. */
async function vitRows(row: (c: string, impl: string, metric: string, value: number, unit: string) => void): Promise<void> {
  const { batch: B, ...cfg } = VIT_CFG;
  for (const impl of ['simd', 'relaxed'] as const) {
    let rt: Runtime;
    try { rt = await createRuntime({ variant: impl }); } catch { continue; }
    const model = new ViT(rt, { ...cfg, dropout: 0 }, { seed: 1 });
    const opt = new AdamW(model.params, { weightDecay: 0.05 });
    const rng = new Rng(4);
    const images = Float32Array.from({ length: B * 28 * 28 }, () => rng.uniform());
    const labels = Int32Array.from({ length: B }, () => rng.int(10));
    const ms: number[] = [];
    for (let step = 0; step < STEPS.warmup + 20; step++) {
      const t0 = performance.now();
      trainStep(model, opt, () => model.forward(images, labels, { smoothing: 0.1 }).loss!, { step, lr: 1e-3, clip: 1 });
      if (step >= STEPS.warmup) ms.push(performance.now() - t0);
      if (step === STEPS.warmup - 1) await settle();
    }
    row(VIT_TRAIN_CASE, impl, 'images/s (median)', B / (median(ms) / 1000), 'images/s');
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await run()) console.log(`${r.case} | ${r.impl} | ${r.metric}: ${r.value.toPrecision(4)} ${r.unit}`);
}
