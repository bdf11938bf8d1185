// Turns benchmark rows into the markdown of bench/RESULTS.md: per suite, one line per
// case and metric, one column per implementation.
import type { BenchRow } from './lib.js';
import {
  BABY_GPT, FAMILIES, FORWARD_CASE, GEN_CACHE_CASE, GEN_NOCACHE_CASE, HOST, QUOTED, TRAIN_CASE, stepCase,
} from './gpt.bench.js';
import { FAMILY_ROWS } from './families.bench.js';

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  loadBefore: number;
  loadAfter: number;
  date: string;
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

const pick = (rows: BenchRow[], suite: string, c: string, impl: string, metric: string) =>
  rows.find((r) => r.suite === suite && r.case === c && r.impl === impl && r.metric === metric)?.value;

/** The machine's peaks: the mean of those measured at the start and the end of the run. */
function peaks(rows: BenchRow[]): { mulAdd: number; fma: number } | undefined {
  const mean = (what: string) => {
    const v = rows.filter((r) => r.suite === 'machine' && r.case.startsWith(what)).map((r) => r.value);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
  };
  const p = { mulAdd: mean('f32x4 peak mul+add'), fma: mean('f32x4 peak relaxed fma') };
  return Number.isFinite(p.mulAdd) && Number.isFinite(p.fma) ? p : undefined;
}

/** The headline numbers: GEMM against the machine's peak and the peer, row-wise against the JS twins. */
export function summary(rows: BenchRow[]): string {
  const p = peaks(rows);
  const peer = [...new Set(rows.map((r) => r.impl))].find((i) => i.startsWith('tfjs'));
  const pct = (v: number | undefined, of: number | undefined) => (v !== undefined && of ? ` (${Math.round((100 * v) / of)}%)` : '');
  const out = [
    `| GEMM, GFLOP/s (share of this run's peak) | simd | relaxed | ${peer ?? 'peer'} |`,
    '|---|---:|---:|---:|',
  ];
  for (const c of ['512x512x512', '512x768x3072', '64x768x768', '1x768x3072']) {
    for (const form of ['A·B', 'A·Bᵀ', 'Aᵀ·B']) {
      const name = `${c} ${form}`;
      const s = pick(rows, 'gemm', name, 'simd', 'gflops');
      const r = pick(rows, 'gemm', name, 'relaxed', 'gflops');
      if (s === undefined) continue;
      const t = peer ? pick(rows, 'gemm', name, peer, 'gflops') : undefined;
      out.push(`| ${name} | ${fmt(s)}${pct(s, p?.mulAdd)} | ${r !== undefined ? fmt(r) + pct(r, p?.fma) : ''} | ${t !== undefined ? fmt(t) : ''} |`);
    }
  }
  if (p) out.push(`| *peak: f32x4 mul+add / relaxed fma* | *${fmt(p.mulAdd)}* | *${fmt(p.fma)}* | |`);
  out.push('', '| row-wise, speedup over the JS twin | simd | relaxed |', '|---|---:|---:|');
  for (const c of ['softmax_forward 512x768', 'softmax_backward 512x768', 'layernorm_forward 512x768', 'layernorm_backward 512x768', 'gelu_forward 512x768', 'gelu_backward 512x768']) {
    const s = pick(rows, 'rowwise', c, 'simd', 'speedup');
    const r = pick(rows, 'rowwise', c, 'relaxed', 'speedup');
    if (s !== undefined) out.push(`| ${c} | ${fmt(s)}× | ${r !== undefined ? fmt(r) + '×' : ''} |`);
  }
  return out.join('\n');
}

/** The GPT suite's headline: training tokens/s per backend, where the step goes, inference. */
export function gptSummary(rows: BenchRow[]): string {
  const g = (c: string, impl: string, metric: string) => pick(rows, 'gpt', c, impl, metric);
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  const ms = (v: number) => (v >= 1000 ? n(v) : fmt(v));
  const cfg = BABY_GPT;
  const out = [
    `nanoGPT's baby GPT (vocab ${cfg.vocabSize}, block ${cfg.blockSize}, ${cfg.nLayer} layers, ${cfg.nHead} heads, d=${cfg.dModel}, ` +
      `dFF ${cfg.dFF}, tied weights), batch 12 × 64 = 768 tokens per step: forward, backward, clip and AdamW, as \`train()\` ` +
      `runs them, on one thread (the JS backend: one timed step after one warm-up). The bar is ≥ ${n(QUOTED.barTokensPerSecond)} tokens/s. Quoted in the issue for this machine ` +
      `type and config, not measured in this run: PyTorch 1.13 + OpenBLAS on one core ≈ ${n(QUOTED.pytorchTokensPerSecond)} ` +
      `tokens/s, TensorFlow.js wasm ≈ ${n(QUOTED.tfjsWasmTokensPerSecond)} tokens/s.`,
    '',
    '| training step | tokens/s (median) | tokens/s (best) | ms/step | × JS |',
    '|---|---:|---:|---:|---:|',
  ];
  const backends = ['simd', 'relaxed', 'js'].filter((b) => g(TRAIN_CASE, b, 'tokens/s (median)') !== undefined);
  for (const b of backends) {
    const ratio = b === 'js' ? 1 : g(TRAIN_CASE, b, 'speedup over js');
    out.push(`| ${b} | ${n(g(TRAIN_CASE, b, 'tokens/s (median)')!)} | ${n(g(TRAIN_CASE, b, 'tokens/s (best)')!)} | ` +
      `${ms(g(TRAIN_CASE, b, 'ms/step')!)} | ${ratio !== undefined ? fmt(ratio) + '×' : ''} |`);
  }

  const profiled = ['relaxed', 'simd'].find((b) => g(stepCase(HOST), b, 'ms/step') !== undefined);
  if (profiled) {
    const whole = g(stepCase('whole step, kernels timed'), profiled, 'ms/step');
    const calls = g(stepCase('kernel calls'), profiled, 'calls/step');
    out.push('', `| where the step goes (${profiled}, each kernel call timed${calls ? `: ${Math.round(calls)} calls per step` : ''}) | ms/step | share |`, '|---|---:|---:|');
    for (const part of [...FAMILIES, HOST]) {
      const t = g(stepCase(part), profiled, 'ms/step');
      const share = g(stepCase(part), profiled, 'share of step');
      if (t !== undefined && share !== undefined) out.push(`| ${part} | ${fmt(t)} | ${share.toFixed(1)}% |`);
    }
    if (whole !== undefined) out.push(`| *whole step* | *${fmt(whole)}* | *100%* |`);
    const gf = g('GEMM inside the step', profiled, 'gflops');
    const p = peaks(rows);
    const peak = p && (profiled === 'relaxed' ? p.fma : p.mulAdd);
    const peakName = profiled === 'relaxed' ? 'relaxed fma' : 'mul+add';
    if (gf !== undefined) {
      out.push('', `GEMM inside the step (${profiled}): ${fmt(gf)} GFLOP/s` +
        (peak ? `, ${Math.round((100 * gf) / peak)}% of this run's f32x4 ${peakName} peak of ${fmt(peak)} GFLOP/s.` : '.'));
    }
  }

  out.push('', '| inference, tokens/s | simd | relaxed |', '|---|---:|---:|');
  for (const [c, label] of [
    [GEN_CACHE_CASE, 'generation, 1-token prompt + 60 greedy, KV cache'],
    [GEN_NOCACHE_CASE, 'generation, same, no cache'],
    [FORWARD_CASE, 'batched forward only, B=12 T=64, no grad'],
  ] as const) {
    const cells = ['simd', 'relaxed'].map((b) => g(c, b, 'tokens/s'));
    if (cells.some((v) => v !== undefined)) out.push(`| ${label} | ${cells.map((v) => (v !== undefined ? n(v) : '')).join(' | ')} |`);
  }
  return out.join('\n');
}

/** The other families' headline: training steps and decoding, one thread. */
export function familiesSummary(rows: BenchRow[]): string {
  const g = (c: string, impl: string, metric: string) => pick(rows, 'families', c, impl, metric);
  const n = (v: number | undefined) => (v === undefined ? '' : Math.round(v).toLocaleString('en-US'));
  const out = ['| one thread | simd | relaxed |', '|---|---:|---:|'];
  for (const [c, metric, label] of FAMILY_ROWS) {
    const cells = ['simd', 'relaxed'].map((b) => g(c, b, metric));
    if (cells.some((v) => v !== undefined)) out.push(`| ${label} | ${cells.map(n).join(' | ')} |`);
  }
  return out.join('\n');
}

/** Markdown tables of `rows`, one per suite. */
export function markdown(rows: BenchRow[], machine: Machine): string {
  const out: string[] = [
    '# Benchmark results',
    '',
    `One run of \`npm run bench\` on ${machine.date.slice(0, 10)}: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ` +
      `one thread, load average ${machine.loadBefore.toFixed(2)} before and ${machine.loadAfter.toFixed(2)} after ` +
      '(the machine is shared: treat single numbers as ±10%). Machine-readable rows: `bench/results/latest.json`.',
    '',
    '## Summary',
    '',
    summary(rows),
    '',
  ];
  if (rows.some((r) => r.suite === 'gpt')) out.push('### GPT training step', '', gptSummary(rows), '');
  if (rows.some((r) => r.suite === 'families')) out.push('### Encoder–decoder, BERT and ViT', '', familiesSummary(rows), '');
  const suites = [...new Set(rows.map((r) => r.suite))];
  for (const suite of suites) {
    const mine = rows.filter((r) => r.suite === suite);
    const impls = [...new Set(mine.map((r) => r.impl))];
    const keys = [...new Set(mine.map((r) => `${r.case}\u0000${r.metric}\u0000${r.unit}`))];
    out.push(`## ${suite}`, '', `| case | metric | ${impls.join(' | ')} |`, `|---|---|${impls.map(() => '---:').join('|')}|`);
    for (const key of keys) {
      const [c, metric, unit] = key.split('\u0000') as [string, string, string];
      const cells = impls.map((impl) => {
        const r = mine.find((x) => x.case === c && x.metric === metric && x.impl === impl);
        return r ? fmt(r.value) : '';
      });
      out.push(`| ${c} | ${metric} (${unit}) | ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
