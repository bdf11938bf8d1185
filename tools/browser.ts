// Real Chromium for tests and the start-up bench: Debian's /usr/bin/chromium driven by playwright-core (never a
// downloaded browser), and a static file server on 127.0.0.1 that sends the right MIME
// types and, when asked, the two headers that make a page cross-origin isolated.
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Where Debian puts Chromium (`apt-get install chromium`, done by .ci/run). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that keep headless Chromium off this machine's closed network and out of the sandbox it cannot use as root. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

/** True when the Chromium binary is present (tests say why they fail when it is not). */
export function hasChromium(): boolean {
  return existsSync(CHROMIUM);
}

/** A headless Chromium with a fresh profile; `close()` also deletes the profile. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!hasChromium()) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
  const profile = mkdtempSync(join(tmpdir(), 'wasmformer-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};

export interface StaticServerOptions {
  /** Send COOP `same-origin` + COEP `require-corp`, so the page is cross-origin isolated (SharedArrayBuffer, threads). */
  isolated?: boolean;
  /** Extra URL prefixes mapped to directories, e.g. `{ '/build/': 'build' }`. */
  mounts?: Record<string, string>;
  /** Handles a request before the files do; return true when it answered. */
  handle?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
}

export interface StaticServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  close(): Promise<void>;
}

/** Serves `root` (and `mounts`) on 127.0.0.1 at a free port. Paths outside the roots get 404. */
export async function serveStatic(root: string, options: StaticServerOptions = {}): Promise<StaticServer> {
  const mounts: [string, string][] = Object.entries(options.mounts ?? {}).map(([p, d]) => [p, resolve(d)]);
  mounts.push(['/', resolve(root)]);
  const server = createServer(async (req, res) => {
    if (options.isolated) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    res.setHeader('Cache-Control', 'no-store');
    if (options.handle && (await options.handle(req, res))) return;
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    for (const [prefix, dir] of mounts) {
      if (!path.startsWith(prefix)) continue;
      let file = normalize(join(dir, path.slice(prefix.length)));
      if (file !== dir && !file.startsWith(dir + sep)) break;
      if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
      if (!existsSync(file)) continue;
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end(`not found: ${path}`);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((ok) => {
      server.close(() => ok());
      server.closeAllConnections(); // Chromium keeps idle keep-alive sockets open, which would hold close() up
    }),
  };
}
