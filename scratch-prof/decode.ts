// Where a GPT-2-small decode step spends its time: every kernel call timed (wall), by name.
import { GPT, createRuntime, generateTokens } from '../src/index.js';
import { GPT2_SMALL } from '../bench/gpt2.bench.js';
const threads = Number(process.argv[2] ?? 1);
const rt = await createRuntime({ threads });
const model = new GPT(rt, GPT2_SMALL, { seed: 1 });
const prompt = Array.from({ length: 128 }, (_, i) => (i * 7919 + 13) % 50257);
const k = rt.kernels as unknown as Record<string, (...a: number[]) => void>;
const times = new Map<string, { ms: number; n: number }>();
let on = false;
for (const name of Object.keys(k)) {
  const f = k[name]!;
  if (typeof f !== 'function') continue;
  k[name] = (...a: number[]) => {
    if (!on) return f(...a);
    const t0 = performance.now();
    f(...a);
    const e = times.get(name) ?? { ms: 0, n: 0 };
    e.ms += performance.now() - t0; e.n++;
    times.set(name, e);
  };
}
const run = (n: number) => {
  let first = 0, count = -1;
  for (const _ of generateTokens(model, prompt, { maxNewTokens: n + 1, temperature: 0 })) {
    if (++count === 0) { first = performance.now(); on = true; }
  }
  on = false;
  return { ms: (performance.now() - first) / count, count };
};
run(4);
times.clear();
const r = run(32);
let total = 0;
for (const [name, e] of [...times].sort((a, b) => b[1].ms - a[1].ms)) { total += e.ms; console.log(name.padEnd(28), (e.ms / r.count).toFixed(3), 'ms/token', (e.n / r.count).toFixed(1), 'calls/token'); }
console.log('kernels', (total / r.count).toFixed(2), 'ms/token; whole step', r.ms.toFixed(2), 'ms/token');
rt.dispose();
