// Node ESM consumer of the packed tarball: `import … from 'wasmformer'` resolves into the
// consumer's node_modules, every .wasm loads from its default location there, the results
// match the plain-JS reference, and the shipped declarations type-check a consumer's .ts
// (nodenext and bundler resolution) — a deliberate type error fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, bin, createConsumer, describeRun, fixtureFiles, installedPackageJson, isInside, lastJson, pack, referenceSmoke, smokeProblems, autoBuild, type Consumer, type Packed, type RunResult, type SmokeResult } from './pack.js';

interface NodeOut {
  resolved: Record<string, { path?: string; exists?: boolean; error?: string }>;
  deepImport: string;
  defaults: Record<string, string>;
  runs: Record<string, SmokeResult & { error?: string }>;
}

let packed: Packed;
let consumer: Consumer;
let want: SmokeResult;
let flagged: Promise<RunResult>;

beforeAll(async () => {
  packed = await pack();
  consumer = await createConsumer(packed, 'node', fixtureFiles('node'));
  want = await referenceSmoke();
  // Started here so the slow type checks below overlap with it.
  flagged = consumer.run('node', ['--experimental-wasm-relaxed-simd', 'smoke-node.mjs', 'auto', 'simd', 'relaxed', 'threads'], { timeoutMs: 60_000 });
}, 120_000);

afterAll(() => {
  consumer?.cleanup();
  packed?.cleanup();
});

describe('Node ESM consumer', () => {
  it('resolves wasmformer, its .wasm exports and package.json inside the consumer, and nothing else', async () => {
    const r = await flagged;
    const out = lastJson<NodeOut>(r);
    for (const [specifier, where] of Object.entries(out.resolved)) {
      expect(where.error, specifier).toBeUndefined();
      expect(isInside(where.path!, consumer.pkgDir), `${specifier} → ${where.path}`).toBe(true);
      expect(where.exists, `${specifier} → ${where.path} exists`).toBe(true);
    }
    expect(Object.keys(out.resolved)).toHaveLength(5);
    // Internals stay private: the exports map blocks deep imports.
    expect(out.deepImport).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    for (const v of ['simd', 'relaxed', 'threads']) {
      expect(out.defaults[v]).toBe(`${consumer.pkgDir}/build/wasmformer-${v}.wasm`);
    }
  }, 90_000);

  it('createRuntime() with no options loads each variant from node_modules/wasmformer/build and computes the reference results', async () => {
    const r = await flagged;
    expect(r.code, describeRun('node smoke-node.mjs', r)).toBe(0);
    const { runs } = lastJson<NodeOut>(r);
    expect(smokeProblems(runs.auto, want, autoBuild('relaxed')), runs.auto?.error).toEqual([]);
    expect(smokeProblems(runs.simd, want, 'simd'), runs.simd?.error).toEqual([]);
    expect(smokeProblems(runs.relaxed, want, 'relaxed'), runs.relaxed?.error).toEqual([]);
    expect(smokeProblems(runs.threads, want, 'threads'), runs.threads?.error).toEqual([]);
  }, 90_000);

  it('without --experimental-wasm-relaxed-simd, auto falls back to simd and says why', async () => {
    const r = await consumer.run('node', ['smoke-node.mjs', 'auto'], { timeoutMs: 60_000 });
    expect(r.code, describeRun('node smoke-node.mjs auto', r)).toBe(0);
    const auto = lastJson<NodeOut>(r).runs.auto!;
    expect(smokeProblems(auto, want, autoBuild('simd')), auto.error).toEqual([]);
    expect(auto.notes.join('\n')).toMatch(/relaxed.*--experimental-wasm-relaxed-simd/);
  }, 90_000);

  it('the shipped declarations type-check a consumer (nodenext and bundler resolution); a type error fails', async () => {
    const tsc = bin('tsc');
    const [nodenext, bundler] = await Promise.all([
      consumer.run(tsc, ['-p', 'tsconfig.json', '--listFiles', '--pretty', 'false'], { timeoutMs: 90_000 }),
      consumer.run(tsc, ['-p', 'tsconfig.bundler.json', '--pretty', 'false'], { timeoutMs: 90_000 }),
    ]);
    // bundler: good.ts alone, no errors.
    expect(bundler.code, describeRun('tsc -p tsconfig.bundler.json', bundler)).toBe(0);
    // nodenext: good.ts + bad.ts; exactly bad.ts's three errors.
    const errors = nodenext.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
    expect(nodenext.code, describeRun('tsc -p tsconfig.json', nodenext)).toBe(2);
    expect(errors.map((l) => l.match(/^(\S+)\((\d+),\d+\): error (TS\d+)/)?.slice(1).join(' ')), describeRun('tsc', nodenext)).toEqual([
      'bad.ts 4 TS2322',
      'bad.ts 5 TS2322',
      'bad.ts 6 TS2322',
    ]);
    // The declarations came from the installed package (its exports' `types`), not from the repo.
    const files = nodenext.stdout.split('\n').filter((l) => l.endsWith('.d.ts') && !l.includes('/typescript/lib/'));
    expect(files).toContain(`${consumer.pkgDir}/dist/index.d.ts`);
    expect(files.filter((f) => !isInside(f, consumer.pkgDir))).toEqual([]);
  }, 120_000);

  it("require('wasmformer') from CommonJS loads the ES module (exports' `default` condition, Node's require(esm))", async () => {
    const dot = installedPackageJson(consumer).exports['.'] as Record<string, string>;
    expect(Object.keys(dot)).toEqual(['types', 'import', 'default']);
    const r = await consumer.run('node', ['require.cjs'], { timeoutMs: 30_000 });
    expect(r.code, describeRun('node require.cjs', r)).toBe(0);
    // Node 20.19+ loads the ES module through require(esm) (the library has no top-level await).
    expect(lastJson<{ loaded?: string; code?: string; message?: string }>(r)).toEqual({ loaded: 'function' });
  }, 60_000);

  it('the wasmformer command runs through npx from the installed package: help, a generation, and mistakes in one line', async () => {
    const help = await consumer.run('npx', ['--no-install', 'wasmformer', '--help'], { timeoutMs: 60_000 });
    expect(help.code, describeRun('npx wasmformer --help', help)).toBe(0);
    expect(help.stdout).toMatch(/^usage: wasmformer/);
    const tiny = `${REPO}/test/fixtures/pretrained/tiny-gpt2`;
    const gen = await consumer.run('npx', ['--no-install', 'wasmformer', 'generate', tiny, 'the fox', '--max-new-tokens', '8', '--temperature=0'], { timeoutMs: 60_000 });
    expect(gen.code, describeRun('npx wasmformer generate', gen)).toBe(0);
    expect(gen.stdout.length).toBeGreaterThan(1);
    const bad = await consumer.run('npx', ['--no-install', 'wasmformer', 'generate', 'no/such/model'], { timeoutMs: 60_000 });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe("wasmformer: 'no/such/model' does not exist; give a model folder (config.json + model.safetensors), a URL, or a .safetensors file written by wasmformer");
  }, 120_000);
});
