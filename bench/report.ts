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

/** Markdown tables of `rows`, one per suite. */
export function markdown(rows: BenchRow[], machine: Machine): string {
  const out: string[] = [
    '# Benchmark results',
    '',
    `One run of \`npm run bench\` on ${machine.date.slice(0, 10)}: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ` +
      `one thread, load average ${machine.loadBefore.toFixed(2)} before and ${machine.loadAfter.toFixed(2)} after ` +
      '(the machine is shared: treat single numbers as ±10%). Machine-readable rows: `bench/results/latest.json`.',
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
