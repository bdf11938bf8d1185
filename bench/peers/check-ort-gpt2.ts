// Checks the ONNX GPT-2 graph (gpt2-onnx.ts) on a tiny config against a plain-JS forward, and
// that decoding with the KV cache reproduces the prefill logits at the same position; also
// checks the single-MatMul model. Exits non-zero on a mismatch.
//   node --experimental-wasm-relaxed-simd --import tsx bench/peers/check-ort-gpt2.ts [threads]
import { configureOrt, gpt2Run, gpt2Session, matmulSession, ort } from './ort-session.js';
import { gpt2Weights, type GPT2Config, type Weights } from './gpt2-onnx.js';
import { randomNormal } from './lib.js';

/** out (rows, n) = inp (rows, k) · w (k, n) + b. */
function linear(inp: Float32Array, rows: number, k: number, w: Float32Array, b: Float32Array | null, n: number): Float32Array {
  const out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < n; j++) {
      let s = b ? b[j]! : 0;
      for (let i = 0; i < k; i++) s += inp[r * k + i]! * w[i * n + j]!;
      out[r * n + j] = s;
    }
  return out;
}

function layernorm(x: Float32Array, rows: number, d: number, g: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) {
    let mean = 0, v = 0;
    for (let i = 0; i < d; i++) mean += x[r * d + i]! / d;
    for (let i = 0; i < d; i++) v += (x[r * d + i]! - mean) ** 2 / d;
    const rstd = 1 / Math.sqrt(v + 1e-5);
    for (let i = 0; i < d; i++) out[r * d + i] = (x[r * d + i]! - mean) * rstd * g[i]! + b[i]!;
  }
  return out;
}

const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** Logits (T, V) of GPT-2 over `tokens` at positions 0..T-1, causal. */
function referenceLogits(c: GPT2Config, w: Weights, tokens: number[]): Float32Array {
  const W = (name: string) => w.get(name)!.data;
  const T = tokens.length, d = c.d, H = c.heads, hs = d / H;
  let x = new Float32Array(T * d);
  tokens.forEach((tok, t) => {
    for (let i = 0; i < d; i++) x[t * d + i] = W('wte')[tok * d + i]! + W('wpe')[t * d + i]!;
  });
  for (let l = 0; l < c.layers; l++) {
    const p = `h${l}`;
    const qkv = linear(layernorm(x, T, d, W(`${p}.ln1.g`), W(`${p}.ln1.b`)), T, d, W(`${p}.attn.w`), W(`${p}.attn.b`), 3 * d);
    const att = new Float32Array(T * d);
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++) {
        const scores = [];
        for (let u = 0; u <= t; u++) {
          let s = 0;
          for (let i = 0; i < hs; i++) s += qkv[t * 3 * d + h * hs + i]! * qkv[u * 3 * d + d + h * hs + i]!;
          scores.push(s / Math.sqrt(hs));
        }
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const sum = e.reduce((a, b) => a + b, 0);
        for (let u = 0; u <= t; u++)
          for (let i = 0; i < hs; i++) att[t * d + h * hs + i]! += (e[u]! / sum) * qkv[u * 3 * d + 2 * d + h * hs + i]!;
      }
    const proj = linear(att, T, d, W(`${p}.proj.w`), W(`${p}.proj.b`), d);
    x = x.map((v, i) => v + proj[i]!);
    const f = linear(layernorm(x, T, d, W(`${p}.ln2.g`), W(`${p}.ln2.b`)), T, d, W(`${p}.fc.w`), W(`${p}.fc.b`), c.dFF).map(gelu);
    const out = linear(f, T, c.dFF, W(`${p}.out.w`), W(`${p}.out.b`), d);
    x = x.map((v, i) => v + out[i]!);
  }
  const xf = layernorm(x, T, d, W('lnf.g'), W('lnf.b'));
  const wte = W('wte'), logits = new Float32Array(T * c.vocab);
  for (let t = 0; t < T; t++)
    for (let v = 0; v < c.vocab; v++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += xf[t * d + i]! * wte[v * d + i]!;
      logits[t * c.vocab + v] = s;
    }
  return logits;
}

let failed = false;
function expectClose(what: string, got: Float32Array, want: Float32Array, tol: number): void {
  let worst = 0, at = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    if (!(e <= worst)) { worst = e; at = i; }
  }
  const ok = got.length === want.length && worst <= tol;
  if (!ok) failed = true;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}: max |diff| ${worst.toExponential(2)} at ${at} (got ${got[at]}, want ${want[at]}), tol ${tol}, ${want.length} values`);
}

configureOrt(Number(process.argv[2] ?? 1));

// 1. MatMul: Y = A · B against three loops.
{
  const [m, k, n] = [7, 33, 19];
  const session = await matmulSession(k, n);
  const A = randomNormal(m * k, 3);
  const out = await session.run({ A: new ort.Tensor('float32', A, [m, k]) });
  const B = randomNormal(k * n, 2); // the weight matmulSession built
  expectClose('MatMul 7x33x19', out.Y!.data as Float32Array, linear(A, m, k, B, null, n), 1e-4);
}

// 2. Tiny GPT-2: prefill against the reference; decode with the cache against the prefill.
const config: GPT2Config = { vocab: 100, layers: 2, heads: 4, d: 64, dFF: 256, nPositions: 32, std: 0.2, seed: 7 };
const s = await gpt2Session(config);
const tokens = Array.from({ length: 12 }, (_, i) => (i * 37 + 11) % config.vocab);
const want = referenceLogits(config, gpt2Weights(config), tokens);
const prefill = await gpt2Run(s, tokens);
expectClose('prefill logits (12 tokens) vs plain JS', prefill.logits, want, 1e-4);
const head = await gpt2Run(s, tokens.slice(0, 8));
let cache = head.cache;
for (let t = 8; t < tokens.length; t++) {
  const step = await gpt2Run(s, [tokens[t]!], cache);
  const V = config.vocab;
  expectClose(`decode at position ${t} (cache of ${t}) vs prefill`, step.logits, prefill.logits.subarray(t * V, (t + 1) * V), 1e-4);
  cache = step.cache;
}
const dims = cache[0]![0]!.dims;
if (dims.join() !== `1,${config.heads},${tokens.length},${config.d / config.heads}`) {
  failed = true;
  console.log(`FAIL present_key_0 dims ${dims.join()}`);
}
process.exit(failed ? 1 : 0);
