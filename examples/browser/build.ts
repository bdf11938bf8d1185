// Builds the demo into one folder of static files that any web server can host:
//   index.html, style.css       copied
//   main.js, worker.js (+ maps) bundled by esbuild from main.ts and worker.ts
//   wasm/*.wasm                       the library's kernels (build/wasmformer-*.wasm): relaxed,
//                                     simd, and both on a shared memory for the worker pool
// The worker asks for `./wasm/….wasm` relative to its own URL, so the folder can be served
// from any path. Run alone: `npx tsx examples/browser/build.ts [outdir]`.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** This example's folder. */
export const EXAMPLE_DIR = dirname(fileURLToPath(import.meta.url));
/** The repository root (the library's `build/` holds the wasm files). */
export const REPO_DIR = resolve(EXAMPLE_DIR, '../..');
/** Where the demo is built by default (git-ignored, like every `dist/`). */
export const DEFAULT_OUTDIR = join(EXAMPLE_DIR, 'dist');

/** The wasm builds the worker may load, as `wasm/<name>.wasm` in the output. */
const WASM_FILES = {
  'relaxed-threads': 'wasmformer-relaxed-threads.wasm', threads: 'wasmformer-threads.wasm',
  relaxed: 'wasmformer-relaxed.wasm', simd: 'wasmformer-simd.wasm',
} as const;

export interface BuildOptions {
  /** Output folder (created if missing). Default examples/browser/dist. */
  outdir?: string;
  /** Minify the bundles. Default false (readable output, with source maps either way). */
  minify?: boolean;
}

export interface BuildResult {
  outdir: string;
  /** Files written, relative to outdir, with their sizes in bytes. */
  files: { path: string; bytes: number }[];
  ms: number;
}

/**
 * Bundles the page and the worker and copies the static files and the wasm into `outdir`.
 * @throws Error when the wasm files are missing (run `npm run build:wasm` first) or esbuild fails.
 */
export async function buildDemo(opts: BuildOptions = {}): Promise<BuildResult> {
  const t0 = performance.now();
  const outdir = resolve(opts.outdir ?? DEFAULT_OUTDIR);
  const wasmSources = Object.entries(WASM_FILES).map(([name, file]) => [name, join(REPO_DIR, 'build', file)] as const);
  const missing = wasmSources.filter(([, path]) => !existsSync(path)).map(([, path]) => relative(REPO_DIR, path));
  if (missing.length > 0) throw new Error(`${missing.join(', ')} not found: build the kernels first (npm run build:wasm)`);

  mkdirSync(join(outdir, 'wasm'), { recursive: true });
  await build({
    entryPoints: { main: join(EXAMPLE_DIR, 'main.ts'), worker: join(EXAMPLE_DIR, 'worker.ts') },
    outdir,
    bundle: true,
    format: 'esm', // the worker is started as a module worker ({ type: 'module' })
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    minify: opts.minify ?? false,
    logLevel: 'warning',
    // `new URL('./worker.js', import.meta.url)` and the wasm URLs are left as they are: the
    // files sit side by side in outdir.
  });
  for (const file of ['index.html', 'style.css']) copyFileSync(join(EXAMPLE_DIR, file), join(outdir, file));
  for (const [name, path] of wasmSources) copyFileSync(path, join(outdir, 'wasm', `${name}.wasm`));

  const written = ['index.html', 'style.css', 'main.js', 'main.js.map', 'worker.js', 'worker.js.map', 'wasm/relaxed.wasm', 'wasm/simd.wasm'];
  return {
    outdir,
    files: written.map((path) => ({ path, bytes: statSync(join(outdir, path)).size })),
    ms: performance.now() - t0,
  };
}

// `npx tsx examples/browser/build.ts [outdir]`
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const result = await buildDemo({ outdir: process.argv[2] });
  console.log(`built ${relative(process.cwd(), result.outdir) || '.'} in ${Math.round(result.ms)} ms`);
  for (const f of result.files) console.log(`  ${f.path.padEnd(20)} ${(f.bytes / 1024).toFixed(1).padStart(7)} KiB`);
}
