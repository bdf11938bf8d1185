// Turns benchmark rows into the markdown of bench/RESULTS.md: per suite, one line per
// case and metric, one column per implementation.
import type { BenchRow } from './lib.js';

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
