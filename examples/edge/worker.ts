// A Cloudflare-Workers-style worker that serves text generation from a small character GPT
// (examples/edge/model.safetensors, trained by make-checkpoint.ts), on wasmformer's wasm
// SIMD kernels. Runs on workerd (`npx tsx examples/edge/serve.ts`) and deploys unchanged
// with wrangler.
//
//   GET  /                      usage
//   GET  /health                {"status":"ok","backend":"relaxed","params":76096,…}
//   POST /generate              {"prompt":"Emma ","maxNewTokens":200,"temperature":0.8,"topK":20,"seed":1}
//                               → {"text":"…","tokens":200,"ms":61,…}
//   GET  /generate?prompt=Emma%20&maxNewTokens=200
//   …/generate?stream=1         text/event-stream: one `data: {"text":"e"}` event per token, then `event: done`
//
// workerd cannot compile WebAssembly from bytes, so the .wasm builds are imported as modules
// (each import is a compiled WebAssembly.Module) and handed to createRuntime; the checkpoint
// is a `data` module (an ArrayBuffer). The runtime and the model are made once per isolate,
// on the first request that needs them, and reused by every later request.
//
// In your own project, import the library as 'wasmformer'; here it is the repository's source.
import {
  CharTokenizer, createRuntime, generateTokens, modelFromCheckpoint, parseCheckpoint,
  type Checkpoint, type GenerateOptions, type GPT, type Runtime,
} from '../../src/index.js';
import simd from 'wasmformer/wasm/simd.wasm';
import relaxed from 'wasmformer/wasm/relaxed.wasm';
import checkpointBytes from './model.safetensors';

export interface Env {
  /** `auto` (default: relaxed where it validates, else simd), `simd` or `relaxed`. */
  WASM_VARIANT?: string;
}

/** Limits of one request. */
export const LIMITS = { maxNewTokens: 512, promptChars: 2000, temperature: 5 } as const;
/** Defaults of the generation options. */
export const DEFAULTS = { prompt: '\n', maxNewTokens: 200, temperature: 0.8 } as const;

// ---------------------------------------------------------------------------------------
// The model, once per isolate
// ---------------------------------------------------------------------------------------

interface Loaded {
  rt: Runtime;
  tok: CharTokenizer;
  /** One model serves every request: concurrent streams interleave, each generator has its own KV cache. */
  model: GPT;
  params: number;
  config: Checkpoint['config'];
  loadMs: number;
}

let loading: Promise<Loaded> | undefined;

async function init(env: Env): Promise<Loaded> {
  const t0 = Date.now();
  const variant = env.WASM_VARIANT ?? 'auto';
  if (!['auto', 'simd', 'relaxed'].includes(variant)) throw new Error(`WASM_VARIANT is '${variant}', expected auto, simd or relaxed`);
  // With both modules given, `auto` takes relaxed where this runtime validates it, else simd.
  const wasm = variant === 'simd' ? { simd } : variant === 'relaxed' ? { relaxed } : { simd, relaxed };
  const rt = await createRuntime({ variant: variant as 'auto', wasm });
  const ckpt = parseCheckpoint(new Uint8Array(checkpointBytes));
  if (!ckpt.tokenizer) throw new Error('model.safetensors has no tokenizer in its metadata');
  const tok = CharTokenizer.load(ckpt.tokenizer);
  const model = modelFromCheckpoint(rt, ckpt);
  return { rt, tok, model, params: model.numParams(), config: ckpt.config, loadMs: Date.now() - t0 };
}

/** The isolate's runtime and model, made by the first request that needs them (a failed load is retried by the next). */
function load(env: Env): Promise<Loaded> {
  loading ??= init(env).catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

// ---------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------

/** A client error: answered with `status` and `{ error: message, ...details }`. */
class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly details: Record<string, unknown> = {}, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
}

interface GenerateRequest {
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK?: number;
  topP?: number;
  seed: number;
  stream: boolean;
}

const FIELDS = ['prompt', 'maxNewTokens', 'temperature', 'topK', 'topP', 'seed', 'stream'];
/** The largest request body read (a prompt and a few options fit in far less). */
const MAX_BODY = 16 * 1024;

/** The body as text, refused with 413 past MAX_BODY bytes: by Content-Length first, else while it arrives (never read whole). */
async function readBody(request: Request): Promise<string> {
  const declared = Number(request.headers.get('content-length'));
  if (declared > MAX_BODY) throw new HttpError(413, `the body is ${declared} bytes; the limit is ${MAX_BODY}`);
  const reader = request.body?.getReader();
  if (!reader) return '';
  const parts: Uint8Array[] = [];
  let size = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    size += r.value.length;
    if (size > MAX_BODY) {
      await reader.cancel();
      throw new HttpError(413, `the body is more than the ${MAX_BODY}-byte limit`);
    }
    parts.push(r.value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { bytes.set(p, at); at += p.length; }
  return new TextDecoder().decode(bytes);
}

/** The request's options from a POST's JSON body or a GET's query, checked (throws HttpError 400). */
async function readGenerateRequest(request: Request, url: URL): Promise<GenerateRequest> {
  let raw: Record<string, unknown>;
  if (request.method === 'POST') {
    const body = await readBody(request);
    let parsed: unknown;
    try {
      parsed = body.trim() === '' ? {} : JSON.parse(body);
    } catch (err) {
      throw new HttpError(400, `the body is not valid JSON (${(err as Error).message}); send e.g. {"prompt": "Emma ", "maxNewTokens": 100}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new HttpError(400, `the body must be a JSON object such as {"prompt": "Emma ", "maxNewTokens": 100}, got ${Array.isArray(parsed) ? 'an array' : typeof parsed === 'object' ? 'null' : `a ${typeof parsed}`}`);
    }
    raw = { ...(parsed as Record<string, unknown>) };
    if (url.searchParams.has('stream')) raw.stream = url.searchParams.get('stream');
  } else {
    raw = Object.fromEntries(url.searchParams);
  }
  const unknown = Object.keys(raw).filter((k) => !FIELDS.includes(k));
  if (unknown.length) {
    throw new HttpError(400, `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}; the fields are ${FIELDS.join(', ')}`, { unknownFields: unknown });
  }

  // Query values are strings: numbers and booleans are parsed from them.
  const num = (name: string, value: unknown): number | undefined => {
    if (value === undefined || value === null || value === '') return undefined;
    const n = typeof value === 'string' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new HttpError(400, `${name} must be a number, got ${JSON.stringify(value)}`);
    return n;
  };
  const int = (name: string, value: unknown, lo: number, hi: number): number | undefined => {
    const n = num(name, value);
    if (n === undefined) return undefined;
    if (!Number.isInteger(n) || n < lo || n > hi) throw new HttpError(400, `${name} must be an integer from ${lo} to ${hi}, got ${JSON.stringify(value)}`);
    return n;
  };

  const prompt = raw.prompt ?? DEFAULTS.prompt;
  if (typeof prompt !== 'string') throw new HttpError(400, `prompt must be a string, got ${JSON.stringify(prompt)}`);
  if (prompt.length === 0) throw new HttpError(400, 'prompt is empty: give at least one character (or leave it out to start from a new line)');
  if (prompt.length > LIMITS.promptChars) throw new HttpError(400, `prompt has ${prompt.length} characters, at most ${LIMITS.promptChars} are accepted`);

  const maxNewTokens = int('maxNewTokens', raw.maxNewTokens, 1, LIMITS.maxNewTokens) ?? DEFAULTS.maxNewTokens;
  const temperature = num('temperature', raw.temperature) ?? DEFAULTS.temperature;
  if (temperature < 0 || temperature > LIMITS.temperature) throw new HttpError(400, `temperature must be from 0 (greedy) to ${LIMITS.temperature}, got ${temperature}`);
  const topK = int('topK', raw.topK, 1, 1 << 20);
  const topP = num('topP', raw.topP);
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw new HttpError(400, `topP must be in (0, 1], got ${topP}`);
  const seed = int('seed', raw.seed, 0, 0xffffffff) ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  const s = raw.stream;
  let stream = false;
  if (s !== undefined) {
    if (s === true || s === 'true' || s === '1' || s === '') stream = true;
    else if (s === false || s === 'false' || s === '0') stream = false;
    else throw new HttpError(400, `stream must be true or false (or 1/0 in the query), got ${JSON.stringify(s)}`);
  }
  return { prompt, maxNewTokens, temperature, topK, topP, seed, stream };
}

function codePoint(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The prompt's token ids; characters the tokenizer lacks are all named in one 400. */
function encodePrompt(tok: CharTokenizer, prompt: string): Int32Array {
  const known = new Set(tok.vocab);
  const unknown = [...new Set([...prompt].filter((ch) => !known.has(ch)))];
  if (unknown.length) {
    const listed = unknown.slice(0, 20).map((ch) => `${JSON.stringify(ch)} (${codePoint(ch)})`).join(', ');
    throw new HttpError(400,
      `the prompt has ${unknown.length} character${unknown.length > 1 ? 's' : ''} the model does not know: ${listed}${unknown.length > 20 ? ', …' : ''}. ` +
      `It knows only these ${tok.vocabSize}: ${JSON.stringify(tok.vocab.join(''))}`,
      { unknownCharacters: unknown, vocabulary: tok.vocab.join('') });
  }
  return tok.encode(prompt);
}

function generateOptions(req: GenerateRequest): GenerateOptions {
  return { maxNewTokens: req.maxNewTokens, temperature: req.temperature, topK: req.topK, topP: req.topP, seed: req.seed };
}

async function handleGenerate(request: Request, url: URL, env: Env): Promise<Response> {
  const req = await readGenerateRequest(request, url);
  const { tok, model, rt } = await load(env);
  const prompt = encodePrompt(tok, req.prompt);
  const summary = (ids: number[], ms: number) => ({
    text: tok.decode(ids), tokens: ids.length, ms, tokensPerSecond: ms > 0 ? Math.round((ids.length / ms) * 1000) : null,
    seed: req.seed, backend: rt.backend,
  });

  if (!req.stream) {
    const t0 = Date.now();
    const ids = [...generateTokens(model, prompt, generateOptions(req))];
    return json(summary(ids, Date.now() - t0));
  }

  // Streaming: one token per pull, so tokens are made only as fast as the client reads them;
  // between tokens the isolate serves other requests.
  const encoder = new TextEncoder();
  const tokens = generateTokens(model, prompt, generateOptions(req));
  const ids: number[] = [];
  let t0 = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (t0 === 0) t0 = Date.now();
        const next = tokens.next();
        if (next.done) {
          controller.enqueue(encoder.encode(`event: done\ndata: ${JSON.stringify(summary(ids, Date.now() - t0))}\n\n`));
          controller.close();
          return;
        }
        ids.push(next.value);
        controller.enqueue(encoder.encode(`data: ${JSON.stringify({ text: tok.decode([next.value]) })}\n\n`));
        await new Promise((resolve) => setTimeout(resolve, 0));
      } catch (err) {
        controller.enqueue(encoder.encode(`event: error\ndata: ${JSON.stringify({ error: (err as Error).message })}\n\n`));
        controller.close();
        tokens.return('abort');
      }
    },
    cancel() {
      tokens.return('abort'); // ends the generator: its KV cache goes back to the model's free list
    },
  }, { highWaterMark: 0 });
  return new Response(body, {
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-seed': String(req.seed) },
  });
}

async function handleHealth(env: Env): Promise<Response> {
  const { rt, params, config, tok, loadMs } = await load(env);
  return json({
    status: 'ok', backend: rt.backend, notes: rt.notes, params, vocabSize: tok.vocabSize, config,
    memoryBytes: rt.memoryReport().memoryBytes, loadMs, limits: LIMITS,
  });
}

const USAGE = `wasmformer edge worker: a small character GPT (trained on Jane Austen's "Emma") on WebAssembly SIMD.

GET  /health                     backend, parameters, config
POST /generate                   JSON {"prompt": "Emma ", "maxNewTokens": 200, "temperature": 0.8, "topK": 20, "seed": 1}
                                 -> {"text", "tokens", "ms", "tokensPerSecond", "seed", "backend"}
GET  /generate?prompt=Emma%20&maxNewTokens=200&temperature=0.8
add ?stream=1 (or "stream": true) for server-sent events: data: {"text": "<token>"} ..., then event: done

maxNewTokens 1..${LIMITS.maxNewTokens} (default ${DEFAULTS.maxNewTokens}), temperature 0 (greedy)..${LIMITS.temperature} (default ${DEFAULTS.temperature}),
topK, topP optional, seed 0..4294967295 (default random, returned). The prompt may use only the model's characters.
`;

const ROUTES: Record<string, { methods: string[]; handle: (request: Request, url: URL, env: Env) => Promise<Response> }> = {
  '/': { methods: ['GET', 'HEAD'], handle: async () => new Response(USAGE, { headers: { 'content-type': 'text/plain; charset=utf-8' } }) },
  '/health': { methods: ['GET', 'HEAD'], handle: (_r, _u, env) => handleHealth(env) },
  '/generate': { methods: ['GET', 'POST'], handle: handleGenerate },
};

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const route = ROUTES[url.pathname];
    try {
      if (!route) throw new HttpError(404, `no route ${url.pathname}; try GET /, GET /health, POST /generate`);
      if (!route.methods.includes(request.method)) {
        throw new HttpError(405, `${request.method} is not allowed on ${url.pathname}; use ${route.methods.join(' or ')}`, {}, { allow: route.methods.join(', ') });
      }
      return await route.handle(request, url, env);
    } catch (err) {
      if (err instanceof HttpError) return json({ error: err.message, ...err.details }, err.status, err.headers);
      const e = err as Error;
      console.error(`${request.method} ${url.pathname}: ${e.stack ?? e.message}`);
      return json({ error: `${e.name}: ${e.message}` }, 500);
    }
  },
};
