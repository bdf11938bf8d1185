// ONNX Runtime Web sessions for the peer benchmarks: the wasm backend with SIMD and N threads
// (worker_threads), a single-MatMul model, and the GPT-2 model of gpt2-onnx.ts with helpers to
// run a prefill (P = 0) and one decode step from a KV cache. Used by ort-child.ts and the check.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import * as ort from 'onnxruntime-web';
import { encodeModel, join, FLOAT } from './onnx.js';
import { gpt2Onnx, gpt2Weights, type GPT2Config } from './gpt2-onnx.js';
import { randomNormal } from './lib.js';

export { ort };

/** Fixes the thread count for this process (ORT reads it once, at the first session). */
export function configureOrt(threads: number): void {
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  ort.env.logLevel = 'error';
}

const options: ort.InferenceSession.SessionOptions = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };

/**
 * A session computing Y (M, N) = op(A) (M, K) · op(B) (K, N), with B a weight (an initializer, so
 * ORT may pre-pack it at session creation) and A the input fed on every run. Plain A·B is one
 * MatMul node; a transposed form is one Gemm node (transA / transB; B stored (N, K) with transB,
 * as the tied GPT-2 head is, A stored (K, M) with transA).
 */
export async function matmulSession(k: number, n: number, trans: { transA?: boolean; transB?: boolean } = {}): Promise<ort.InferenceSession> {
  const { transA = false, transB = false } = trans;
  const node = transA || transB
    ? { op: 'Gemm', inputs: ['A', 'B'], outputs: ['Y'], attrs: { transA: { i: transA ? 1 : 0 }, transB: { i: transB ? 1 : 0 } } }
    : { op: 'MatMul', inputs: ['A', 'B'], outputs: ['Y'] };
  const bytes = join(encodeModel({
    name: 'matmul',
    nodes: [node],
    initializers: [{ name: 'B', dims: transB ? [n, k] : [k, n], data: randomNormal(k * n, 2) }],
    inputs: [{ name: 'A', type: FLOAT, dims: transA ? [k, 'M'] : ['M', k] }],
    outputs: [{ name: 'Y', type: FLOAT, dims: ['M', n] }],
  }, { '': 20 }));
  return ort.InferenceSession.create(bytes, options);
}

export interface Gpt2Session {
  config: GPT2Config;
  session: ort.InferenceSession;
  /** Milliseconds to get the ONNX bytes (generated, or read from the cache file) and in InferenceSession.create. */
  buildMs: number;
  createMs: number;
  /** Whether the bytes came from the cache file. */
  cached: boolean;
}

/**
 * The model's ONNX bytes, cached under os.tmpdir()/wasmformer-peers/ by a hash of the config and
 * of the sources that generate it (GPT-2 small: 0.5 GB, 7–9 s to generate, about 1.3 s to read here).
 */
function gpt2Bytes(config: GPT2Config): { bytes: Uint8Array; cached: boolean } {
  const hash = createHash('sha256').update(JSON.stringify(config));
  for (const f of ['onnx.ts', 'gpt2-onnx.ts', 'lib.ts']) hash.update(readFileSync(new URL(f, import.meta.url)));
  const dir = joinPath(tmpdir(), 'wasmformer-peers');
  const prefix = `gpt2-L${config.layers}-d${config.d}-V${config.vocab}-`;
  const file = joinPath(dir, `${prefix}${hash.digest('hex').slice(0, 16)}.onnx`);
  if (existsSync(file)) return { bytes: readFileSync(file), cached: true };
  const bytes = join(gpt2Onnx(config, gpt2Weights(config)));
  mkdirSync(dir, { recursive: true });
  for (const old of readdirSync(dir)) if (old.startsWith(prefix)) rmSync(joinPath(dir, old)); // stale versions of this config
  writeFileSync(`${file}.${process.pid}`, bytes);
  renameSync(`${file}.${process.pid}`, file);
  return { bytes, cached: false };
}

export async function gpt2Session(config: GPT2Config): Promise<Gpt2Session> {
  const t0 = performance.now();
  const { bytes, cached } = gpt2Bytes(config);
  const t1 = performance.now();
  const session = await ort.InferenceSession.create(bytes, options);
  return { config, session, buildMs: t1 - t0, createMs: performance.now() - t1, cached };
}

export type Cache = ort.Tensor[][]; // [layer] → [key, value], each (1, H, P, hs)

export interface Step { logits: Float32Array; cache: Cache }

/** Runs `tokens` after `cache` (an empty cache for a prefill). Logits are (S, V). */
export async function gpt2Run(s: Gpt2Session, tokens: number[], cache?: Cache): Promise<Step> {
  const { layers, heads, d } = s.config;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens.map(BigInt)), [1, tokens.length]),
  };
  const empty = new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, d / heads]);
  for (let l = 0; l < layers; l++) {
    feeds[`past_key_${l}`] = cache?.[l]![0] ?? empty;
    feeds[`past_value_${l}`] = cache?.[l]![1] ?? empty;
  }
  const out = await s.session.run(feeds);
  const next: Cache = [];
  for (let l = 0; l < layers; l++) next.push([out[`present_key_${l}`]!, out[`present_value_${l}`]!]);
  return { logits: out.logits!.data as Float32Array, cache: next };
}
