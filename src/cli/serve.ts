// `wasmformer serve <model>`: an HTTP JSON API over one loaded model.
//   POST /generate  {"prompt": "...", "max_new_tokens": 50, "temperature": 0.8, "top_k", "top_p", "seed",
//                    "stop": ["\n"], "repetition_penalty", "frequency_penalty", "presence_penalty", "stream": false}
//                   → {"text", "tokens", "reason"}; with "stream": true, server-sent events: {"text": piece}
//                     per piece, then event "done" with the whole result.
//   GET  /health    → {"ok": true, "family", "vocabSize", "active", "queued"}
// Bodies over --max-body bytes get 413 before they are read whole; at most --concurrency
// generations run at once (their tokens interleave), --queue more wait, the rest get 503; a
// client that disconnects aborts its generation.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { WasmformerError, preview } from '../errors.js';
import { completeText, decodeText, generateText, type TextOptions } from '../generate/text.js';
import { EncoderDecoder } from '../models/encoder-decoder.js';
import type { GPT } from '../models/gpt.js';
import { CharTokenizer } from '../tokenizers/char.js';
import type { Runtime } from '../runtime.js';
import { choice, num, parse, UsageError } from './args.js';
import { loadSource, SOURCE_DTYPES, type Loaded } from './source.js';

export const SERVE_HELP = `usage: wasmformer serve <model> [options]   (a GPT; or a T5 / Flan-T5: text to text, greedy)
  --port N            default 8080 (0: any free port)      --host H     default 127.0.0.1
  --max-body BYTES    largest request body (default 65536)
  --concurrency N     generations at once (default 2)      --queue N    waiting requests beyond that (default 16)
  --max-new-tokens N  the most a request may ask for (default 1024)
  --dtype D           f32 (default), int8, f16 or bf16: the weights held in that format
API: POST /generate {"prompt", "max_new_tokens", "temperature", "top_k", "top_p", "seed", "stop", "stream"}; GET /health`;

export interface ServeOptions {
  maxBody: number;
  concurrency: number;
  queue: number;
  maxNewTokens: number;
}

/** A bad request: its status and message go back to the client as JSON. */
class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * The HTTP server (not listening yet) for a loaded GPT and its tokenizer.
 * @example
 * ```ts
 * const server = makeServer(await loadSource(rt, 'models/gpt2'), { maxBody: 65536, concurrency: 2, queue: 16, maxNewTokens: 1024 });
 * server.listen(8080);
 * ```
 */
export function makeServer(loaded: Loaded, opts: ServeOptions): Server {
  const { model, tokenizer } = loaded;
  const textToText = model instanceof EncoderDecoder && tokenizer !== null && !(tokenizer instanceof CharTokenizer) ? { model, tokenizer } : null;
  if ((model.family !== 'gpt' && !textToText) || !tokenizer) throw new UsageError(`${loaded.source}: serve needs a GPT or an encoder–decoder (T5) with a tokenizer`);
  const gpt = model as GPT;
  const vocabSize = textToText ? textToText.model.decoding.vocabSize : gpt.config.vocabSize;
  let active = 0;
  const waiting: (() => void)[] = [];
  const slot = async (): Promise<() => void> => {
    if (active >= opts.concurrency) {
      if (waiting.length >= opts.queue) throw new HttpError(503, `busy: ${active} generations running and ${waiting.length} waiting; retry later`);
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    active++;
    return () => {
      active--;
      waiting.shift()?.();
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/health') {
      return json(res, 200, { ok: true, family: model.family, vocabSize, active, queued: waiting.length });
    }
    if (url.pathname !== '/generate') throw new HttpError(404, `no route ${req.method} ${url.pathname}; use POST /generate or GET /health`);
    if (req.method !== 'POST') throw new HttpError(405, `use POST /generate with a JSON body`);
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) throw new HttpError(415, `send the body as application/json (got ${preview(req.headers['content-type'] ?? 'none')})`);
    const body = await readBody(req, opts.maxBody);
    const { prompt, stream, options, given } = request(body, opts.maxNewTokens);
    if (textToText) {
      const sampling = given.find((k) => !['prompt', 'max_new_tokens', 'stream'].includes(k));
      if (sampling) throw new HttpError(400, `"${sampling}" is for sampling from a GPT; this server decodes a ${model.family} model greedily (fields: prompt, max_new_tokens, stream)`);
    }
    const release = await slot();
    const abort = new AbortController();
    res.on('close', () => { if (!res.writableFinished) abort.abort(); });
    try {
      const o = { ...options, signal: abort.signal };
      // text to text (T5): greedy, max_new_tokens new tokens and EOS
      const it = textToText
        ? decodeText(textToText.model, textToText.tokenizer, prompt, { maxLength: Math.min(textToText.model.decoding.maxLength, o.maxNewTokens + 1), signal: o.signal })
        : stream ? generateText(gpt, tokenizer, prompt, o) : null;
      if (!it) return json(res, 200, completeText(gpt, tokenizer, prompt, o));
      if (!stream) {
        let r = await it.next();
        while (!r.done) r = await it.next();
        return json(res, 200, r.value);
      }
      let r = await it.next();   // the options are checked here, before any header is sent
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
      for (; !r.done; r = await it.next()) res.write(`data: ${JSON.stringify({ text: r.value })}\n\n`);
      res.end(`event: done\ndata: ${JSON.stringify(r.value)}\n\n`);
    } finally {
      release();
    }
  };

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : err instanceof WasmformerError ? 400 : 500;
      if (res.headersSent) res.end(`event: error\ndata: ${JSON.stringify({ error: (err as Error).message })}\n\n`);
      else json(res, status, { error: (err as Error).message });
      if (status === 413) req.destroy();
    });
  });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(value) + '\n');
}

/** The body as text, refusing one over `limit` bytes (by Content-Length first, else while reading). */
async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw new HttpError(413, `the body is ${declared} bytes, more than the ${limit}-byte limit`);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `the body is more than the ${limit}-byte limit`);
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The prompt and generation options of a request body, checked. */
function request(body: string, maxNewTokens: number): { prompt: string; stream: boolean; options: TextOptions; given: string[] } {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'the body must be a JSON object with a "prompt"');
  const b = v as Record<string, unknown>;
  const known = ['prompt', 'max_new_tokens', 'temperature', 'top_k', 'top_p', 'seed', 'stop', 'repetition_penalty', 'frequency_penalty', 'presence_penalty', 'stream'];
  const given = Object.keys(b);
  const unknown = Object.keys(b).filter((k) => !known.includes(k));
  if (unknown.length) throw new HttpError(400, `unknown field ${unknown.map((k) => `"${k}"`).join(', ')} (fields: ${known.join(', ')})`);
  if (typeof b.prompt !== 'string' || b.prompt.length === 0) throw new HttpError(400, `"prompt" is ${preview(b.prompt)}, expected a non-empty string`);
  const n = b.max_new_tokens ?? Math.min(64, maxNewTokens);
  if (!Number.isInteger(n) || (n as number) < 0 || (n as number) > maxNewTokens) throw new HttpError(400, `"max_new_tokens" is ${preview(n)}, expected an integer in [0, ${maxNewTokens}]`);
  const number = (key: string) => {
    if (b[key] !== undefined && typeof b[key] !== 'number') throw new HttpError(400, `"${key}" is ${preview(b[key])}, expected a number`);
    return b[key] as number | undefined;
  };
  if (b.stop !== undefined && !(Array.isArray(b.stop) && b.stop.every((s) => typeof s === 'string'))) throw new HttpError(400, `"stop" is ${preview(b.stop)}, expected an array of strings`);
  if (b.stream !== undefined && typeof b.stream !== 'boolean') throw new HttpError(400, `"stream" is ${preview(b.stream)}, expected true or false`);
  return {
    prompt: b.prompt, stream: b.stream === true, given,
    options: {
      maxNewTokens: n as number, temperature: number('temperature'), topK: number('top_k'), topP: number('top_p'), seed: number('seed'),
      repetitionPenalty: number('repetition_penalty'), frequencyPenalty: number('frequency_penalty'), presencePenalty: number('presence_penalty'),
      stopStrings: b.stop as string[] | undefined,
    },
  };
}

export async function serveCommand(rt: Runtime, args: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; onListening?: (s: Server) => void }): Promise<void> {
  const p = parse('serve', args, {
    port: { type: 'string' }, host: { type: 'string' }, 'max-body': { type: 'string' }, concurrency: { type: 'string' },
    queue: { type: 'string' }, 'max-new-tokens': { type: 'string' }, dtype: { type: 'string' },
  });
  if (p.values.help) {
    io.stdout.write(SERVE_HELP + '\n');
    return;
  }
  if (p.positionals.length !== 1) throw new UsageError('wasmformer serve takes <model> (see: wasmformer serve --help)');
  const port = num(p, 'port', { min: 0, max: 65535, integer: true }) ?? 8080;
  const host = (p.values.host as string | undefined) ?? '127.0.0.1';
  const opts: ServeOptions = {
    maxBody: num(p, 'max-body', { min: 1, integer: true }) ?? 65536,
    concurrency: num(p, 'concurrency', { min: 1, max: 64, integer: true }) ?? 2,
    queue: num(p, 'queue', { min: 0, integer: true }) ?? 16,
    maxNewTokens: num(p, 'max-new-tokens', { min: 1, max: 1_000_000, integer: true }) ?? 1024,
  };
  const loaded = await loadSource(rt, p.positionals[0]!, io.stderr, choice(p, 'dtype', SOURCE_DTYPES, 'f32'));
  const server = makeServer(loaded, opts);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new UsageError(`port ${port} on ${host} is in use; pick another with --port`) : err));
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  io.stderr.write(`serving ${loaded.source} on http://${host}:${typeof address === 'object' && address ? address.port : port} (POST /generate, GET /health); Ctrl-C stops\n`);
  io.onListening?.(server);
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    server.once('close', resolve);
  });
  loaded.model.dispose();
}
