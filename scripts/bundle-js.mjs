// Bundles the compiled library (dist/index.js and the ~70 modules it imports) into one ES
// module, dist/bundle/wasmformer.js, which the package's exports map points at: importing one
// file instead of ~70 cuts Node's import → first kernel result from ≈ 80 ms to ≈ 20 ms on this
// machine (bench/startup.ts). It sits two folders below the package root, like dist/wasm/load.js,
// so the loader's literal `new URL('../../build/….wasm', import.meta.url)` still finds the
// .wasm files (and bundlers such as Vite still see and rewrite those URLs). The per-file
// dist/*.js and dist/*.d.ts stay: the types come from there.
import { build } from 'esbuild';

// The `wasmformer` command (package.json "bin"): Node only, beside the library bundle so the
// same relative .wasm URLs resolve; cli-progress stays a dependency, not bundled.
await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/bundle/cli.js',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  external: ['cli-progress'],
});

await build({
  entryPoints: ['dist/index.js'],
  outfile: 'dist/bundle/wasmformer.js',
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
