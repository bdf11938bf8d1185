// Runs every peer benchmark once, one child process at a time, and prints Markdown tables with
// the machine's load and CPU model (the numbers in bench/peers/README.md come from here).
//   node --experimental-wasm-relaxed-simd --import tsx bench/peers/run.ts [matmul|gpt2|all] [budgetMs]
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { MATMUL_SHAPES, ortGpt2, ortMatmulGflops } from './ort.js';
import { TFJS_MATMUL_SHAPES, tfjsMatmulGflops } from './tfjs.js';

const what = process.argv[2] ?? 'all';
const budgetMs = Number(process.argv[3] ?? 1000);
const fmt = (x: number, digits = 3) => x.toPrecision(digits);
const load = () => execFileSync('uptime', { encoding: 'utf8' }).trim();

console.log(`${os.cpus()[0]?.model} × ${os.cpus().length}, Node ${process.version}`);
console.log(`start: ${load()}`);

if (what === 'matmul' || what === 'all') {
  const columns = ['ORT 1 thread', 'tfjs 1 thread', 'ORT 2 threads', 'tfjs 2 threads'];
  const cells = new Map<string, Map<string, string>>(); // case → column → cell
  const put = (key: string, column: string, cell: string) => cells.set(key, (cells.get(key) ?? new Map()).set(column, cell));
  for (const threads of [1, 2] as const) {
    const suffix = threads === 1 ? '1 thread' : '2 threads';
    for (const r of await ortMatmulGflops(MATMUL_SHAPES, threads, budgetMs))
      put(`${r.m}x${r.k}x${r.n} A·B`, `ORT ${suffix}`, `${fmt(r.gflops)} (${r.cpuPerWall.toFixed(2)})`);
    for (const r of await tfjsMatmulGflops(TFJS_MATMUL_SHAPES, threads, budgetMs))
      put(`${r.m}x${r.k}x${r.n} ${r.transB ? 'A·Bᵀ' : 'A·B'}`, `tfjs ${suffix}`, `${fmt(r.gflops)} (${r.cpuPerWall.toFixed(2)}, ${r.build} ×${r.threadsCount})`);
    console.log(`after the ${suffix} matmuls: ${load()}`);
  }
  console.log(`\n| GFLOP/s (CPU time / wall time) | ${columns.join(' | ')} |`);
  console.log(`|---|${columns.map(() => '---:').join('|')}|`);
  for (const [key, row] of cells) console.log(`| ${key} | ${columns.map((c) => row.get(c) ?? '–').join(' | ')} |`);
}

if (what === 'gpt2' || what === 'all') {
  console.log('\n| GPT-2 small in ORT | create ms | prefill 128 tok/s (cpu) | decode tok/s at 128 (cpu) | load after |');
  console.log('|---|---:|---:|---:|---|');
  for (const threads of [1, 2] as const) {
    const r = await ortGpt2({ threads, promptTokens: 128, decodeTokens: 16, budgetMs: Math.max(4 * budgetMs, 6000) });
    console.log(`| ${threads} thread${threads > 1 ? 's' : ''} | ${r.createMs.toFixed(0)} | ${fmt(r.prefillTokensPerS)} (${r.prefillCpuPerWall.toFixed(2)}) | ` +
      `${fmt(r.decodeTokensPerS)} (${r.decodeCpuPerWall.toFixed(2)}) | ${load().replace(/.*load/, 'load')} |`);
  }
}
