// Builds the four wasm variants (simd, relaxed, and both on a shared memory: threads, relaxed-threads) from the one AssemblyScript
// source in assembly/, with the options in asconfig.json. asconfig's per-target
// `entries` is ignored by asc, so the entry file is passed here.
// `--if-stale`: only when a .wasm is missing or older than a source in assembly/ (the scripts that
// run from source use it: a fresh clone builds once, an unchanged one starts at once).
import { existsSync, readdirSync, statSync } from 'node:fs';

const args = process.argv.slice(2);
const ifStale = args.includes('--if-stale');
const named = args.filter((a) => a !== '--if-stale');
const variants = named.length ? named : ['simd', 'relaxed', 'threads', 'relaxed-threads'];
if (ifStale) {
  const newest = Math.max(...readdirSync('assembly').map((f) => statSync(`assembly/${f}`).mtimeMs), statSync('asconfig.json').mtimeMs);
  const stale = variants.some((v) => !existsSync(`build/wasmformer-${v}.wasm`) || statSync(`build/wasmformer-${v}.wasm`).mtimeMs < newest);
  if (!stale) process.exit(0);
}
const { default: asc } = await import('assemblyscript/asc');   // after the check: loading asc is most of an up-to-date run
for (const target of variants) {
  const { error, stderr } = await asc.main(
    ['assembly/index.ts', '--config', 'asconfig.json', '--target', target],
    { stdout: process.stdout, stderr: process.stderr },
  );
  if (error) {
    console.error(`asc failed for target ${target}: ${error.message}`);
    console.error(stderr.toString());
    process.exitCode = 1;
    break;
  }
}
