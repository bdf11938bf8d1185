// Bytes that arrive in order, piece by piece: a file read in chunks (io/files.ts), a fetch
// response's body, or bytes already in memory. Loaders read a header with `readExact` and then
// the rest as it comes, so large weights go straight to their destination (wasm memory) without
// the whole file ever sitting in JS memory.
import { FileError } from '../errors.js';

/** A source of bytes read front to back. */
export interface ByteStream {
  /** Where the bytes come from (a path or URL), for messages. */
  readonly name: string;
  /** Total bytes when known (a file's size, a response's Content-Length), else null. */
  readonly size: number | null;
  /** The next bytes, at most `max` of them (at least 1 unless the stream has ended: then empty); valid until the next read (the buffer may be reused). */
  read(max: number): Promise<Uint8Array>;
  /** Releases the file or connection; safe to call twice. */
  close(): Promise<void>;
}

/**
 * A ByteStream over bytes in memory (tests, bytes fetched by other means).
 * @example
 * ```ts
 * const s = bytesStream(await (await fetch(url)).bytes(), url);
 * ```
 */
export function bytesStream(bytes: Uint8Array, name = 'bytes'): ByteStream {
  let at = 0;
  return {
    name, size: bytes.length,
    async read(max) {
      const out = bytes.subarray(at, Math.min(bytes.length, at + max));
      at += out.length;
      return out;
    },
    async close() {},
  };
}

/**
 * Exactly `n` bytes from `stream` (a fresh array), or a FileError naming what was asked when the
 * stream ends first.
 * @example
 * ```ts
 * const head = await readExact(stream, 8, 'the safetensors header length');
 * ```
 */
export async function readExact(stream: ByteStream, n: number, what: string): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  for (let at = 0; at < n;) {
    const chunk = await stream.read(n - at);
    if (chunk.length === 0) throw new FileError(stream.name, undefined, `${stream.name} ends after ${at} of the ${n} bytes of ${what}; the file is truncated`);
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** What `openUrlStream` needs of `fetch` (the global one by default). */
export type Fetch = (url: string) => Promise<Response>;

/**
 * The body of a GET of `url` as a ByteStream. A status other than 2xx, or an HTML page where data
 * was expected (a login or error page), is a FileError naming the URL before any byte is read.
 * @example
 * ```ts
 * const s = await openUrlStream('https://example.com/gpt2/model.safetensors');
 * ```
 */
export async function openUrlStream(url: string, fetchFn: Fetch = globalThis.fetch): Promise<ByteStream> {
  if (typeof fetchFn !== 'function') throw new FileError(url, undefined, `cannot fetch '${url}': this runtime has no fetch; pass one in the options`);
  let response: Response;
  try {
    response = await fetchFn(url);
  } catch (err) {
    throw new FileError(url, undefined, `cannot fetch '${url}': ${(err as Error).message}`, { cause: err });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw new FileError(url, String(response.status), `cannot fetch '${url}': HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
  }
  const type = response.headers.get('content-type') ?? '';
  if (/^text\/html\b/i.test(type)) {
    await response.body?.cancel().catch(() => {});
    throw new FileError(url, 'HTML', `cannot use '${url}': the server answered with an HTML page (content-type ${type}), not the file; is the URL right?`);
  }
  const length = Number(response.headers.get('content-length'));
  const reader = response.body?.getReader();
  let pending: Uint8Array = new Uint8Array(0);
  let done = !reader;
  return {
    name: url,
    size: Number.isSafeInteger(length) && length >= 0 && response.headers.has('content-length') ? length : null,
    async read(max) {
      while (pending.length === 0 && !done) {
        const next = await reader!.read();
        if (next.done) done = true;
        else pending = next.value;
      }
      const out = pending.subarray(0, max);
      pending = pending.subarray(out.length);
      return out;
    },
    async close() {
      if (!done) {
        done = true;
        await reader?.cancel().catch(() => {});
      }
    },
  };
}

/**
 * Everything left in `stream`, then closed (also when a read fails).
 * @example
 * ```ts
 * const model = await readAll(await folder.stream('spiece.model'));
 * ```
 */
export async function readAll(stream: ByteStream): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  try {
    for (let chunk = await stream.read(1 << 20); chunk.length > 0; chunk = await stream.read(1 << 20)) parts.push(chunk.slice());
  } finally {
    await stream.close();
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { bytes.set(p, at); at += p.length; }
  return bytes;
}

/**
 * A URL's body as text (config.json, tokenizer files), with openUrlStream's checks.
 * @example
 * ```ts
 * const config = JSON.parse(await fetchText('https://example.com/gpt2/config.json'));
 * ```
 */
export async function fetchText(url: string, fetchFn: Fetch = globalThis.fetch): Promise<string> {
  const bytes = await readAll(await openUrlStream(url, fetchFn));
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new FileError(url, undefined, `cannot use '${url}': it is not UTF-8 text`, { cause: err });
  }
}
