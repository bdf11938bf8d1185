// Many prompts at once: the prompts are left-padded to one length and run as one batch, so a
// decoding step is one (B, 1) forward for all of them. Padded cache positions are masked out
// of attention (probability exactly 0) and each row's positions start at its first real token,
// so row b computes what prompt b alone computes (to f32 rounding: the sums run in another
// order) and samples with the same seed as it would alone. Rows that stop keep their slot
// until the batch ends; their outputs are ignored.
import { ValueError } from '../errors.js';
import { Rng } from '../random.js';
import type { GPT } from '../models/gpt.js';
import { hasPenalties, nextToken, picksInWasm } from './sample.js';
import type { Tensor } from '../tensor.js';
import { checkGenerate, inEval, interrupted, LogitsCopy, now, type GenerateOptions, type StopReason } from './generate.js';

/** One prompt's result. */
export interface BatchResult {
  /** The new ids (the stop token included when one ended it). */
  tokens: Int32Array;
  reason: StopReason;
}

/**
 * Generates from every prompt at once (prompts of any lengths, up to blockSize in all with the
 * new tokens). Each row samples from its own Rng seeded like a single `generate` call, so with
 * the same options a row's tokens are those of its prompt alone (ties of near-equal logits aside).
 * `onToken` is not supported here (use `signal`, `timeLimitMs`, stopTokens).
 * @throws ValueError when a prompt plus maxNewTokens exceeds blockSize (generate() crops; a batch cannot), or for any bad option.
 * @example
 * ```ts
 * const out = generateBatch(model, [tok.encode('Once upon'), tok.encode('The')], { maxNewTokens: 40, temperature: 0.8, seed: 1 });
 * out.map((r) => tok.decode(r.tokens));
 * ```
 */
export function generateBatch(model: GPT, prompts: readonly ArrayLike<number>[], opts: GenerateOptions): BatchResult[] {
  const op = 'generateBatch';
  if (!Array.isArray(prompts) || prompts.length === 0) throw new ValueError(`${op}: prompts is empty; give at least one prompt`);
  prompts.forEach((p) => checkGenerate(op, model, p, opts));
  if (opts.onToken) throw new ValueError(`${op}: onToken is not supported for a batch; use stopTokens, signal or timeLimitMs`);
  if (opts.useCache === false) throw new ValueError(`${op}: a batch always uses the KV cache (useCache: false is for single prompts)`);
  const { blockSize } = model.config;
  const B = prompts.length;
  const L = Math.max(...prompts.map((p) => p.length));
  if (L + opts.maxNewTokens > blockSize) {
    throw new ValueError(`${op}: the longest prompt (${L} tokens) plus maxNewTokens ${opts.maxNewTokens} exceeds blockSize ${blockSize}; lower maxNewTokens, or generate() prompts one by one (it crops the context)`);
  }
  const deadline = opts.timeLimitMs === undefined ? Infinity : now() + opts.timeLimitMs;
  const seed = opts.seed instanceof Rng ? opts.seed.nextU32() : opts.seed ?? 0;
  const rows = prompts.map((p) => ({
    pad: L - p.length, out: [] as number[], reason: null as StopReason | null, rng: new Rng(seed),
    counts: new Map<number, number>(),
  }));
  const penalize = hasPenalties(opts);
  if (penalize) prompts.forEach((p, b) => { for (let i = 0; i < p.length; i++) bump(rows[b]!.counts, p[i]!); });
  const stop = new Set(opts.stopTokens ?? []);
  const rt = model.rt;
  const length = L + opts.maxNewTokens;                 // the cache holds what this call writes, no more
  const caches = model.createCache(B, Math.max(1, length));
  // (B, length) key mask: 1 from each row's first real token on, kept for the whole call
  const mask = rt.zeros([B, Math.max(1, length)], { dtype: 'i32' });
  try {
    const m = mask.i32();
    const width = Math.max(1, length);
    rows.forEach((r, b) => m.fill(1, b * width + r.pad, (b + 1) * width));
    const copy = new LogitsCopy();
    // each running row's next token from the logits (B, 1, V), inside the step that made them: greedy
    // without penalties picks in wasm (greedyToken), the rest sample a copy
    const inWasm = picksInWasm(opts);
    const choose = (logits: Tensor) => {
      const all = inWasm ? null : copy.of(logits.f32());
      return rows.map((r, b) => {
        if (r.reason) return 0;
        const id = nextToken(rt, logits, b, all, opts, r.rng, r.counts);
        r.out.push(id);
        if (penalize) bump(r.counts, id);
        if (stop.has(id)) r.reason = 'stop-token';
        return id;
      });
    };
    const step = (idx: number[], width: number, pos: number, positions: number[]) => inEval(model, () => rt.step.scope(() => {
      const t = (data: number[]) => rt.tensor(data, [B, width], { dtype: 'i32', arena: 'step' });
      return choose(model.forwardCached(t(idx), caches, pos, { lastOnly: true, keyMask: mask, positions: t(positions) }));
    }));
    // the prefill: every prompt left-padded to L (pad id 0, masked), positions from each row's first real token
    const idx: number[] = [], positions: number[] = [];
    prompts.forEach((p, b) => {
      for (let t = 0; t < L; t++) {
        const i = t - rows[b]!.pad;
        idx.push(i >= 0 ? p[i]! : 0);
        positions.push(Math.max(0, i));
      }
    });
    // each step's tokens (chosen as its forward ends), or null when the prefill did not run
    let next = opts.maxNewTokens > 0 && !interrupted(opts, deadline) ? step(idx, L, 0, positions) : null;
    for (let n = 0; next && n < opts.maxNewTokens; n++) {
      if (rows.every((r) => r.reason) || n + 1 === opts.maxNewTokens) break;
      const why = interrupted(opts, deadline);
      if (why) {
        for (const r of rows) r.reason ??= why;
        break;
      }
      next = step(next, 1, L + n, rows.map((r) => L + n - r.pad));
    }
    if (!next) {
      const why = interrupted(opts, deadline) ?? 'length';
      for (const r of rows) r.reason = why;
    }
    return rows.map((r) => ({ tokens: Int32Array.from(r.out), reason: r.reason ?? 'length' }));
  } finally {
    rt.free(mask);
    for (const c of caches) { rt.free(c.k); rt.free(c.v); }
  }
}

function bump(counts: Map<number, number>, id: number): void {
  counts.set(id, (counts.get(id) ?? 0) + 1);
}
