// Bundles the edge worker for workerd: esbuild turns worker.ts (and the library it imports)
// into one ES module, leaving the .wasm and .safetensors imports to the runtime, and the
// output folder gets the two wasm builds, the checkpoint and a config.capnp that serves them.
//
//   npx tsx examples/edge/build.ts [--out test-output/edge] [--port 8787]
//   node_modules/.bin/workerd serve test-output/edge/config.capnp
//
// The module names in config.capnp are the import specifiers the bundle keeps:
// `wasmformer/wasm/simd.wasm` and `wasmformer/wasm/relaxed.wasm` (wasm modules: workerd
// compiles them when the worker loads, and the import is a WebAssembly.Module) and
// `model.safetensors` (a data module: an ArrayBuffer). wrangler does the same from its
// module rules (CompiledWasm for .wasm by default; add a Data rule for .safetensors).
import { copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');

/** The compatibility date of config.capnp (workerd 1.20261023.1 supports up to 2026-10-23). */
export const COMPATIBILITY_DATE = '2026-10-01';
export const DEFAULT_OUT_DIR = join(root, 'test-output', 'edge');

export interface WorkerModule {
  /** What the bundle imports. */
  name: string;
  type: 'esModule' | 'wasm' | 'data';
  /** The file in the output folder. */
  path: string;
}

export interface BuiltWorker {
  outDir: string;
  /** The worker's modules, the bundle first. */
  modules: WorkerModule[];
  /** config.capnp in outDir, serving on 127.0.0.1:port. */
  configPath: string;
  bundleBytes: number;
}

/** The config.capnp that serves `modules` on `address` (e.g. 127.0.0.1:8787); embed paths are relative to outDir. */
export function configCapnp(modules: WorkerModule[], outDir: string, address: string, bindings: Record<string, string> = {}): string {
  const q = JSON.stringify;
  const rel = (p: string) => resolve(p).slice(resolve(outDir).length + 1).split('\\').join('/');
  return `# Written by examples/edge/build.ts. Run: workerd serve config.capnp
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .edgeWorker) ],
  sockets = [ (name = "http", address = ${q(address)}, http = (), service = "main") ],
);

const edgeWorker :Workerd.Worker = (
  modules = [
${modules.map((m) => `    (name = ${q(m.name)}, ${m.type} = embed ${q(rel(m.path))}),`).join('\n')}
  ],
  bindings = [
${Object.entries(bindings).map(([k, v]) => `    (name = ${q(k)}, text = ${q(v)}),`).join('\n')}
  ],
  compatibilityDate = ${q(COMPATIBILITY_DATE)},
);
`;
}

/** Bundles worker.ts into `outDir` with the wasm builds and the checkpoint, and writes config.capnp. */
export async function buildWorker(opts: { outDir?: string; port?: number; bindings?: Record<string, string> } = {}): Promise<BuiltWorker> {
  const outDir = resolve(opts.outDir ?? DEFAULT_OUT_DIR);
  mkdirSync(outDir, { recursive: true });
  const bundle = join(outDir, 'worker.js');
  await build({
    entryPoints: [join(here, 'worker.ts')],
    outfile: bundle,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    // Left as imports: workerd (or wrangler) supplies them as modules.
    external: ['*.wasm', '*.safetensors'],
    logLevel: 'warning',
    legalComments: 'none',
  });
  const copy = (from: string, to: string): string => {
    const dest = join(outDir, to);
    copyFileSync(from, dest);
    return dest;
  };
  for (const v of ['simd', 'relaxed']) {
    const file = join(root, 'build', `wasmformer-${v}.wasm`);
    try {
      statSync(file);
    } catch {
      throw new Error(`${file} is missing: run npm run build first`);
    }
  }
  const modules: WorkerModule[] = [
    { name: 'worker.js', type: 'esModule', path: bundle },
    { name: 'wasmformer/wasm/simd.wasm', type: 'wasm', path: copy(join(root, 'build', 'wasmformer-simd.wasm'), 'simd.wasm') },
    { name: 'wasmformer/wasm/relaxed.wasm', type: 'wasm', path: copy(join(root, 'build', 'wasmformer-relaxed.wasm'), 'relaxed.wasm') },
    { name: 'model.safetensors', type: 'data', path: copy(join(here, 'model.safetensors'), 'model.safetensors') },
  ];
  const configPath = join(outDir, 'config.capnp');
  writeFileSync(configPath, configCapnp(modules, outDir, `127.0.0.1:${opts.port ?? 8787}`, opts.bindings));
  return { outDir, modules, configPath, bundleBytes: statSync(bundle).size };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, port: { type: 'string', default: '8787' } } });
  const built = await buildWorker({ outDir: values.out, port: Number(values.port) });
  console.log(`bundle ${built.modules[0]!.path} (${(built.bundleBytes / 1024).toFixed(0)} KiB); config ${built.configPath}`);
  for (const m of built.modules) console.log(`  ${m.type.padEnd(8)} ${m.name.padEnd(28)} ${(statSync(m.path).size / 1024).toFixed(0)} KiB`);
}
