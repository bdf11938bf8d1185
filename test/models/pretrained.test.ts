// loadPretrained on real Hugging Face folders: two tiny models made once with PyTorch
// (test/fixtures/make-pretrained.py: GPT2LMHeadModel in F32 with the old mask buffers,
// BertForMaskedLM in F16 with erf GELU and no pooler) load from a directory, from a sharded
// index and from URLs, and give PyTorch's logits (computed in f64 from the stored weights) to
// f32 accuracy. Every bad folder is a typed error and leaves the runtime's memory as it was.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BERT, CheckpointError, ConfigError, createRuntime, decodeSafetensors, encodeSafetensors, FileError, GPT, hfConfig, loadModel, loadPretrained, T5, type Runtime,
} from '../../src/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/pretrained/', import.meta.url));
const GPT2 = join(FIXTURES, 'tiny-gpt2'), BERT_DIR = join(FIXTURES, 'tiny-bert');
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as {
  gpt2: { ids: number[][]; logits: number[]; shape: number[] };
  bert: { ids: number[][]; tokenTypes: number[][]; logits: number[]; shape: number[] };
};
const rt = await createRuntime({ variant: 'simd', threads: 1 });
const scratch = mkdtempSync(join(tmpdir(), 'wasmformer-pretrained-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const used = (r: Runtime) => r.memoryReport().persistent.usedBytes;
const i32 = (rows: number[][]) => rt.tensor(rows.flat(), [rows.length, rows[0]!.length], { dtype: 'i32', arena: 'step' });
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

// Logits of magnitude ≲ 10 through 2 layers of width ≤ 128 in f32: each dot product errs by
// ≲ K·2^-24·Σ|terms| (K ≤ 128), a few 1e-6 per layer; the tests allow 1e-4 (the bound) and
// print what they measure.
const TOL = 1e-4;

function gptLogits(model: GPT): Float32Array {
  return rt.step.scope(() => rt.tape.noGrad(() => model.forward(i32(expected.gpt2.ids)).logits.f32().slice()));
}

function bertLogits(model: BERT): Float32Array {
  const { ids, tokenTypes } = expected.bert;
  return rt.step.scope(() => rt.tape.noGrad(() => model.mlm(i32(ids), null, {
    tokenTypes: i32(tokenTypes), attentionMask: i32(ids.map((r) => r.map((t) => (t === 0 ? 0 : 1)))),
  }).logits.f32().slice()));
}

/** A fetch over a folder of files: URLs under base map to paths; anything else is a 404. */
function folderFetch(base: string, dir: string, override: Record<string, () => Response> = {}) {
  return async (url: string) => {
    const file = url.slice(base.length);
    if (override[file]) return override[file]!();
    try {
      return new Response(readFileSync(join(dir, file)), { headers: { 'content-type': 'application/octet-stream' } });
    } catch {
      return new Response('not found', { status: 404, statusText: 'Not Found' });
    }
  };
}

describe('loadPretrained: PyTorch-made Hugging Face folders', () => {
  it('GPT2LMHeadModel (F32, mask buffers, vocab.json + merges.txt): PyTorch\'s logits, a BPE tokenizer', async () => {
    const before = used(rt);
    const { model, family, tokenizer, report } = await loadPretrained(rt, GPT2);
    expect(family).toBe('gpt');
    expect(model.ctx.training).toBe(false);
    expect(report.missing).toEqual([]);
    expect(report.ignored.sort()).toEqual(['transformer.h.0.attn.bias', 'transformer.h.1.attn.bias']);
    // an inference model holds its weights only
    expect(used(rt) - before).toBe(4 * model.numParams());
    const got = gptLogits(model as GPT);
    const d = maxDiff(got, expected.gpt2.logits);
    console.log(`tiny GPT-2: max |logit − PyTorch| = ${d.toExponential(2)}`);
    expect(d).toBeLessThan(TOL);
    expect(tokenizer!.vocabSize).toBe(300);
    const text = 'the quick brown fox jumps over the lazy dog';
    const ids = tokenizer!.encode(text);
    expect(ids.length).toBeLessThan(text.length);                   // merges apply
    expect(tokenizer!.decode(ids)).toBe(text);
    expect(tokenizer!.tokenToId('<|endoftext|>')).toBe(299);
    model.dispose();
    expect(used(rt)).toBe(before);
  });

  it('BertForMaskedLM (F16, erf GELU, no pooler, vocab.txt): PyTorch\'s MLM logits with padding and token types', async () => {
    const { model, family, tokenizer, report, config } = await loadPretrained(rt, BERT_DIR, { seed: 3 });
    expect(family).toBe('bert');
    expect(config).toMatchObject({ activation: 'gelu_erf', nLayer: 2, dModel: 32, vocabSize: 64 });
    expect(report.missing.sort()).toEqual(['bert.pooler.dense.bias', 'bert.pooler.dense.weight', 'classifier.bias', 'classifier.weight']);
    expect(report.ignored).toEqual(['bert.embeddings.position_ids']);
    const got = bertLogits(model as BERT);
    expect(got.length).toBe(expected.bert.logits.length);
    const d = maxDiff(got, expected.bert.logits);
    console.log(`tiny BERT: max |logit − PyTorch| = ${d.toExponential(2)}`);
    expect(d).toBeLessThan(TOL);
    // the same weights with the tanh GELU are measurably off: the option matters
    const wrong = loadModel(rt, readFileSync(join(BERT_DIR, 'model.safetensors')), { family: 'bert', config: { ...config, activation: 'gelu' }, seed: 3 });
    const off = maxDiff(bertLogits(wrong.model as BERT), expected.bert.logits);
    console.log(`tiny BERT with the tanh GELU instead: ${off.toExponential(2)}`);
    expect(off).toBeGreaterThan(10 * d);
    // the uncased WordPiece of vocab.txt + tokenizer_config.json gives the fixture's ids
    expect(Array.from(tokenizer!.encode('The quick FOX jumps', { addSpecialTokens: true }))).toEqual(expected.bert.ids[0]);
    model.dispose();
    wrong.model.dispose();
  });

  it('a sharded folder (model.safetensors.index.json) loads the same weights', async () => {
    const dir = join(scratch, 'sharded');
    cpSync(GPT2, dir, { recursive: true });
    rmSync(join(dir, 'model.safetensors'));
    const file = decodeSafetensors(readFileSync(join(GPT2, 'model.safetensors')));
    const names = [...file.tensors.keys()];
    const shard = (part: string[]) => encodeSafetensors(Object.fromEntries(part.map((n) => {
      const t = file.tensors.get(n)!;
      return [n, { dtype: 'F32' as const, shape: t.shape, data: t.data as Float32Array }];
    })));
    const half = Math.floor(names.length / 2);
    writeFileSync(join(dir, 'model-00001-of-00002.safetensors'), shard(names.slice(0, half)));
    writeFileSync(join(dir, 'model-00002-of-00002.safetensors'), shard(names.slice(half)));
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({
      metadata: {}, weight_map: Object.fromEntries(names.map((n, i) => [n, `model-0000${i < half ? 1 : 2}-of-00002.safetensors`])),
    }));
    const { model } = await loadPretrained(rt, dir);
    expect(maxDiff(gptLogits(model as GPT), expected.gpt2.logits)).toBeLessThan(TOL);
    model.dispose();
  });

  it('a base URL, through fetch: the same model; a 404 or an HTML page is a FileError naming the URL', async () => {
    const base = 'https://models.example/tiny-gpt2/';
    const { model } = await loadPretrained(rt, base, { fetch: folderFetch(base, GPT2) });
    expect(maxDiff(gptLogits(model as GPT), expected.gpt2.logits)).toBeLessThan(TOL);
    model.dispose();
    const before = used(rt);
    await expect(loadPretrained(rt, 'https://models.example/nothing', { fetch: folderFetch('https://models.example/nothing/', join(scratch, 'none')) }))
      .rejects.toThrow(/https:\/\/models.example\/nothing\/ has no config.json/);
    const html = folderFetch(base, GPT2, { 'model.safetensors': () => new Response('<html>sign in</html>', { headers: { 'content-type': 'text/html; charset=utf-8' } }) });
    await expect(loadPretrained(rt, base, { fetch: html })).rejects.toThrow(FileError);
    await expect(loadPretrained(rt, base, { fetch: html })).rejects.toThrow(/model.safetensors': the server answered with an HTML page/);
    const broken = folderFetch(base, GPT2, { 'model.safetensors': () => new Response('boom', { status: 500, statusText: 'Internal Server Error' }) });
    await expect(loadPretrained(rt, base, { fetch: broken })).rejects.toThrow(/HTTP 500 Internal Server Error/);
    expect(used(rt)).toBe(before);
  });
});

describe('loadPretrained: T5 (T5ForConditionalGeneration layout)', () => {
  // A folder as transformers writes one: hfConfig's config.json (with fields we do not read) and
  // every weight under its Hugging Face name, plus the tied copies encoder/decoder.embed_tokens
  // that older checkpoints store beside shared.weight. The T5 built from it computes the same
  // logits, bit for bit (same weights, same arithmetic).
  const write = (dir: string, model: T5, extra: Record<string, unknown> = {}) => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...hfConfig(model), is_gated_act: false, use_cache: true, ...extra }));
    const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    for (const p of model.params.list()) tensors[p.name] = { dtype: 'F32', shape: [...p.spec.shape], data: p.value.f32().slice() };
    for (const copy of ['encoder.embed_tokens.weight', 'decoder.embed_tokens.weight']) tensors[copy] = tensors['shared.weight']!;
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(tensors));
  };
  const cfg = { vocabSize: 40, nLayer: 2, nDecoderLayer: 1, nHead: 2, dModel: 16, dFF: 24, dropout: 0, padId: 0, eosId: 1, decoderStartId: 0, relBuckets: 8, relMaxDistance: 20 };

  it('loads tied and untied, relu, gelu and gated-gelu (T5 v1.1, Flan-T5: wi_0, wi_1), any d_kv, ignoring the tied copies; the same logits', async () => {
    // the last as t5-v1_1-small and flan-t5-small are shaped: untied, gated-gelu, d_kv · heads (2 × 12) ≠ d_model (16)
    for (const [tie, ff, dKv] of [[true, 'relu', 8], [false, 'gelu', 8], [false, 'gated-gelu', 12]] as const) {
      const m = new T5(rt, { ...cfg, tieWordEmbeddings: tie, feedForward: ff, dKv }, { seed: 3 });
      if (ff === 'gated-gelu') expect(m.params.get('decoder.block.0.layer.2.DenseReluDense.wi_1.weight')?.spec.shape).toEqual([24, 16]);
      const dir = join(scratch, `t5-${tie}-${ff}`);
      write(dir, m);
      const { model, family, report, tokenizer } = await loadPretrained(rt, dir, { tokenizer: false });
      expect([family, tokenizer, report.missing]).toEqual(['t5', null, []]);
      expect(report.ignored.sort()).toEqual(['decoder.embed_tokens.weight', 'encoder.embed_tokens.weight']);
      expect(model.config).toEqual(m.config);
      const src = i32([[5, 6, 7, 8, 1], [9, 10, 1, 0, 0]]), tgt = i32([[0, 7, 6, 5], [0, 10, 9, 1]]);
      m.eval();
      const want = rt.tape.noGrad(() => m.forward(src, tgt).logits.f32().slice());
      const got = rt.tape.noGrad(() => (model as T5).forward(src, tgt).logits.f32().slice());
      expect(maxDiff(got, want)).toBe(0);
      model.dispose(); m.dispose();
    }
  });

  it('refuses gated activations other than gelu and a d_kv its weights do not have, naming the field or tensor', async () => {
    const m = new T5(rt, cfg, { seed: 3 });
    const dir = join(scratch, 't5-bad');
    write(dir, m, { feed_forward_proj: 'gated-silu' });
    await expect(loadPretrained(rt, dir, { tokenizer: false })).rejects.toThrow(new ConfigError(`${join(dir, 'config.json')}: feed_forward_proj is "gated-silu"; expected 'relu', 'gelu' or 'gated-gelu' (other gated activations are not built)`));
    write(dir, m, { d_kv: 4 });
    await expect(loadPretrained(rt, dir, { tokenizer: false })).rejects.toThrow(/encoder\.block\.0\.layer\.0\.SelfAttention\.q\.weight has shape \[16, 16\], the t5 config needs \[8, 16\]/);
    m.dispose();
  });
});

describe('loadPretrained: bad folders are typed errors, and leave nothing behind', () => {
  /** A copy of a fixture folder, changed by `edit`. */
  const variant = (from: string, name: string, edit: (dir: string) => void) => {
    const dir = join(scratch, name);
    cpSync(from, dir, { recursive: true });
    edit(dir);
    return dir;
  };
  const config = (dir: string) => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const withConfig = (dir: string, change: Record<string, unknown>) => writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config(dir), ...change }));
  const weights = (dir: string) => decodeSafetensors(readFileSync(join(dir, 'model.safetensors')));
  const rewrite = (dir: string, change: (t: Map<string, { dtype: string; shape: number[]; data: Float32Array | Int32Array }>) => void) => {
    const file = weights(dir);
    change(file.tensors);
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(Object.fromEntries([...file.tensors].map(([n, t]) => [n, { dtype: t.data instanceof Float32Array ? 'F32' as const : 'I32' as const, shape: t.shape, data: t.data }]))));
  };

  const cases: [string, () => string, RegExp, new (...a: never[]) => Error][] = [
    ['a folder that does not exist', () => join(scratch, 'missing'), /missing has no config.json/, FileError],
    ['config.json that is not JSON', () => variant(GPT2, 'badjson', (d) => writeFileSync(join(d, 'config.json'), '{ "model_type": ')), /config.json: not valid JSON/, ConfigError],
    ['an unsupported architecture', () => variant(GPT2, 'llama', (d) => withConfig(d, { model_type: 'llama', architectures: ['LlamaForCausalLM'] })),
      /model_type "llama" is not supported; supported: gpt2, bert, vit, t5 \(architectures \["LlamaForCausalLM"\]\)/, ConfigError],
    ['an unsupported field', () => variant(GPT2, 'cross', (d) => withConfig(d, { add_cross_attention: true })), /add_cross_attention is true; a GPT-2 with cross-attention is not supported/, ConfigError],
    ['an activation we lack', () => variant(BERT_DIR, 'silu', (d) => withConfig(d, { hidden_act: 'silu' })), /hidden_act is "silu", not an activation we compute/, ConfigError],
    ['no weights', () => variant(GPT2, 'noweights', (d) => rmSync(join(d, 'model.safetensors'))), /has no model.safetensors and no model.safetensors.index.json/, FileError],
    ['a tokenizer larger than the vocabulary', () => variant(GPT2, 'smallvocab', (d) => {
      withConfig(d, { vocab_size: 299 });
      rewrite(d, (t) => { const w = t.get('transformer.wte.weight')!; t.set('transformer.wte.weight', { ...w, shape: [299, 32], data: (w.data as Float32Array).slice(0, 299 * 32) }); });
    }), /vocab.json has 300 tokens, but the model's vocabulary \(config.json vocab_size\) is 299/, CheckpointError],
    ['a weight of the wrong shape', () => variant(GPT2, 'shape', (d) => withConfig(d, { n_positions: 16 })),
      /transformer.wpe.weight has shape \[32, 32\], the gpt config needs \[16, 32\]/, CheckpointError],
    ['a missing weight', () => variant(GPT2, 'missing-weight', (d) => rewrite(d, (t) => t.delete('transformer.h.1.mlp.c_fc.bias'))),
      /gpt parameter transformer.h.1.mlp.c_fc.bias \(shape \[128\]\) is missing/, CheckpointError],
    ['a NaN weight', () => variant(GPT2, 'nan', (d) => rewrite(d, (t) => { (t.get('transformer.h.1.attn.c_proj.weight')!.data as Float32Array)[5 * 32 + 7] = NaN; })),
      /transformer.h.1.attn.c_proj.weight\[5, 7\] \(element 167\) is NaN/, CheckpointError],
    ['a truncated file', () => variant(GPT2, 'truncated', (d) => {
      const bytes = readFileSync(join(d, 'model.safetensors'));
      writeFileSync(join(d, 'model.safetensors'), bytes.subarray(0, bytes.length - 1000));
    }), /bytes follow it|belong to no tensor|spans data bytes|data_offsets/, CheckpointError],
  ];
  it.each(cases)('%s', async (_name, make, message, type) => {
    const dir = make();
    const before = used(rt);
    const err = await loadPretrained(rt, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(message);
    expect(used(rt)).toBe(before);
  });

  it('a stream that ends early (a dropped download of unknown length) frees the half-loaded model', async () => {
    const base = 'https://models.example/cut/';
    const bytes = readFileSync(join(GPT2, 'model.safetensors'));
    const cut = folderFetch(base, GPT2, { 'model.safetensors': () => new Response(bytes.subarray(0, bytes.length - 5000)) });   // no content-length
    const before = used(rt);
    await expect(loadPretrained(rt, base, { fetch: cut })).rejects.toThrow(/the file ends at data byte \d+ \(file byte \d+\), inside tensor 'transformer.ln_f.(weight|bias)'|inside tensor/);
    expect(used(rt)).toBe(before);
  });
});
