// What `npm pack` puts in the tarball, read from `npm pack --json` and from the extracted
// tarball itself: the entry and its declarations, every .wasm the exports map and the
// loader name, nothing from the repo's test/bench/examples/scratch/runs/docs folders, no stale
// build output, and declarations and source maps that resolve inside the package.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack, type Packed } from './pack.js';

let packed: Packed;
let files: string[];
let extracted: string;
let pkg: {
  name: string;
  main?: string;
  types?: string;
  type?: string;
  exports: Record<string, string | Record<string, string>>;
  bin?: Record<string, string>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  files?: string[];
};

/** A file of the extracted tarball. */
const read = (path: string) => readFileSync(join(extracted, 'package', path), 'utf8');
/** `./a/b` → `a/b` (package-relative paths as npm lists them). */
const norm = (p: string) => posix.normalize(p).replace(/^\.\//, '');

beforeAll(async () => {
  packed = await pack();
  files = packed.info.files.map((f) => f.path).sort();
  extracted = mkdtempSync(join(tmpdir(), 'wasmformer-tarball-'));
  execFileSync('tar', ['-xzf', packed.tgz, '-C', extracted]);
  pkg = JSON.parse(read('package.json'));
}, 120_000);

afterAll(() => {
  packed?.cleanup();
  if (extracted && process.env.WASMFORMER_KEEP_TMP !== '1') rmSync(extracted, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('lists exactly what the tarball holds', () => {
    const inTar = execFileSync('tar', ['-tzf', packed.tgz], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l && !l.endsWith('/'))
      .map((l) => l.replace(/^package\//, ''))
      .sort();
    expect(inTar).toEqual(files);
    expect(packed.info.entryCount).toBe(files.length);
  });

  it('has package.json, README.md, the LICENSE, the ESM entry with its declarations, and no runtime dependencies', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) expect(files, f).toContain(f);
    expect(pkg.type).toBe('module');
    expect(pkg.dependencies ?? {}).toEqual({});
    // nothing runs when a user installs it (the build is `prepack`, run by npm pack/publish only)
    expect(Object.keys(pkg.scripts ?? {}).filter((s) => /^(pre|post)?install$|^prepare$/.test(s))).toEqual([]);
  });

  it('contains nothing from test/, bench/, examples/, scratch/, runs/, docs/ or other repo-only files', () => {
    const forbidden = /^(test|bench|examples|scratch|runs|docs|assembly|scripts|test-output|node_modules|\.ci|\.git)\/|\.tgz$|\.tsbuildinfo$|\.log$|^tsconfig|^vitest\.config|^asconfig|^package-lock\.json$|\.safetensors$/;
    expect(files.filter((f) => forbidden.test(f))).toEqual([]);
    // Top-level folders: only what `files` asks for.
    expect([...new Set(files.filter((f) => f.includes('/')).map((f) => f.split('/')[0]))].sort()).toEqual(['build', 'dist', 'src', 'types']);
    // 5.3 MB at session 5 (the bundles with their source maps 2.2 MB, per-file dist + maps, sources,
    // four .wasm of 72 KB): growth is new code; a fixture, a log or a stray build would add megabytes
    expect(packed.info.unpackedSize, 'unpacked size (bytes): something big slipped in?').toBeLessThan(6 * 1024 * 1024);
  });

  it("every target of the exports map, `main`, `types` and `bin` exists in the tarball", () => {
    const targets: [string, string][] = [];
    for (const [key, value] of Object.entries(pkg.exports)) {
      if (typeof value === 'string') targets.push([key, value]);
      else for (const [cond, t] of Object.entries(value)) targets.push([`${key} (${cond})`, t]);
    }
    if (pkg.main) targets.push(['main', pkg.main]);
    if (pkg.types) targets.push(['types', pkg.types]);
    for (const [name, t] of Object.entries(pkg.bin ?? {})) targets.push([`bin ${name}`, t]);
    expect(targets.length).toBeGreaterThanOrEqual(9);
    const missing = targets.filter(([, t]) => !files.includes(norm(t)));
    expect(missing, 'exports/main/types pointing at files the tarball lacks').toEqual([]);
    // The "." entry has types first (TypeScript reads conditions in order) and an import target.
    const dot = pkg.exports['.'] as Record<string, string>;
    expect(Object.keys(dot)[0]).toBe('types');
    expect(norm(dot.types!)).toBe('dist/index.d.ts');
    // The entry is the one-file bundle (fast start: one module to import instead of ~70).
    expect(norm(dot.import!)).toBe('dist/bundle/wasmformer.js');
    expect(norm(dot.default!)).toBe('dist/bundle/wasmformer.js');
    expect(norm(pkg.main!)).toBe('dist/bundle/wasmformer.js');
  });

  it('ships every .wasm variant, both through the exports map and where the loader looks by default', () => {
    for (const v of ['simd', 'relaxed', 'threads', 'relaxed-threads']) {
      // { types: the WebAssembly.Module declaration, default: the file }
      const entry = pkg.exports[`./wasm/${v}.wasm`] as Record<string, string>;
      expect(Object.keys(entry)).toEqual(['types', 'default']);
      expect(norm(entry.default!)).toBe(`build/wasmformer-${v}.wasm`);
      expect(read(norm(entry.types!))).toMatch(/declare const module: WebAssembly\.Module;\s*export default module;/);
      expect(files).toContain(`build/wasmformer-${v}.wasm`);
      const size = packed.info.files.find((f) => f.path === `build/wasmformer-${v}.wasm`)!.size;
      expect(size, `${v}.wasm size`).toBeGreaterThan(4096);
    }
    // The loader's literal new URL('../../build/….wasm', import.meta.url), resolved from dist/wasm/load.js.
    const urls = [...read('dist/wasm/load.js').matchAll(/new URL\('([^']+\.wasm)', import\.meta\.url\)/g)].map((m) => posix.join('dist/wasm', m[1]!));
    expect(urls.sort()).toEqual(['build/wasmformer-relaxed-threads.wasm', 'build/wasmformer-relaxed.wasm', 'build/wasmformer-simd.wasm', 'build/wasmformer-threads.wasm']);
    // …and from the bundle the exports map points at, which sits at the same depth.
    const bundled = [...read('dist/bundle/wasmformer.js').matchAll(/new URL\("([^"]+\.wasm)", import\.meta\.url\)/g)].map((m) => posix.join('dist/bundle', m[1]!));
    expect(bundled.sort()).toEqual(urls.sort());
    const wasmInTar = files.filter((f) => f.endsWith('.wasm'));
    expect(wasmInTar).toEqual(urls.sort());
    // Real wasm: the magic number.
    for (const f of wasmInTar) expect(readFileSync(join(extracted, 'package', f)).subarray(0, 4)).toEqual(Buffer.from([0, 0x61, 0x73, 0x6d]));
  });

  it('has no stale build output: every dist/**/*.js comes from a src/**/*.ts in the tarball and has its .d.ts', () => {
    // dist/bundle/ is the one-file bundle of all of them (scripts/bundle-js.mjs), not per-file output.
    const js = files.filter((f) => f.startsWith('dist/') && f.endsWith('.js') && !f.startsWith('dist/bundle/'));
    expect(files).toContain('dist/bundle/wasmformer.js');
    expect(js.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const f of js) {
      const base = f.slice('dist/'.length, -'.js'.length);
      if (!files.includes(`src/${base}.ts`)) problems.push(`${f}: no src/${base}.ts (stale output of a removed file?)`);
      if (!files.includes(`dist/${base}.d.ts`)) problems.push(`${f}: no dist/${base}.d.ts`);
    }
    expect(problems).toEqual([]);
  });

  it("declarations only import declarations the tarball has, and source maps point at shipped sources", () => {
    const problems: string[] = [];
    for (const f of files.filter((x) => x.endsWith('.d.ts'))) {
      // Comments hold usage examples (`import … from 'wasmformer'`): only code counts.
      const code = read(f).replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
      for (const m of code.matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        if (!spec.startsWith('.')) {
          problems.push(`${f} imports the bare specifier '${spec}' (a dependency users do not have)`);
          continue;
        }
        const target = posix.join(posix.dirname(f), spec).replace(/\.js$/, '.d.ts');
        if (!files.includes(target)) problems.push(`${f} imports '${spec}' but ${target} is not in the tarball`);
      }
    }
    for (const f of files.filter((x) => x.endsWith('.js.map'))) {
      const map = JSON.parse(read(f)) as { sources: string[] };
      for (const s of map.sources) {
        const target = posix.join(posix.dirname(f), s);
        if (!files.includes(target)) problems.push(`${f} names source ${s} (${target}), not in the tarball`);
      }
    }
    expect(problems).toEqual([]);
  });
});
