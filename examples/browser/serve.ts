// A small static server for the demo (node:http, no dependencies): builds it (build.ts), then
// serves the output folder on 127.0.0.1 with the headers the page needs:
// - Cross-Origin-Opener-Policy: same-origin + Cross-Origin-Embedder-Policy: require-corp make
//   the page cross-origin isolated (SharedArrayBuffer and wasm threads need that);
// - a Content-Security-Policy that allows WebAssembly compilation ('wasm-unsafe-eval'), workers
//   from blob: URLs (the kernels' thread pool) and nothing from other origins. Sent with every response, so the worker gets it too;
// - `application/wasm` for .wasm files, so the worker compiles them while they stream in.
//
// Run: `npx tsx examples/browser/serve.ts [--port 8080]` (or PORT=8080), then open the URL it prints.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildDemo, DEFAULT_OUTDIR } from './build.js';

/** Sent with every response. */
export const HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Content-Security-Policy': [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'", // compiling the .wasm kernels needs 'wasm-unsafe-eval'
    "style-src 'self'",
    "img-src 'self' data:", // data: for the empty favicon
    "connect-src 'self'",
    "worker-src 'self' blob:", // the kernels' worker pool starts its threads from a blob: URL
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
};

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
};

export interface ServerOptions {
  /** Default 8080; 0 takes a free port. */
  port?: number;
  /** Default 127.0.0.1 (this machine only). */
  host?: string;
  /** Folder to build into and serve. Default examples/browser/dist. */
  outdir?: string;
  /** Build before serving (default true); false serves what outdir holds. */
  build?: boolean;
}

export interface DemoServer {
  /** e.g. `http://127.0.0.1:8080/` */
  url: string;
  close(): Promise<void>;
}

/**
 * Builds the demo and serves it. Only GET and HEAD of files inside outdir are answered; `/`
 * is index.html; anything else is 404 (or 405 for other methods).
 * @example
 * ```ts
 * const server = await startServer({ port: 0 });
 * console.log(server.url); // http://127.0.0.1:40123/
 * await server.close();
 * ```
 */
export async function startServer(opts: ServerOptions = {}): Promise<DemoServer> {
  const root = resolve(opts.outdir ?? DEFAULT_OUTDIR);
  if (opts.build ?? true) await buildDemo({ outdir: root });
  const server = createServer((req, res) => {
    answer(root, req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`internal error: ${(err as Error).message}`);
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 8080, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/`,
    close: () => new Promise<void>((ok) => {
      server.close(() => ok());
      server.closeAllConnections();
    }),
  };
}

async function answer(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  for (const [name, value] of Object.entries(HEADERS)) res.setHeader(name, value);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('method not allowed');
    return;
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
  } catch {
    path = '\0'; // malformed escapes: not found
  }
  const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
  const info = file.startsWith(root + sep) && !path.includes('\0') ? await stat(file).catch(() => null) : null;
  if (!info?.isFile()) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`not found: ${path}`);
    return;
  }
  const body = await readFile(file);
  res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

// `npx tsx examples/browser/serve.ts [--port N]`
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const i = process.argv.indexOf('--port');
  const port = Number(i > 0 ? process.argv[i + 1] : (process.env.PORT ?? 8080));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve.ts: the port must be an integer 0…65535, got ${i > 0 ? process.argv[i + 1] : process.env.PORT}`);
    process.exit(2);
  }
  const server = await startServer({ port }).catch((err: NodeJS.ErrnoException) => {
    console.error(err.code === 'EADDRINUSE' ? `serve.ts: port ${port} is in use; try --port ${port + 1} (or --port 0 for any free port)` : err);
    process.exit(1);
  });
  console.log(`wasmformer browser demo: ${server.url}   (Ctrl+C stops it)`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void server.close().then(() => process.exit(0)));
}
