// The runtime suite: one body of checks that runs unchanged in Node, Deno, Bun, Chromium and
// Cloudflare workerd. It imports nothing but the library and the runtime-neutral kernel
// samples (no Node modules, no test framework), so esbuild bundles it into one ES module that
// every runtime can load; each runtime's runner passes the wasm sources its way (file URLs,
// http URLs, or imported WebAssembly.Modules) and sends the report back to the Node test,
// which compares it with the report of the same suite run in Node (compare.ts).
import { AdamW, BatchSampler, CharTokenizer, createRuntime, detectFeatures, generate, GPT, layernorm, matmul, Rng, softmax, trainStep, WasmLoadError, type Features, type Runtime, type WasmSource, type WasmVariant } from '../../src/index.js';
import { KERNELS, type KernelName } from '../../src/wasm/abi.js';
import { callSample, sampleMismatch, SAMPLE_RTOL } from '../helpers/kernel-samples.js';

/** What a runner passes in. */
export interface SuiteInput {
  /** Name of the runtime, for messages ('node', 'deno', 'bun', 'chromium', 'workerd'). */
  runtime: string;
  /** Wasm sources by variant; the suite runs every variant given (simd is required). */
  wasm: { simd: WasmSource } & Partial<Record<WasmVariant, WasmSource>>;
  /** A source that does not exist (a URL of a missing .wasm), to check the error; omit where there is none. */
  missing?: WasmSource;
}

/** One pass/fail check with the numbers behind it. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Per-variant results of the model-level runs. */
export interface VariantReport {
  backend: string;
  /** Fingerprint (FNV-1a over the f32 bits) of every kernel sample's outputs: equal bits ⇔ equal fingerprints. */
  kernelDigests: Record<string, string>;
  /** Training losses of the tiny GPT, step by step, and their f32 bit patterns (hex). */
  losses: number[];
  lossBits: string[];
  /** Greedy and seeded-sampling continuations of a fixed prompt by the trained model. */
  greedy: number[];
  sampled: number[];
}

export interface SuiteReport {
  runtime: string;
  features: Features;
  /** `Runtime.backend`, `fallback` and `notes` of `createRuntime({ variant: 'threads' })`, or its error. */
  threads: { backend: string | null; fallback: string | null; error: string | null };
  /** What `createRuntime({ wasm })` (no variant: what a user gets) chose here, and its notes (why not something better). */
  auto: { backend: string | null; notes: string[]; error: string | null };
  variants: Partial<Record<WasmVariant, VariantReport>>;
  checks: Check[];
  ms: number;
}

/** 32-bit FNV-1a over the bit patterns of `arrays`, as 8 hex digits. */
export function digest(arrays: readonly Float32Array[]): string {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const words = new Uint32Array(a.buffer, a.byteOffset, a.length);
    for (let i = 0; i < words.length; i++) {
      let w = words[i]!;
      for (let b = 0; b < 4; b++) {
        h = Math.imul(h ^ (w & 0xff), 0x01000193);
        w >>>= 8;
      }
    }
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** The f32 bit pattern of `x` as 8 hex digits. */
export function f32Bits(x: number): string {
  const f = new Float32Array([x]);
  return new Uint32Array(f.buffer)[0]!.toString(16).padStart(8, '0');
}

function kernelChecks(wasm: Runtime, js: Runtime, checks: Check[]): Record<string, string> {
  const digests: Record<string, string> = {};
  const bad: string[] = [];
  for (const name of Object.keys(KERNELS) as KernelName[]) {
    const a = callSample(wasm, name, 1);
    digests[name] = digest(a);
    const mismatch = sampleMismatch(a, callSample(js, name, 1));
    if (mismatch) bad.push(`${name} ${mismatch} (wasm vs js)`);
  }
  checks.push({
    name: `${wasm.backend}: every kernel (${Object.keys(KERNELS).length}) agrees with its JS twin on its sample`,
    ok: bad.length === 0,
    detail: bad.length ? bad.join('; ') : `all within ${SAMPLE_RTOL} relative`,
  });
  return digests;
}

/**
 * A GEMM with ragged edges (67×53 by 71 inner) against the JS twin, element by element within
 * the standard forward-error bound of a length-k dot product in f32: each side is within
 * γ_k·Σ|a||b| of the exact value, γ_k = k·u/(1 − k·u), u = 2^-24, so the two differ by at
 * most 2γ_k·Σ|a||b|. Fused multiply-add only makes each side more accurate.
 */
function gemmCheck(wasm: Runtime, js: Runtime, checks: Check[]): void {
  const [m, k, n] = [67, 71, 53];
  const rngA = new Rng(11);
  const av = Array.from({ length: m * k }, () => rngA.uniform() * 2 - 1);
  const bv = Array.from({ length: k * n }, () => rngA.uniform() * 2 - 1);
  const run = (rt: Runtime) => {
    rt.step.reset();
    return matmul(rt, rt.tensor(av, [m, k], { arena: 'step' }), rt.tensor(bv, [k, n], { arena: 'step' })).toArray();
  };
  const c = run(wasm);
  const r = run(js);
  const u = 2 ** -24;
  const gamma = (k * u) / (1 - k * u);
  let worst = 0;
  let where = '';
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let absSum = 0;
      for (let p = 0; p < k; p++) absSum += Math.abs(av[i * k + p]! * bv[p * n + j]!);
      const ratio = Math.abs(c[i * n + j]! - r[i * n + j]!) / (2 * gamma * absSum);
      if (ratio > worst) { worst = ratio; where = `[${i}, ${j}]`; }
    }
  }
  checks.push({
    name: `${wasm.backend}: 67×71 · 71×53 GEMM agrees with its JS twin within 2γ_k·Σ|a||b|`,
    ok: worst <= 1,
    detail: `largest error ${(worst * 100).toFixed(2)}% of the bound${where ? ` at ${where}` : ''}`,
  });
}

/**
 * A threaded runtime splits big calls across its workers: a GEMM, a causal softmax and a layernorm
 * large enough to be split give the same bits as on one thread (`single`), and the workers ran tasks.
 */
function splitCheck(rt: Runtime, single: Runtime, checks: Check[]): void {
  const run = (r: Runtime) => {
    r.step.reset();
    const a = r.randn([300, 200], { seed: 1, arena: 'step' }), b = r.randn([200, 300], { seed: 2, arena: 'step' });
    const c = matmul(r, a, b, { transB: false });
    const p = softmax(r, r.randn([8, 128, 128], { seed: 3, arena: 'step' }), { causal: true, scale: 0.3 });
    const x = r.randn([1024, 128], { seed: 4, arena: 'step' });
    const ln = layernorm(r, x, r.randn([128], { seed: 5, arena: 'step' }), r.randn([128], { seed: 6, arena: 'step' }));
    return digest([c.f32(), p.f32(), ln.out.f32()]);
  };
  const before = rt.threadStats.tasks[1] ?? 0;
  const [mine, theirs] = [run(rt), run(single)];
  const taken = (rt.threadStats.tasks[1] ?? 0) - before;
  checks.push({
    name: `${rt.backend}: calls split across ${rt.threads} threads give the bits of one thread`,
    ok: mine === theirs && rt.threads > 1 && taken > 0,
    detail: `${rt.threads} threads, worker 1 ran ${taken} tasks; digests ${mine} vs ${theirs}`,
  });
}

/** Text the tiny GPT learns (embedded: every runtime has it). */
export const SUITE_TEXT =
  'It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife. ' +
  'However little known the feelings or views of such a man may be on his first entering a neighbourhood, this truth is so ' +
  'well fixed in the minds of the surrounding families, that he is considered as the rightful property of some one or other of their daughters. ';

/** Steps of the tiny training run. */
export const SUITE_STEPS = 40;

/**
 * Trains a tiny GPT (2 layers, d 32, dropout on) for SUITE_STEPS AdamW steps from seeded
 * weights and seeded batches, then continues a prompt greedily and by seeded sampling.
 */
function tinyGpt(rt: Runtime): Pick<VariantReport, 'losses' | 'lossBits' | 'greedy' | 'sampled'> {
  const { model, tok, losses } = tinyTraining(rt, SUITE_STEPS);
  model.eval();
  const prompt = tok.encode('It is a ');
  const greedy = [...generate(model, prompt, { maxNewTokens: 24, temperature: 0 })];
  const sampled = [...generate(model, prompt, { maxNewTokens: 24, temperature: 0.9, topK: 12, seed: 42 })];
  rt.step.reset();
  return { losses, lossBits: losses.map(f32Bits), greedy, sampled };
}

/** The losses of the first `steps` steps of the suite's training run (for runtimes too slow for all of it). */
export function tinyLosses(rt: Runtime, steps: number): number[] {
  return tinyTraining(rt, steps).losses;
}

function tinyTraining(rt: Runtime, steps: number): { model: GPT; tok: CharTokenizer; losses: number[] } {
  const tok = CharTokenizer.fromText(SUITE_TEXT);
  const model = new GPT(rt, { vocabSize: tok.vocabSize, blockSize: 16, nLayer: 2, nHead: 2, dModel: 32, dropout: 0.1 }, { seed: 3 });
  const opt = new AdamW(model.params, { betas: [0.9, 0.99], weightDecay: 0.1 });
  const [B, T] = [4, 16];
  const sampler = new BatchSampler(tok.encode(SUITE_TEXT), B, T, 5);
  const x = new Int32Array(B * T);
  const y = new Int32Array(B * T);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    sampler.next(x, y);
    const { loss } = trainStep(model, opt, () => {
      const idx = rt.tensor(x, [B, T], { dtype: 'i32', arena: 'step' });
      const targets = rt.tensor(y, [B, T], { dtype: 'i32', arena: 'step' });
      return model.forward(idx, targets).loss!;
    }, { step, lr: 5e-3, clip: 1 });
    losses.push(loss);
  }
  return { model, tok, losses };
}

async function attempt<T>(what: string, checks: Check[], fn: () => Promise<T> | T): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    // V8's stack starts with the message; SpiderMonkey's and JavaScriptCore's are only the frames.
    const e = err as Error;
    const stack = e?.stack ?? '';
    checks.push({ name: what, ok: false, detail: `threw ${stack.includes(String(e?.message)) ? stack : `${String(e?.name ?? 'Error')}: ${String(e?.message ?? err)}\n${stack}`}` });
    return undefined;
  }
}

/**
 * Runs every check in this runtime and returns the report (it never throws: failures are
 * checks with `ok: false`, so a runner can always send the report home).
 */
export async function runSuite(input: SuiteInput): Promise<SuiteReport> {
  const t0 = performance.now();
  const checks: Check[] = [];
  const features = detectFeatures();
  const variants: SuiteReport['variants'] = {};
  const js = await createRuntime({ variant: 'js' });
  for (const variant of ['simd', 'relaxed', 'threads'] as const) {
    const source = input.wasm[variant];
    if (source === undefined) continue;
    if (variant === 'relaxed' && !features.relaxedSimd) continue;
    if (variant === 'threads' && !(features.sharedMemory && features.workers)) continue;
    const rt = await attempt(`${variant}: createRuntime`, checks, () => createRuntime({ variant, wasm: { [variant]: source } }));
    if (!rt) continue;
    const digests = await attempt(`${variant}: kernels`, checks, () => {
      const d = kernelChecks(rt, js, checks);
      gemmCheck(rt, js, checks);
      return d;
    });
    if (variant === 'threads' && input.wasm.simd !== undefined) {
      const single = await createRuntime({ variant: 'simd', wasm: { simd: input.wasm.simd } });
      await attempt('threads: split calls', checks, () => splitCheck(rt, single, checks));
    }
    const model = await attempt(`${variant}: tiny GPT`, checks, () => tinyGpt(rt));
    if (digests && model) variants[variant] = { backend: rt.backend, kernelDigests: digests, ...model };
  }

  let threads: SuiteReport['threads'] = { backend: null, fallback: null, error: null };
  try {
    const wasm = { ...input.wasm };
    const rt = await createRuntime({ variant: 'threads', wasm });
    threads = { backend: rt.backend, fallback: rt.fallback, error: null };
  } catch (err) {
    threads.error = (err as Error).message;
  }

  let auto: SuiteReport['auto'] = { backend: null, notes: [], error: null };
  try {
    const rt = await createRuntime({ wasm: { ...input.wasm } });
    auto = { backend: rt.backend, notes: [...rt.notes], error: null };
    rt.dispose(); // its worker threads, if any, end here
  } catch (err) {
    auto.error = (err as Error).message;
  }

  const none = await createRuntime({ features: { simd: false } });
  checks.push({
    name: 'a runtime without SIMD falls back to the JS kernels and says so',
    ok: none.backend === 'js' && none.notes.some((n) => n.includes('no wasm variant can run here')),
    detail: `backend ${none.backend}; notes: ${none.notes.join(' | ')}`,
  });

  if (input.missing !== undefined) {
    let message = 'no error';
    let typed = false;
    try {
      await createRuntime({ variant: 'simd', wasm: { simd: input.missing } });
    } catch (err) {
      message = (err as Error).message;
      typed = err instanceof WasmLoadError;
    }
    const name = String(input.missing instanceof URL ? input.missing.href : input.missing).split('/').pop()!;
    checks.push({
      name: 'a missing .wasm file gets a WasmLoadError naming the file',
      ok: typed && message.includes(name),
      detail: message,
    });
  }
  return { runtime: input.runtime, features, threads, auto, variants, checks, ms: performance.now() - t0 };
}
