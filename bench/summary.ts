// The headline tables of bench/RESULTS.md, computed from one run's rows only: the machine's
// in-run limits, GEMM at 1 and 2 threads against the peers (share of the peak, 2-thread speedup,
// decode bandwidth share), the baby-GPT training step, GPT-2-small inference and issue 11's bars.
import type { BenchRow } from './lib.js';
import { BANDWIDTH_1, BANDWIDTH_2, PEAK_FMA, PEAK_MUL_ADD } from './calibrate.js';
import { BUFFER_MIB } from './bandwidth.js';
import { BABY_GPT, FAMILIES, FORWARD_CASE, GEN_CACHE_CASE, GEN_NOCACHE_CASE, HOST, PYTORCH, QUOTED, TRAIN_CASE, stepCase } from './gpt.bench.js';
import { CREATE_CASE, DECODE_CASE, DECODE_TOKENS, PREFILL_CASE } from './gpt2.bench.js';
import { CASES, STREAM, caseName } from './gemm.bench.js';
import { ORT_NAME, TFJS_NAME, threadsImpl } from './lib.js';

export function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}
const int = (v: number) => Math.round(v).toLocaleString('en-US');

export const pick = (rows: BenchRow[], suite: string, c: string, impl: string, metric: string) =>
  rows.find((r) => r.suite === suite && r.case === c && r.impl === impl && r.metric === metric)?.value;

/** Mean of the machine rows whose case starts with `what` (taken at the start and the end of the run). */
function machineMean(rows: BenchRow[], what: string): number | undefined {
  const v = rows.filter((r) => r.suite === 'machine' && r.case.startsWith(what)).map((r) => r.value);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined;
}

/** This run's limits: one core's f32x4 peaks (GFLOP/s) and the read bandwidth of 1 and 2 threads (GB/s), start/end means. */
export function limits(rows: BenchRow[]) {
  return {
    mulAdd: machineMean(rows, PEAK_MUL_ADD), fma: machineMean(rows, PEAK_FMA),
    bw1: machineMean(rows, BANDWIDTH_1), bw2: machineMean(rows, BANDWIDTH_2),
  };
}

/** The machine's limits as one sentence, each figure at the start → the end of the run. */
export function limitsLine(rows: BenchRow[]): string {
  const ends = (what: string) => rows.filter((r) => r.suite === 'machine' && r.case.startsWith(what)).map((r) => fmt(r.value)).join(' → ');
  const parts = [
    [PEAK_MUL_ADD, 'one core f32x4 peak, mul+add', 'GFLOP/s'], [PEAK_FMA, 'relaxed fma', 'GFLOP/s'],
    [BANDWIDTH_1, `memory read bandwidth (${BUFFER_MIB} MiB), 1 thread`, 'GB/s'], [BANDWIDTH_2, '2 threads', 'GB/s'],
  ].filter(([w]) => ends(w!)).map(([w, label, unit]) => `${label} ${ends(w!)} ${unit}`);
  return parts.length ? `Measured in this run (start → end): ${parts.join('; ')}.` : '';
}

const ISAS = ['simd', 'relaxed'];
const PEERS = [TFJS_NAME, ORT_NAME];
/** Every implementation column at 1 and 2 threads: ours, then the peers. */
const COLUMNS = [...ISAS, ...PEERS].flatMap((i) => [threadsImpl(i, 1), threadsImpl(i, 2)]);

/** GEMM at 1 and 2 threads: GFLOP/s, share of the one-core peak (ours at 1 thread), 2-thread speedup; then decode streaming. */
export function gemmSummary(rows: BenchRow[]): string {
  const L = limits(rows);
  const g = (c: string, impl: string, metric = 'gflops') => pick(rows, 'gemm', c, impl, metric);
  const cols = COLUMNS.filter((i) => rows.some((r) => r.suite === 'gemm' && r.impl === i));
  const head = (title: string) => [`| ${title} | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---:').join('|')}|`];
  const out = head('GEMM, GFLOP/s');
  const headline = CASES.filter((c) => c.headline).map(caseName);
  for (const name of headline) {
    if (g(name, 'simd') === undefined && g(name, 'relaxed') === undefined) continue;
    const cells = cols.map((impl) => {
      const v = g(name, impl);
      if (v === undefined) return '–';
      const [base, threads] = impl.endsWith(' 2t') ? [impl.slice(0, -3), 2] : [impl, 1];
      const peak = base === 'simd' ? L.mulAdd : base === 'relaxed' ? L.fma : undefined;
      const one = g(name, base);
      if (threads === 1) return peak ? `${fmt(v)} (${Math.round((100 * v) / peak)}%)` : fmt(v);
      return one ? `${fmt(v)} (${(v / one).toFixed(2)}×)` : fmt(v);
    });
    out.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  out.push('', `(%) share of this run's one-core f32x4 peak: mul+add for simd (${L.mulAdd ? fmt(L.mulAdd) : '?'} GFLOP/s), ` +
    `relaxed fma for relaxed (${L.fma ? fmt(L.fma) : '?'} GFLOP/s). (×) 2 threads over 1 thread of the same implementation. ` +
    'Peers: each case in a child process at its thread count, timed right after ours (bench/peers/README.md). ' +
    'Ours through `matmul` (src/ops) with the output preallocated; ORT through `session.run` (copies A in and Y out); tfjs on tensors in its memory.');

  const decode = CASES.filter((c) => c.m === 1 && (c.headline || c.packed)).map(caseName);
  if (decode.some((n) => g(n, 'simd', STREAM) !== undefined)) {
    out.push('', ...head('M = 1 (decode): GB/s of B streamed (share of this run\'s read bandwidth)'));
    for (const name of decode) {
      const cells = cols.map((impl) => {
        const v = g(name, impl, STREAM);
        const bw = impl.endsWith(' 2t') ? L.bw2 : L.bw1;
        return v === undefined ? '–' : bw ? `${fmt(v)} (${Math.round((100 * v) / bw)}%)` : fmt(v);
      });
      out.push(`| ${name} | ${cells.join(' | ')} |`);
    }
    out.push('', `Read bandwidth of this run: ${L.bw1 ? fmt(L.bw1) : '?'} GB/s (1 thread), ${L.bw2 ? fmt(L.bw2) : '?'} GB/s (2 threads), ` +
      `summing ${BUFFER_MIB} MiB, where no cache helps. Timed calls read the same B again and again, so caches can serve part of ` +
      'it: all of 1×768×3072\'s 9.4 MB (shares above 100%), less of the tied head\'s 154 MB. `packed`: B as model weights ' +
      'are read in inference, packed once into slivers (src/ops/packed.ts); the other rows pack nothing and read B where it lies.');
  }
  return out.join('\n');
}

/** Implementations of a suite that have `c`/`metric`, in column order (then any others, e.g. js). */
function present(rows: BenchRow[], suite: string, c: string, metric: string): string[] {
  const have = [...new Set(rows.filter((r) => r.suite === suite && r.case === c && r.metric === metric).map((r) => r.impl))];
  return [...COLUMNS.filter((i) => have.includes(i)), ...have.filter((i) => !COLUMNS.includes(i))];
}

/** The baby-GPT step per build and thread count, where its time goes, and inference. */
export function gptSummary(rows: BenchRow[]): string {
  const g = (c: string, impl: string, metric: string) => pick(rows, 'gpt', c, impl, metric);
  const ms = (v: number) => (v >= 1000 ? int(v) : fmt(v));
  const cfg = BABY_GPT;
  const torch1 = g(TRAIN_CASE, PYTORCH(1), 'tokens/s (median)');
  const out = [
    `nanoGPT's baby GPT (vocab ${cfg.vocabSize}, block ${cfg.blockSize}, ${cfg.nLayer} layers, ${cfg.nHead} heads, d=${cfg.dModel}, ` +
      `dFF ${cfg.dFF}, tied weights), batch 12 × 64 = 768 tokens per step: forward, backward, clip and AdamW, as \`train()\` ` +
      'runs them (the JS backend: one timed step after one warm-up). ' +
      (torch1 !== undefined
        ? 'PyTorch (bench/peers/pytorch-step.py: the same model and step, CPU) timed in the same rounds, a fresh process per round. '
        : `PyTorch **not measured in this run** (no Python with torch): quoted in issue 11, PyTorch 1.13 + OpenBLAS ${int(QUOTED.pytorch1TokensPerSecond)} tokens/s on 1 thread and ` +
          `${int(QUOTED.pytorch2TokensPerSecond)} on 2. `) +
      `TensorFlow.js wasm ≈ ${int(QUOTED.tfjsWasmTokensPerSecond)} (quoted).`,
    '',
    `| training step | tokens/s (median) | tokens/s (best) | ms/step | 2 threads / 1 | × JS | / PyTorch 1 thr${torch1 === undefined ? ' (quoted)' : ''} |`,
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const b of present(rows, 'gpt', TRAIN_CASE, 'tokens/s (median)')) {
    const med = g(TRAIN_CASE, b, 'tokens/s (median)')!;
    const one = b.endsWith(' 2t') ? g(TRAIN_CASE, b.slice(0, -3), 'tokens/s (median)') : undefined;
    const ratio = b === 'js' ? 1 : g(TRAIN_CASE, b, 'speedup over js');
    out.push(`| ${b} | ${int(med)} | ${int(g(TRAIN_CASE, b, 'tokens/s (best)')!)} | ${ms(g(TRAIN_CASE, b, 'ms/step')!)} | ` +
      `${one ? (med / one).toFixed(2) + '×' : ''} | ${ratio !== undefined ? fmt(ratio) + '×' : ''} | ${(med / (torch1 ?? QUOTED.pytorch1TokensPerSecond)).toFixed(2)} |`);
  }

  const profiled = rows.find((r) => r.suite === 'gpt' && r.case === stepCase(HOST) && r.metric === 'ms/step')?.impl;
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
    if (gf !== undefined) out.push('', `GEMM inside the step (${profiled}): ${fmt(gf)} GFLOP/s.`);
  }

  const impls = present(rows, 'gpt', GEN_CACHE_CASE, 'tokens/s');
  out.push('', `| inference, tokens/s | ${impls.join(' | ')} |`, `|---|${impls.map(() => '---:').join('|')}|`);
  for (const [c, label] of [
    [GEN_CACHE_CASE, 'generation, 1-token prompt + 60 greedy, KV cache'],
    [GEN_NOCACHE_CASE, 'generation, same, no cache'],
    [FORWARD_CASE, 'batched forward only, B=12 T=64, no grad'],
  ] as const) {
    const cells = impls.map((b) => g(c, b, 'tokens/s'));
    if (cells.some((v) => v !== undefined)) out.push(`| ${label} | ${cells.map((v) => (v !== undefined ? int(v) : '')).join(' | ')} |`);
  }
  return out.join('\n');
}

/** GPT-2-small-shaped inference: creation, prefill, decode per build and thread count, beside ORT. */
export function gpt2Summary(rows: BenchRow[]): string {
  const g = (c: string, impl: string, metric: string) => pick(rows, 'gpt2', c, impl, metric);
  const impls = present(rows, 'gpt2', PREFILL_CASE, 'tokens/s');
  const out = [
    `GPT-2 small's shapes (vocab 50257, 12 layers, 12 heads, d 768, 124M parameters), random f32 weights, one sequence. ` +
      `Prefill: one forward of the 128-token prompt filling an empty KV cache, all 128 logits rows out. Decode: greedy tokens ` +
      `after it, one position each through the KV cache (ours: ${DECODE_TOKENS} generated by \`generate\` at contexts 129 …; ` +
      'ORT: single steps from the prompt\'s cache, median). Creation: ours `new GPT` with seeded init; ORT `InferenceSession.create` of the model bytes.',
    '',
    `| GPT-2 small | ${impls.join(' | ')} |`, `|---|${impls.map(() => '---:').join('|')}|`,
  ];
  const line = (label: string, c: string, metric: string, f: (v: number) => string) => {
    const cells = impls.map((i) => g(c, i, metric));
    if (cells.some((v) => v !== undefined)) out.push(`| ${label} | ${cells.map((v) => (v === undefined ? '–' : f(v))).join(' | ')} |`);
  };
  line('creation, s', CREATE_CASE, 'ms', (v) => (v / 1000).toFixed(1));
  line('prefill 128 tokens, tokens/s', PREFILL_CASE, 'tokens/s', fmt);
  line('prefill, CPU time / wall time', PREFILL_CASE, 'cpu/wall', (v) => v.toFixed(2));
  line('decode at 128+, tokens/s', DECODE_CASE, 'tokens/s', fmt);
  line('peak wasm memory, MiB', 'peak wasm memory', 'MiB', (v) => int(v));
  return out.join('\n');
}

/** Issue 11's performance bars, each a ratio of two rows of this run. */
export function barsSummary(rows: BenchRow[]): string {
  const L = limits(rows);
  const gm = (c: string, impl: string) => pick(rows, 'gemm', c, impl, 'gflops');
  const out = ['| bar (issue 11) | this run | needed | met |', '|---|---:|---:|:---:|'];
  const bar = (label: string, v: number | undefined, need: number, unit = '×') => {
    if (v === undefined || !Number.isFinite(v)) return;
    out.push(`| ${label} | ${unit === '%' ? Math.round(100 * v) + '%' : v.toFixed(2) + '×'} | ${unit === '%' ? 100 * need + '%' : '≥ ' + need + '×'} | ${v >= need ? 'yes' : '**no**'} |`);
  };
  const div = (a?: number, b?: number) => (a !== undefined && b ? a / b : undefined);
  const maxOf = (...v: (number | undefined)[]) => (v.every((x) => x === undefined) ? undefined : Math.max(...v.filter((x): x is number => x !== undefined)));
  for (const c of ['512x512x512 A·B', '512x768x3072 A·B']) {
    const tf2 = gm(c, threadsImpl(TFJS_NAME, 2)), ort2 = gm(c, threadsImpl(ORT_NAME, 2));
    bar(`${c}: simd 1 thread / tfjs 1 thread`, div(gm(c, 'simd'), gm(c, TFJS_NAME)), 1.1);
    bar(`${c}: simd 1 thread, share of the mul+add peak`, div(gm(c, 'simd'), L.mulAdd), 0.8, '%');
    bar(`${c}: relaxed 1 thread, share of the fma peak`, div(gm(c, 'relaxed'), L.fma), 0.9, '%');
    for (const isa of ISAS) {
      bar(`${c}: ${isa} 2 threads / 1 thread`, div(gm(c, `${isa} 2t`), gm(c, isa)), 1.8);
      bar(`${c}: ${isa} 2 threads / best peer at 2 threads`, div(gm(c, `${isa} 2t`), maxOf(tf2, ort2)), 1);
    }
  }
  const best2 = maxOf(...ISAS.map((i) => pick(rows, 'gpt', TRAIN_CASE, `${i} 2t`, 'tokens/s (median)')));
  const torch = (t: number) => pick(rows, 'gpt', TRAIN_CASE, PYTORCH(t), 'tokens/s (median)');
  const torchLabel = torch(1) === undefined ? ' (quoted)' : ' (same run)';
  bar(`training step, best build at 2 threads / PyTorch 1 thread${torchLabel}`, div(best2, torch(1) ?? QUOTED.pytorch1TokensPerSecond), 1);
  bar(`training step, best build at 2 threads / PyTorch 2 threads${torchLabel}; the goal beyond`, div(best2, torch(2) ?? QUOTED.pytorch2TokensPerSecond), 1);
  const ort2 = threadsImpl(ORT_NAME, 2);
  for (const [c, label] of [[DECODE_CASE, 'decode'], [PREFILL_CASE, 'prefill']] as const) {
    const ours = maxOf(...ISAS.map((i) => pick(rows, 'gpt2', c, `${i} 2t`, 'tokens/s')));
    bar(`GPT-2 small ${label}, best build at 2 threads / ORT 2 threads`, div(ours, pick(rows, 'gpt2', c, ort2, 'tokens/s')), 1);
  }
  return out.length > 2 ? out.join('\n') : '';
}
