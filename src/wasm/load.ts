// Gets a compiled WebAssembly.Module for a variant, from whatever the runtime allows:
// a pre-compiled Module (Cloudflare workerd forbids compiling bytes), bytes, a URL that
// is fetched (browsers, bundlers) or read from disk (Node, Deno, Bun), or by default the
// .wasm file shipped next to this module. No top-level Node imports: fs is reached lazily.
import { WasmLoadError } from '../errors.js';

/**
 * The wasm builds. `simd` runs everywhere SIMD does; `relaxed` adds fused multiply-add;
 * `threads` and `relaxed-threads` are the same two on a shared memory, for a worker pool.
 */
export type WasmVariant = 'simd' | 'relaxed' | 'threads' | 'relaxed-threads';
export const WASM_VARIANTS: readonly WasmVariant[] = ['simd', 'relaxed', 'threads', 'relaxed-threads'];

/** Where a variant's wasm comes from. Strings are URLs (absolute, or relative to the page). */
export type WasmSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView | URL | string | Response | PromiseLike<Response>;

/** The .wasm files shipped with the package, found next to this module (written literally for bundlers). */
export function defaultWasmUrl(variant: WasmVariant): URL {
  // `import.meta.url` is undefined in workerd: there the wasm must be passed as a Module.
  if (typeof import.meta.url !== 'string') {
    throw new WasmLoadError(
      `no wasm source for variant '${variant}': this runtime gives modules no URL (import.meta.url is undefined, as in Cloudflare workerd); ` +
        `import the .wasm as a module and pass it: createRuntime({ wasm: { ${variant}: module } })`,
    );
  }
  switch (variant) {
    case 'simd': return new URL('../../build/wasmformer-simd.wasm', import.meta.url);
    case 'relaxed': return new URL('../../build/wasmformer-relaxed.wasm', import.meta.url);
    case 'threads': return new URL('../../build/wasmformer-threads.wasm', import.meta.url);
    case 'relaxed-threads': return new URL('../../build/wasmformer-relaxed-threads.wasm', import.meta.url);
  }
}

interface NodeFs {
  readFile(path: URL): Promise<Uint8Array>;
}

async function readFileUrl(url: URL): Promise<Uint8Array> {
  const g = globalThis as {
    Deno?: { readFile(u: URL): Promise<Uint8Array> };
    process?: { getBuiltinModule?: (id: string) => unknown };
  };
  if (g.Deno) return g.Deno.readFile(url);
  const fs = g.process?.getBuiltinModule?.('node:fs/promises') as NodeFs | undefined;
  if (fs) return fs.readFile(url);
  const response = await fetch(url);
  return new Uint8Array(await response.arrayBuffer());
}

async function compileResponse(response: Response, where: string): Promise<WebAssembly.Module> {
  if (!response.ok) throw new Error(`fetching ${where} failed: HTTP ${response.status} ${response.statusText}`.trimEnd());
  const type = response.headers.get('content-type') ?? '';
  if (typeof WebAssembly.compileStreaming === 'function' && type.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

function isResponse(x: unknown): x is Response {
  return typeof Response === 'function' && x instanceof Response;
}

/**
 * Compiles (or passes through) the module for `variant` from `source`, or from the file
 * shipped next to this module when `source` is undefined. Errors name the variant and the source.
 */
export async function loadModule(variant: WasmVariant, source?: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  let where = 'the given bytes';
  try {
    if (source === undefined || source instanceof URL || typeof source === 'string') {
      const url = source === undefined ? defaultWasmUrl(variant) : new URL(source, (globalThis as { location?: { href: string } }).location?.href);
      where = url.href;
      if (url.protocol === 'file:') return await WebAssembly.compile(await readFileUrl(url) as BufferSource);
      return await compileResponse(await fetch(url), where);
    }
    if (isResponse(source) || (typeof source === 'object' && 'then' in source)) {
      const response = await source;
      where = response.url || 'the given Response';
      return await compileResponse(response, where);
    }
    return await WebAssembly.compile(source as BufferSource);
  } catch (err) {
    if (err instanceof WasmLoadError) throw err;
    const why = err instanceof Error ? err.message : String(err);
    const hint = /disallowed|code generation/i.test(why)
      ? ' (this runtime forbids compiling wasm from bytes, as Cloudflare workerd does: import the .wasm as a module and pass the WebAssembly.Module)'
      : /ENOENT|not ?found|HTTP 404/i.test(why)
        ? ` (the package ships its .wasm files in its build/ folder, exported as 'wasmformer/wasm/${variant}.wasm'; ` +
          'if a bundler moved this code, copy them beside it or pass them: createRuntime({ wasm: { ' + variant + ': url } }))'
        : '';
    throw new WasmLoadError(`wasm variant '${variant}' from ${where} could not be loaded: ${why}${hint}`);
  }
}
