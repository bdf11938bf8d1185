// Bundles the compiled library (dist/index.js and the ~70 modules it imports) into one ES
// module, dist/bundle/wasmformer.js, which the package's exports map points at: importing one
// file instead of ~70 cuts Node's import → first kernel result from ≈ 80 ms to ≈ 20 ms on this
// machine (bench/startup.ts). It sits two folders below the package root, like dist/wasm/load.js,
// so the loader's literal `new URL('../../build/….wasm', import.meta.url)` still finds the
// .wasm files (and bundlers such as Vite still see and rewrite those URLs). The per-file
// dist/*.js and dist/*.d.ts stay: the types come from there.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

// The `wasmformer` command (package.json "bin"): Node only, beside the library bundle so the
// same relative .wasm URLs resolve. Its one package (cli-progress, with what it imports) is
// bundled in, so the package keeps no runtime dependencies; their licence texts go beside it.
// Compiled by tsconfig.cli.json into dist-cli/ (not shipped: only the bundle is), without a
// source map (it would point into node_modules and double the package's size).
const cli = await build({
  entryPoints: ['dist-cli/cli/main.js'],
  outfile: 'dist/bundle/cli.js',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  // cli-progress is CommonJS and requires Node built-ins: give the ES module a require
  banner: { js: "import { createRequire as __wasmformerRequire } from 'node:module'; const require = __wasmformerRequire(import.meta.url);" },
});
const packages = [...new Set(Object.keys(cli.metafile.inputs).map((f) => f.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1]).filter(Boolean))].sort();
const notices = packages.map((name) => {
  const dir = `node_modules/${name}`;
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  const { version, license } = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'));
  return `${name}@${version} (${license})\n\n${file ? readFileSync(`${dir}/${file}`, 'utf8').trim() : '(no licence file in the package)'}\n`;
});
writeFileSync('dist/bundle/cli.licenses.txt', `Packages bundled into cli.js:\n\n${notices.join('\n---\n\n')}`);

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
