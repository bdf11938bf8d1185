// The `wasmformer` command, run in-process through its main(): every subcommand on the tiny
// PyTorch-made GPT-2 folder (generate, tokenize, quantize then generate from the file, serve over
// real HTTP with JSON, server-sent events and its limits, train on a small text), and mistakes
// answered in one line with exit code 2 (usage) or 1, never a stack trace.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { errorLine, main } from '../../src/cli/main.js';
import { UsageError } from '../../src/cli/args.js';
import { createRuntime, hfConfig, saveModel, T5 } from '../../src/index.js';

const GPT2 = fileURLToPath(new URL('../fixtures/pretrained/tiny-gpt2', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'wasmformer-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the command line; returns the exit code and what was written (an error becomes its one line, as the bin prints it). */
async function run(args: string[], stdin: string | null = null, onListening?: (s: Server) => void): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const sink = (f: (s: string) => void) => ({ write: (s: string | Uint8Array) => { f(String(s)); return true; } }) as unknown as NodeJS.WritableStream;
  const io = { stdout: sink((s) => { out += s; }), stderr: sink((s) => { err += s; }), readStdin: async () => stdin, onListening };
  try {
    return { code: await main(['--variant', 'simd', '--threads', '1', ...args], io as never), out, err };
  } catch (e) {
    return { code: e instanceof UsageError ? 2 : 1, out, err: err + errorLine(e) };
  }
}

describe('wasmformer', () => {
  it('generate streams a continuation; tokenize gives the ids and back', async () => {
    const g = await run(['generate', GPT2, 'the fox', '--max-new-tokens', '12', '--seed', '3', '--temperature', '0']);
    expect(g.code).toBe(0);
    expect(g.out.length).toBeGreaterThan(0);
    const again = await run(['generate', GPT2, '--max-new-tokens', '12', '--seed', '3', '--temperature', '0'], 'the fox');   // prompt from stdin
    expect(again.out).toBe(g.out);
    const t = await run(['tokenize', GPT2, 'the quick brown fox']);
    const ids = t.out.trim().split(' ').map(Number);
    expect(ids.length).toBeGreaterThan(3);
    const back = await run(['tokenize', GPT2, ids.join(','), '--decode']);
    expect(back.out).toBe('the quick brown fox\n');
  });

  it('generate on a T5 folder (spiece.model): text to text, greedy or with --beams; GPT\'s sampling options are refused', async () => {
    const t5dir = join(dir, 't5');
    mkdirSync(t5dir);
    const rt = await createRuntime({ variant: 'simd', threads: 1 });
    const m = new T5(rt, { vocabSize: 1128, nLayer: 1, nHead: 2, dModel: 16, dFF: 32, feedForward: 'gated-gelu', tieWordEmbeddings: false }, { seed: 4 });
    writeFileSync(join(t5dir, 'config.json'), JSON.stringify(hfConfig(m)));
    writeFileSync(join(t5dir, 'model.safetensors'), saveModel(m));
    m.dispose();
    writeFileSync(join(t5dir, 'spiece.model'), readFileSync(fileURLToPath(new URL('../fixtures/sentencepiece/unigram-1k.model', import.meta.url))));
    writeFileSync(join(t5dir, 'tokenizer_config.json'), JSON.stringify({ extra_ids: 100 }));
    const greedy = await run(['generate', t5dir, 'translate: Call me Ishmael.', '--max-new-tokens', '6']);
    expect(greedy.code, greedy.err).toBe(0);
    expect(greedy.out.endsWith('\n')).toBe(true);
    const beams = await run(['generate', t5dir, 'translate: Call me Ishmael.', '--max-new-tokens', '6', '--beams', '3', '--dtype', 'int8']);
    expect(beams.code, beams.err).toBe(0);
    const sampled = await run(['generate', t5dir, 'x', '--temperature', '0.5']);
    expect([sampled.code, sampled.err.trim()]).toEqual([2, `wasmformer: --temperature is for sampling from a GPT; ${t5dir} holds a t5 model, decoded greedily or with --beams N`]);
    const gptBeams = await run(['generate', GPT2, 'x', '--beams', '2']);
    expect(gptBeams.code).toBe(2);
    // serve: text to text over HTTP, greedy; the streamed pieces join to the whole answer
    let server: Server | null = null;
    const done = run(['serve', t5dir, '--port', '0', '--max-new-tokens', '12', '--dtype', 'int8'], null, (s) => { server = s; });
    for (let i = 0; i < 200 && !server; i++) await new Promise((r) => setTimeout(r, 25));
    const url = `http://127.0.0.1:${(server!.address() as { port: number }).port}`;
    const post = (body: object) => fetch(`${url}/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const whole = await (await post({ prompt: 'translate: Call me Ishmael.', max_new_tokens: 6 })).json() as { text: string; tokens: number[]; reason: string };
    expect(['eos', 'length']).toContain(whole.reason);
    expect(whole.tokens.length).toBeLessThanOrEqual(6);
    const sse = await (await post({ prompt: 'translate: Call me Ishmael.', max_new_tokens: 6, stream: true })).text();
    const pieces = [...sse.matchAll(/^data: (\{"text":"(?:[^"\\]|\\.)*"\})$/gm)].map((m) => (JSON.parse(m[1]!) as { text: string }).text);
    expect(pieces.join('')).toBe(whole.text);
    const sampling = await post({ prompt: 'a', temperature: 0.5 });
    expect([sampling.status, ((await sampling.json()) as { error: string }).error]).toEqual([400, '"temperature" is for sampling from a GPT; this server decodes a t5 model greedily (fields: prompt, max_new_tokens, stream)']);
    expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ ok: true, family: 't5', vocabSize: 1128 });
    (server as Server | null)!.close();
    expect((await done).code).toBe(0);
  });

  it('quantize writes int8 and f16 files that generate reads (tokenizer inside)', async () => {
    let size = readFileSync(join(GPT2, 'model.safetensors')).length;
    for (const dtype of ['f16', 'int8']) {   // each smaller than the one before
      const out = join(dir, `tiny-${dtype}.safetensors`);
      const q = await run(['quantize', GPT2, out, '--dtype', dtype]);
      expect(q.code, q.err).toBe(0);
      expect(readFileSync(out).length).toBeLessThan(size);
      size = readFileSync(out).length;
      const g = await run(['generate', out, 'the fox', '--max-new-tokens', '8']);
      expect(g.code, g.err).toBe(0);
      // and held in its own format: an int8 file's integers as they are, an f16 file's halves
      const held = await run(['generate', out, 'the fox', '--max-new-tokens', '8', '--dtype', dtype]);
      expect(held.code, held.err).toBe(0);
      expect(held.out.length).toBeGreaterThan(1);
    }
    const folder = await run(['generate', GPT2, 'the fox', '--max-new-tokens', '8', '--dtype', 'bf16']);
    expect(folder.code, folder.err).toBe(0);
  });

  it('serve answers JSON and server-sent events, and refuses what it must (413, 400, 415, 404)', async () => {
    let server: Server | null = null;
    const done = run(['serve', GPT2, '--port', '0', '--max-body', '300', '--max-new-tokens', '20'], null, (s) => { server = s; });
    for (let i = 0; i < 200 && !server; i++) await new Promise((r) => setTimeout(r, 25));
    expect(server).not.toBeNull();
    const address = server!.address() as { port: number };
    const url = `http://127.0.0.1:${address.port}`;
    const post = (body: string, type = 'application/json') => fetch(`${url}/generate`, { method: 'POST', headers: { 'content-type': type }, body });
    const ok = await post(JSON.stringify({ prompt: 'the fox', max_new_tokens: 10, temperature: 0 }));
    expect(ok.status).toBe(200);
    const result = await ok.json() as { text: string; tokens: number[]; reason: string };
    expect(result.tokens.length).toBe(10);
    expect(result.reason).toBe('length');
    const sse = await (await post(JSON.stringify({ prompt: 'the fox', max_new_tokens: 10, temperature: 0, stream: true }))).text();
    const pieces = [...sse.matchAll(/^data: (\{"text":"(?:[^"\\]|\\.)*"\})$/gm)].map((m) => (JSON.parse(m[1]!) as { text: string }).text);
    expect(pieces.join('')).toBe(result.text);
    expect(sse).toMatch(/event: done\ndata: \{"text"/);
    expect((await post(JSON.stringify({ prompt: 'x'.repeat(400) }))).status).toBe(413);
    const bad = await post(JSON.stringify({ prompt: 'a', temperature: -1 }));
    const why = await bad.json() as { error: string };
    expect(bad.status, why.error).toBe(400);
    expect(why.error).toMatch(/temperature is -1/);
    expect((await post(JSON.stringify({ prompt: 'a', max_new_tokens: 50 }))).status).toBe(400);
    expect((await post(JSON.stringify({ prompt: 'a', nonsense: 1 }))).status).toBe(400);
    expect((await post('prompt=a', 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await fetch(`${url}/nowhere`)).status).toBe(404);
    expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ ok: true, family: 'gpt', vocabSize: 300 });
    (server as Server | null)!.close();
    expect((await done).code).toBe(0);
  });

  it('train runs the recipe on a text file (characters and BPE) and writes a checkpoint generate reads', async () => {
    const text = join(dir, 'text.txt');
    writeFileSync(text, 'It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife. '.repeat(40));
    for (const tokenizer of ['char', 'bpe']) {
      const out = join(dir, `run-${tokenizer}`);
      const r = await run(['train', text, '--tokenizer', tokenizer, '--vocab-size', '300', '--steps', '30', '--warmup', '3', '--eval-every', '15',
        '--layers', '1', '--heads', '2', '--d-model', '32', '--block', '16', '--batch', '4', '--final-eval-batches', '2', '--sample-tokens', '20', '--out', out,
        // the BPE run also takes the long-context options: rotary positions, a window, checkpointing; the character run mixed precision
        ...(tokenizer === 'bpe' ? ['--positions', 'rope', '--window', '8', '--checkpoint', '1'] : ['--precision', 'bf16'])]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/final \(2 batches\): train loss \d/);
      if (tokenizer === 'bpe') expect(r.out).toMatch(/"positions":"rope".*"window":8/);
      const g = await run(['generate', join(out, 'ckpt.safetensors'), 'It is', '--max-new-tokens', '10']);
      expect(g.code, g.err).toBe(0);
    }
  }, 120_000);

  const mistakes: [string[], number, RegExp][] = [
    [[], 2, /^$/],
    [['nosuch'], 2, /^wasmformer: unknown command 'nosuch'; commands: generate, serve, train, quantize, tokenize, bench/],
    [['generate'], 2, /^wasmformer: wasmformer generate takes <model> \[prompt\]/],
    [['generate', join(dir, 'missing')], 2, /missing' does not exist; give a model folder/],
    [['generate', GPT2, 'a', '--temperature', '-1'], 2, /the value after --temperature starts with '-': write it as --temperature=<value>/],
    [['generate', GPT2, 'a', '--temperature=-1'], 2, /--temperature is '-1', expected a number ≥ 0/],
    [['generate', GPT2, 'a', '--top-k', 'abc'], 2, /--top-k is 'abc', expected an integer ≥ 1/],
    [['generate', GPT2, 'a', '--nope'], 2, /Unknown option '--nope'/],
    [['generate', GPT2, 'a', '--dtype', 'int4'], 2, /--dtype is 'int4', expected one of f32, int8, f16, bf16/],
    [['train', join(dir, 'nothing.txt')], 2, /cannot read '.*nothing.txt': no such file/],
    [['train', GPT2 + '/merges.txt', '--steps', '100', '--warmup', '100'], 2, /--warmup 100 must be below --steps 100/],
    [['train', GPT2 + '/merges.txt', '--heads', '3'], 2, /--d-model 128 is not divisible by --heads 3/],
    [['train', GPT2 + '/merges.txt', '--d-model', '12', '--heads', '4', '--positions', 'rope'], 2, /--positions rope needs an even head size; --d-model 12 \/ --heads 4 = 3/],
    [['train', GPT2 + '/merges.txt', '--attention', 'flash'], 2, /--attention is 'flash', expected one of fused, dense/],
    [['train', GPT2 + '/merges.txt', '--precision', 'fp16'], 2, /--precision is 'fp16', expected one of f32, bf16/],
    [['quantize', GPT2, join(dir, 'x.safetensors'), '--dtype', 'int4'], 2, /--dtype is 'int4', expected one of int8, f16, bf16/],
    [['--threads', '0', 'bench'], 2, /--threads is '0', expected an integer in \[1, 256\]/],
  ];
  it.each(mistakes)('%j: one line, exit %i', async (args, code, message) => {
    const r = await run(args as string[]);
    expect(r.code).toBe(code);
    expect(r.err.trim().split('\n').length).toBeLessThanOrEqual(1);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});
