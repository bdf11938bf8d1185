// The edge example (examples/edge/) on the real workerd binary: the worker is bundled by
// examples/edge/build.ts and served by `workerd serve` on 127.0.0.1 (tools/workerd.ts);
// its generations are compared with the same checkpoint run in Node on the same backend.
// Two servers: one with both wasm builds (createRuntime's `auto` picks relaxed where workerd
// validates it) and one held to simd (bit-identical everywhere). Plus a tiny worker that
// passes bytes instead of a compiled module, which workerd refuses to compile.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorker, type BuiltWorker } from '../../examples/edge/build.js';
import { CharTokenizer, createRuntime, generate, modelFromCheckpoint, parseCheckpoint, type GPT } from '../../src/index.js';
import { startWorkerd, type WorkerdServer } from '../../tools/workerd.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CHECKPOINT = join(root, 'examples', 'edge', 'model.safetensors');

let outDir: string;
let built: BuiltWorker;
let auto: WorkerdServer;
let simdOnly: WorkerdServer;
let tok: CharTokenizer;
const nodeModels = new Map<string, GPT>();

beforeAll(async () => {
  mkdirSync(join(root, 'test-output'), { recursive: true });
  outDir = mkdtempSync(join(root, 'test-output', 'edge-test-'));
  built = await buildWorker({ outDir: join(outDir, 'worker') });
  [auto, simdOnly] = await Promise.all([
    startWorkerd({ modules: built.modules }),
    startWorkerd({ modules: built.modules, bindings: { WASM_VARIANT: 'simd' } }),
  ]);
  const ckpt = parseCheckpoint(new Uint8Array(readFileSync(CHECKPOINT)));
  tok = CharTokenizer.load(ckpt.tokenizer!);
  for (const variant of ['simd', 'relaxed'] as const) {
    nodeModels.set(variant, modelFromCheckpoint(await createRuntime({ variant }), ckpt));
  }
}, 120_000);

afterAll(async () => {
  await Promise.all([auto?.stop(), simdOnly?.stop()]);
  if (outDir) rmSync(outDir, { recursive: true, force: true });
}, 30_000);

interface Options { prompt: string; maxNewTokens: number; temperature: number; topK?: number; seed: number }

/** What the checkpoint generates in Node on `backend`: the new text only. */
function nodeText(backend: string, o: Options): string {
  const model = nodeModels.get(backend);
  if (!model) throw new Error(`no Node model for backend ${backend}`);
  const prompt = tok.encode(o.prompt);
  const ids = generate(model, prompt, { maxNewTokens: o.maxNewTokens, temperature: o.temperature, topK: o.topK, seed: o.seed });
  return tok.decode(ids.subarray(prompt.length));
}

async function post(server: WorkerdServer, body: unknown, query = ''): Promise<Response> {
  return fetch(`${server.origin}/generate${query}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** The worker's answer, with workerd's output attached when it is not the expected status. */
async function jsonOf(server: WorkerdServer, res: Response, status = 200): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`HTTP ${res.status} (expected ${status}): ${text}\n--- workerd ---\n${server.output()}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Reads a server-sent-event stream: its events and how many network reads delivered them. */
async function readEvents(res: Response): Promise<{ events: { event: string; data: Record<string, unknown> }[]; reads: number }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  let reads = 0;
  const events: { event: string; data: Record<string, unknown> }[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    reads++;
    buffered += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
    }
  }
  expect(buffered).toBe('');
  return { events, reads };
}

describe('examples/edge worker on workerd', () => {
  it('answers GET / with usage and /health with the backend and parameter count', async () => {
    const usage = await fetch(`${auto.origin}/`);
    expect(usage.status).toBe(200);
    expect(await usage.text()).toContain('POST /generate');

    const params = nodeModels.get('simd')!.numParams();
    const a = await jsonOf(auto, await fetch(`${auto.origin}/health`));
    expect(['relaxed', 'simd']).toContain(a.backend);
    expect(a.params).toBe(params);
    expect(a.vocabSize).toBe(tok.vocabSize);
    const s = await jsonOf(simdOnly, await fetch(`${simdOnly.origin}/health`));
    expect(s.backend).toBe('simd');
    expect(s.params).toBe(params);
  });

  it('generates on simd exactly what Node generates from the same checkpoint (sampled and greedy)', async () => {
    for (const o of [
      { prompt: 'Emma ', maxNewTokens: 120, temperature: 0.8, topK: 20, seed: 42 },
      { prompt: 'She was ', maxNewTokens: 80, temperature: 0, seed: 0 },
    ]) {
      const body = await jsonOf(simdOnly, await post(simdOnly, o));
      expect(body.backend).toBe('simd');
      expect(body.tokens).toBe(o.maxNewTokens);
      const text = body.text as string;
      expect([...text]).toHaveLength(o.maxNewTokens);
      expect([...text].every((ch) => tok.vocab.includes(ch))).toBe(true);
      expect(text).toBe(nodeText('simd', o));
      expect(body.seed).toBe(o.seed);
      expect(typeof body.ms).toBe('number');
    }
  });

  it('generates on its auto-chosen backend what Node generates on that backend', async () => {
    // relaxed_madd may round differently across CPUs, not across V8s on one machine: both
    // lower it to the same instruction here, so the texts are equal too.
    const o = { prompt: 'Mr. Knightley ', maxNewTokens: 100, temperature: 0.9, topK: 30, seed: 7 };
    const sampled = await jsonOf(auto, await post(auto, o));
    expect(sampled.text).toBe(nodeText(sampled.backend as string, o));
    const greedy = { ...o, temperature: 0, topK: undefined };
    const g = await jsonOf(auto, await post(auto, greedy));
    expect(g.text).toBe(nodeText(g.backend as string, greedy));
  });

  it('takes the options from a GET query as well', async () => {
    const o = { prompt: 'Emma ', maxNewTokens: 40, temperature: 0.7, topK: 10, seed: 3 };
    const q = new URLSearchParams(Object.entries(o).map(([k, v]) => [k, String(v)]));
    const body = await jsonOf(simdOnly, await fetch(`${simdOnly.origin}/generate?${q}`));
    expect(body.text).toBe(nodeText('simd', o));
  });

  it('streams the same text token by token as server-sent events', async () => {
    const o = { prompt: 'Emma ', maxNewTokens: 150, temperature: 0.8, topK: 20, seed: 11 };
    const res = await post(simdOnly, o, '?stream=1');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const { events, reads } = await readEvents(res);
    const tokens = events.filter((e) => e.event === 'message');
    const done = events.filter((e) => e.event === 'done');
    expect(tokens).toHaveLength(o.maxNewTokens);
    expect(done).toHaveLength(1);
    expect(events.at(-1)!.event).toBe('done');
    const text = tokens.map((e) => e.data.text).join('');
    expect(text).toBe(nodeText('simd', o));
    expect(done[0]!.data.text).toBe(text);
    expect(done[0]!.data.tokens).toBe(o.maxNewTokens);
    expect(reads).toBeGreaterThan(1); // it arrived in several chunks, not as one body
  });

  it('serves concurrent requests, streamed and not, each with its own correct text', async () => {
    // Streams interleave their tokens in one isolate: each must keep its own KV cache.
    const opts = [1, 2, 3, 4].map((seed) => ({ prompt: seed % 2 ? 'Emma ' : 'The ', maxNewTokens: 90, temperature: 0.8, topK: 20, seed }));
    const streamed = opts.map(async (o) => {
      const { events } = await readEvents(await post(simdOnly, o, '?stream=1'));
      return events.filter((e) => e.event === 'message').map((e) => e.data.text).join('');
    });
    const plain = opts.map(async (o) => (await jsonOf(simdOnly, await post(simdOnly, { ...o, seed: o.seed + 100 }))).text);
    const [texts, plainTexts] = await Promise.all([Promise.all(streamed), Promise.all(plain)]);
    expect(texts).toEqual(opts.map((o) => nodeText('simd', o)));
    expect(plainTexts).toEqual(opts.map((o) => nodeText('simd', { ...o, seed: o.seed + 100 })));
  });

  it('serves new streams after clients went away mid-stream', async () => {
    // Abandoned streams end their generators (cancel → return()), so their KV caches go back
    // to the model's free list; later streams must run normally.
    const aborts = await Promise.all([0, 1, 2, 3].map(async (seed) => {
      const ac = new AbortController();
      const res = await fetch(`${auto.origin}/generate?stream=1&maxNewTokens=512&seed=${seed}`, { signal: ac.signal });
      await res.body!.getReader().read();
      return ac;
    }));
    for (const ac of aborts) ac.abort();
    const o = { prompt: 'Emma ', maxNewTokens: 30, temperature: 0.8, topK: 20, seed: 5 };
    const again = await Promise.all([0, 1].map(async () => {
      const { events } = await readEvents(await post(auto, o, '?stream=1'));
      return events.filter((e) => e.event === 'message').length;
    }));
    expect(again).toEqual([30, 30]);
  });

  it('answers bad requests with 400/404/405 and a clear JSON error', async () => {
    const bad = async (res: Response, status: number, ...parts: (string | RegExp)[]) => {
      const body = await jsonOf(simdOnly, res, status);
      for (const p of parts) expect(body.error).toMatch(p);
      return body;
    };
    const unknown = await bad(await post(simdOnly, { prompt: 'Zebra 9 \u{1F600}', maxNewTokens: 5 }), 400,
      'does not know', '"Z" (U+005A)', '"9" (U+0039)', 'U+1F600');
    expect(unknown.unknownCharacters).toEqual(['Z', '9', '\u{1F600}']);
    await bad(await post(simdOnly, { prompt: 'Emma', maxNewTokens: 1000 }), 400, 'maxNewTokens', '1 to 512', '1000');
    await bad(await post(simdOnly, { maxNewTokens: 0 }), 400, 'maxNewTokens');
    await bad(await post(simdOnly, { maxNewTokens: 2.5 }), 400, 'maxNewTokens');
    await bad(await post(simdOnly, { maxNewTokens: 'many' }), 400, 'maxNewTokens must be a number');
    await bad(await fetch(`${simdOnly.origin}/generate?maxNewTokens=100000`), 400, 'maxNewTokens');
    await bad(await post(simdOnly, { temperature: -1 }), 400, 'temperature');
    await bad(await post(simdOnly, { prompt: '' }), 400, 'prompt is empty');
    await bad(await post(simdOnly, { prompt: 42 }), 400, 'prompt must be a string');
    await bad(await post(simdOnly, { max_new_tokens: 5 }), 400, 'unknown field "max_new_tokens"');
    await bad(await post(simdOnly, '{"prompt": "Emma'), 400, 'not valid JSON');
    await bad(await post(simdOnly, '[1, 2]'), 400, 'JSON object');
    await bad(await post(simdOnly, JSON.stringify({ prompt: 'Emma '.repeat(4000) })), 413, 'the limit is 16384');
    const put = await fetch(`${simdOnly.origin}/generate`, { method: 'PUT', body: '{}' });
    await bad(put, 405, 'PUT is not allowed', 'GET or POST');
    expect(put.headers.get('allow')).toBe('GET, POST');
    await bad(await fetch(`${simdOnly.origin}/health`, { method: 'DELETE' }), 405, 'DELETE is not allowed');
    await bad(await fetch(`${simdOnly.origin}/nope`), 404, 'no route /nope');
    // …and still serves good requests afterwards.
    expect((await jsonOf(simdOnly, await post(simdOnly, { prompt: 'Emma', maxNewTokens: 3, seed: 1 }))).tokens).toBe(3);
  });
});

describe('wasm bytes instead of a module in workerd', () => {
  it('gets the library\'s error telling to import the .wasm as a module', async () => {
    const dir = mkdtempSync(join(root, 'test-output', 'edge-bytes-'));
    let server: WorkerdServer | undefined;
    try {
      const bundle = join(dir, 'bytes-worker.js');
      await build({
        stdin: {
          contents: `
            import { createRuntime } from './src/index.js';
            import bytes from 'simd-bytes.bin';
            const attempt = async (f) => { try { await f(); return 'loaded'; } catch (e) { return e.name + ': ' + e.message; } };
            export default {
              async fetch() {
                return Response.json({
                  isModule: bytes instanceof WebAssembly.Module,
                  simdBytes: await attempt(() => createRuntime({ variant: 'simd', wasm: { simd: new Uint8Array(bytes) } })),
                  autoBuffer: await attempt(() => createRuntime({ wasm: { simd: bytes } })),
                  noWasmGiven: await attempt(() => createRuntime({ variant: 'simd' })),
                  rawCompile: await attempt(() => WebAssembly.compile(bytes)),
                });
              },
            };`,
          resolveDir: root, sourcefile: 'bytes-worker.js', loader: 'js',
        },
        outfile: bundle, bundle: true, format: 'esm', platform: 'neutral', external: ['*.bin'], logLevel: 'warning',
      });
      server = await startWorkerd({
        modules: [
          { name: 'bytes-worker.js', type: 'esModule', path: bundle },
          { name: 'simd-bytes.bin', type: 'data', path: join(root, 'build', 'wasmformer-simd.wasm') },
        ],
      });
      const r = await jsonOf(server, await fetch(`${server.origin}/run`));
      expect(r.isModule).toBe(false);
      expect(r.rawCompile).toMatch(/disallowed/i); // workerd's own words
      for (const key of ['simdBytes', 'autoBuffer'] as const) {
        expect(r[key]).toMatch(/^WasmLoadError: wasm variant 'simd' from the given bytes could not be loaded/);
        expect(r[key]).toMatch(/import the \.wasm as a module/);
      }
      expect(r.noWasmGiven).toMatch(/^WasmLoadError: .*import\.meta\.url is undefined.*import the \.wasm as a module/);
    } finally {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
