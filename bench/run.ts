// `npm run bench`: runs every suite, prints one table, and writes the rows to
// bench/results/latest.json as [{ suite, case, impl, metric, value, unit }], and what
// machine it ran on to bench/results/machine.json; a full run also rewrites bench/RESULTS.md.
// Run with node --experimental-wasm-relaxed-simd (npm run bench does) so the relaxed build loads;
// BENCH_QUICK=1 shortens every budget (development runs; never for the committed results).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { QUICK, type BenchRow } from './lib.js';
import { markdown } from './report.js';
import * as gemm from './gemm.bench.js';
import * as rowwise from './rowwise.bench.js';
import * as peers from './peers.bench.js';
import * as gpt from './gpt.bench.js';
import * as gpt2 from './gpt2.bench.js';
import * as families from './families.bench.js';
import * as quant from './quant.bench.js';
import * as tokenizer from './tokenizer.bench.js';
import * as pretrained from './pretrained.bench.js';
import * as t5 from './t5.bench.js';
import * as longContext from './long-context.bench.js';
import * as calibrate from './calibrate.js';

const suites: Record<string, { run(): Promise<BenchRow[]> }> = {
  machine: { run: () => calibrate.run('start') },
  gemm,
  rowwise,
  peers,
  gpt,
  // GPT-2-small-shaped inference: 4 models of 124M parameters one after the other, then ORT's (3–4 minutes).
  gpt2,
  families,
  // Byte-level BPE (GPT-2's vocabulary) against js-tiktoken and gpt-3-encoder on the same ≥ 1 MB text; trainBPE on 2 MB.
  tokenizer,
  // Decode-shaped products on int8 / f16 / bf16 weights against f32 packed weights, streamed from memory (≈ 4 minutes).
  quant: { run: () => quant.run() },
  // GPT-2-small-shaped folder in Hugging Face layout: load time, prefill and decode in f32/f16/int8 at 1 and 2 threads, ORT's decode, the bandwidth bound (≈ 5 minutes).
  pretrained,
  // flan-t5-small's shape in Hugging Face layout: load, held bytes, memory, greedy decode in f32/f16/int8 at 1 and 2 threads (≈ 2 minutes).
  t5,
  // The baby GPT's step at T = 64 … 4096: dense vs fused attention vs checkpointing (peak memory, tokens/s; ≈ 3 minutes).
  'long-context': longContext,
  // Start-up time per runtime and .wasm sizes (bench/startup.ts): spawns Deno, Bun, Chromium and
  // workerd, so it runs only when named (`npm run bench -- startup`), not in the full run.
  startup: { run: async () => (await import('./startup.js')).run() },
  // Start-up, GEMM and the training step per engine (bench/engines.ts: Chromium, Firefox, WebKit,
  // Node 20–26, Deno, Bun, each as a ratio to Chromium; ≈ 10 minutes): only when named, like startup.
  engines: { run: async () => (await import('./engines.js')).run() },
  'machine ': { run: () => calibrate.run('end') },
};
const optIn = new Set(['startup', 'engines']);
const only = process.argv.slice(2);
// names are checked before the build (`npm run bench` builds here, not before: a typo answers at once)
const unknown = only.filter((n) => !Object.keys(suites).some((k) => k.trim() === n));
if (unknown.length) {
  console.error(`npm run bench: no suite ${unknown.map((n) => `'${n}'`).join(', ')}; suites: ${Object.keys(suites).map((k) => k.trim()).filter((k, i, a) => a.indexOf(k) === i).join(', ')} (startup and engines run only when named)`);
  process.exit(2);
}
if (process.env.BENCH_NO_BUILD !== '1') execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  node: process.version,
  loadBefore: loadavg()[0] ?? 0,
  date: new Date().toISOString(),
};
const load = () => loadavg().map((l) => l.toFixed(2)).join(', ');
console.log(`wasmformer benchmarks — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${load()}${QUICK ? ' — QUICK run (short budgets)' : ''}`);

const rows: BenchRow[] = [];
for (const [name, suite] of Object.entries(suites)) {
  if (only.length ? !only.includes(name.trim()) : optIn.has(name)) continue;
  // Free the wasm memories of the last suite's runtimes (gigabytes, in the gemm and gpt2 suites)
  // before the next one starts: left to a later GC they slowed the next suite's steps by 5–20%.
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 500));
  const t0 = performance.now();
  const got = await suite.run();
  rows.push(...got);
  console.log(`\n## ${name} (${((performance.now() - t0) / 1000).toFixed(1)} s, load after ${load()})`);
  console.table(got.map((r) => ({ case: r.case, impl: r.impl, metric: r.metric, value: Number(r.value.toPrecision(4)), unit: r.unit })));
}

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const done = { ...machine, loadAfter: loadavg()[0] ?? 0 };
if (QUICK) {
  // A quick run is for development: its rows go to scratch/ (git-ignored), never next to real results.
  const name = only.length ? only.join('+') : 'all';
  mkdirSync(new URL('../scratch/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`../scratch/bench-${name}-quick.json`, import.meta.url), JSON.stringify({ machine: done, rows }, null, 1) + '\n');
  console.log(`\nwrote ${rows.length} rows to scratch/bench-${name}-quick.json (tables: node --import tsx bench/report.ts scratch/bench-${name}-quick.json)`);
} else if (only.length) {
  // A partial run (`npm run bench -- families`) goes to its own file; the full run's files stay as they are.
  const name = only.join('+');
  writeFileSync(new URL(`./results/partial-${name}.json`, import.meta.url), JSON.stringify({ machine: done, rows }, null, 1) + '\n');
  console.log(`\nwrote ${rows.length} rows to bench/results/partial-${name}.json`);
} else {
  writeFileSync(new URL('./results/latest.json', import.meta.url), JSON.stringify(rows, null, 1) + '\n');
  writeFileSync(new URL('./results/machine.json', import.meta.url), JSON.stringify(done, null, 1) + '\n');
  writeFileSync(new URL('./RESULTS.md', import.meta.url), markdown(rows, done));
  console.log(`\nwrote ${rows.length} rows to bench/results/latest.json (machine in bench/results/machine.json)`);
}
