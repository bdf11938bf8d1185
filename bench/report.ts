// Turns benchmark rows into the markdown of bench/RESULTS.md: the machine line, the headline
// tables (bench/summary.ts), then per suite one line per case and metric, one column per
// implementation. `node --import tsx bench/report.ts <rows.json>` prints it for a saved run.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { BenchRow } from './lib.js';
import { FAMILY_ROWS } from './families.bench.js';
import { barsSummary, fmt, gemmSummary, gpt2Summary, gptSummary, limitsLine, pick } from './summary.js';

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  loadBefore: number;
  loadAfter: number;
  date: string;
}

/** Row-wise kernels (one thread) against their JS twins. */
export function rowwiseSummary(rows: BenchRow[]): string {
  const out = ['| row-wise, speedup over the JS twin | simd | relaxed |', '|---|---:|---:|'];
  for (const c of ['softmax_forward 512x768', 'softmax_backward 512x768', 'layernorm_forward 512x768', 'layernorm_backward 512x768', 'gelu_forward 512x768', 'gelu_backward 512x768']) {
    const s = pick(rows, 'rowwise', c, 'simd', 'speedup');
    const r = pick(rows, 'rowwise', c, 'relaxed', 'speedup');
    if (s !== undefined) out.push(`| ${c} | ${fmt(s)}× | ${r !== undefined ? fmt(r) + '×' : ''} |`);
  }
  return out.length > 2 ? out.join('\n') : '';
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

/** Markdown tables of `rows`: the headline tables, then one per suite. */
export function markdown(rows: BenchRow[], machine: Machine): string {
  const out: string[] = [
    '# Benchmark results',
    '',
    `One run of \`npm run bench\` on ${machine.date.slice(0, 10)}: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ` +
      `load average ${machine.loadBefore.toFixed(2)} before and ${machine.loadAfter.toFixed(2)} after (1 minute; the run's own ` +
      'threads included). The machine is shared and drifts: compare numbers of the same run, as ratios. ' +
      'Machine-readable rows: `bench/results/latest.json`.',
    '',
    limitsLine(rows),
    '',
  ];
  const section = (title: string, body: string) => { if (body) out.push(title, '', body, ''); };
  if (rows.some((r) => r.suite === 'gemm')) section('## GEMM, 1 and 2 threads', gemmSummary(rows));
  section('## Row-wise kernels', rowwiseSummary(rows));
  if (rows.some((r) => r.suite === 'gpt')) section('## Baby-GPT training step', gptSummary(rows));
  if (rows.some((r) => r.suite === 'gpt2')) section('## GPT-2-small-shaped inference', gpt2Summary(rows));
  if (rows.some((r) => r.suite === 'families')) section('## Encoder–decoder, BERT and ViT', familiesSummary(rows));
  section('## Issue 11\'s performance bars (ratios of this run\'s rows)', barsSummary(rows));
  out.push('# All rows', '');
  const suites = [...new Set(rows.map((r) => r.suite))];
  for (const suite of suites) {
    const mine = rows.filter((r) => r.suite === suite);
    const impls = [...new Set(mine.map((r) => r.impl))];
    const keys = [...new Set(mine.map((r) => `${r.case}\u0000${r.metric}\u0000${r.unit}`))];
    out.push(`## ${suite} (all rows)`, '', `| case | metric | ${impls.join(' | ')} |`, `|---|---|${impls.map(() => '---:').join('|')}|`);
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

// A saved run: bench/results/latest.json (rows, machine in machine.json) or a partial/quick file ({ machine, rows }).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2] ?? 'bench/results/latest.json';
  const data = JSON.parse(readFileSync(file, 'utf8')) as BenchRow[] | { machine: Machine; rows: BenchRow[] };
  const rows = Array.isArray(data) ? data : data.rows;
  const machine = Array.isArray(data) ? JSON.parse(readFileSync(new URL('./results/machine.json', import.meta.url), 'utf8')) as Machine : data.machine;
  console.log(markdown(rows, machine));
}
