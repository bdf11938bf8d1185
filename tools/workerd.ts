// Runs a worker on the real workerd binary (the npm package `workerd`, Cloudflare's runtime)
// for tests and the start-up bench: writes a config.capnp with the given modules, starts `workerd serve` on
// 127.0.0.1 with a port the OS picks (read back over workerd's control fd), waits until it
// answers HTTP, and returns its origin and a stop(). Everything workerd prints is captured
// and put into the error when it fails to start.
//
//   const wd = await startWorkerd({ modules: [
//     { name: 'worker.js', path: 'test-output/edge/worker.js', type: 'esModule' },   // first = main module
//     { name: 'wasmformer/wasm/simd.wasm', path: 'build/wasmformer-simd.wasm', type: 'wasm' },
//     { name: 'model.safetensors', path: 'examples/edge/model.safetensors', type: 'data' },
//   ] });
//   const res = await fetch(`${wd.origin}/health`);
//   await wd.stop();
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';

/** The module types of workerd's config (`Worker.Module`). */
export type WorkerdModuleType = 'esModule' | 'commonJsModule' | 'wasm' | 'data' | 'text' | 'json';

/**
 * One module of the worker. `name` is what code imports (bare names such as
 * `wasmformer/wasm/simd.wasm` match exactly; relative imports resolve against the importer's
 * name). The content comes from a file (`path`, absolute or relative to the working
 * directory), a string (`text`) or bytes (`bytes`).
 */
export interface WorkerdModule {
  name: string;
  type: WorkerdModuleType;
  path?: string;
  text?: string;
  bytes?: Uint8Array;
}

export interface WorkerdOptions {
  /** The worker's modules; the first one is the main module. */
  modules: WorkerdModule[];
  /** Default: 2026-10-01, or the binary's own date if that is older. */
  compatibilityDate?: string;
  compatibilityFlags?: string[];
  /** `env` bindings: a string becomes a text binding, anything else a JSON binding. */
  bindings?: Record<string, unknown>;
  /** Folder for config.capnp and inline modules (default: a fresh temporary folder, removed by stop()). */
  dir?: string;
  /** Give up starting after this long (default 30 s). */
  startTimeoutMs?: number;
  /** The workerd binary (default: $WORKERD_BIN, else the npm package `workerd`'s). */
  binary?: string;
  /** Wait until the worker answers an HTTP request (default true); false returns as soon as workerd listens, so the first request the caller sends is the worker's first (cold-start timing). */
  waitForHttp?: boolean;
}

export interface WorkerdServer {
  /** e.g. `http://127.0.0.1:41234` */
  origin: string;
  port: number;
  /** The config file written. */
  configPath: string;
  /** Everything workerd wrote to stdout and stderr so far (its uncaught errors and console output). */
  output(): string;
  /** Stops workerd (SIGTERM, then SIGKILL after 5 s) and removes the temporary folder. */
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);
const PREFERRED_DATE = '2026-10-01';

function workerdPackage(): { binPath: string; compatibilityDate?: string } {
  const pkgDir = dirname(require.resolve('workerd/package.json'));
  let compatibilityDate: string | undefined;
  try {
    const date = (require('workerd') as { compatibilityDate?: unknown }).compatibilityDate;
    if (typeof date === 'string') compatibilityDate = date;
  } catch {
    // the date is only a default; the binary is what matters
  }
  return { binPath: join(pkgDir, 'bin', 'workerd'), compatibilityDate };
}

/** The compatibility date used when none is given: 2026-10-01, or the binary's date if older. */
export function defaultCompatibilityDate(): string {
  const own = workerdPackage().compatibilityDate;
  return own && own < PREFERRED_DATE ? own : PREFERRED_DATE;
}

/** A Cap'n Proto text string literal (JSON's escapes are a subset capnp accepts for these). */
function capnpString(s: string): string {
  if (/[\u0000-\u001f\u007f]/.test(s)) throw new Error(`workerd config: ${JSON.stringify(s)} contains a control character`);
  return JSON.stringify(s);
}

/** A path for `embed`, relative to the config's folder (capnp reads absolute paths from its import path instead). */
function embedPath(configDir: string, file: string): string {
  const abs = resolve(file);
  if (!existsSync(abs)) throw new Error(`workerd config: module file ${abs} does not exist`);
  return relative(configDir, abs).split(sep).join('/');
}

/**
 * The text of a config.capnp serving `options.modules` as service "main" on socket "http"
 * at `address` (e.g. `127.0.0.1:0`). Inline modules are written into `configDir`.
 */
export function workerdConfig(options: WorkerdOptions, configDir: string, address: string): string {
  if (options.modules.length === 0) throw new Error('workerd config: no modules given');
  const modules = options.modules.map((m, i) => {
    const given = [m.path, m.text, m.bytes].filter((x) => x !== undefined).length;
    if (given !== 1) throw new Error(`workerd config: module ${m.name} needs exactly one of path, text, bytes (got ${given})`);
    let file = m.path;
    if (file === undefined) {
      file = join(configDir, `inline-${i}-${m.name.replace(/[^A-Za-z0-9._-]/g, '_')}`);
      writeFileSync(file, m.text ?? m.bytes!);
    }
    return `    (name = ${capnpString(m.name)}, ${m.type} = embed ${capnpString(embedPath(configDir, file))}),`;
  });
  const bindings = Object.entries(options.bindings ?? {}).map(([name, value]) =>
    typeof value === 'string'
      ? `    (name = ${capnpString(name)}, text = ${capnpString(value)}),`
      : `    (name = ${capnpString(name)}, json = ${capnpString(JSON.stringify(value))}),`);
  const flags = (options.compatibilityFlags ?? []).map(capnpString).join(', ');
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = ${capnpString(address)}, http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
${modules.join('\n')}
  ],
  bindings = [
${bindings.join('\n')}
  ],
  compatibilityDate = ${capnpString(options.compatibilityDate ?? defaultCompatibilityDate())},
  compatibilityFlags = [${flags}],
);
`;
}

/** Starts `workerd serve` with a worker made of `options.modules`; resolves once it answers HTTP. */
export async function startWorkerd(options: WorkerdOptions): Promise<WorkerdServer> {
  const ownDir = options.dir === undefined;
  const dir = ownDir ? mkdtempSync(join(tmpdir(), 'wasmformer-workerd-')) : resolve(options.dir!);
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'config.capnp');
  const cleanup = () => {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    writeFileSync(configPath, workerdConfig(options, dir, '127.0.0.1:0'));
  } catch (err) {
    cleanup();
    throw err;
  }

  const binary = options.binary ?? process.env.WORKERD_BIN ?? workerdPackage().binPath;
  // fd 3 is workerd's control channel: it reports {"event":"listen","socket":"http","port":N}.
  const child = spawn(binary, ['serve', configPath, '--control-fd=3'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const state: { exited: { code: number | null; signal: NodeJS.Signals | null } | null } = { exited: null };
  const exit = new Promise<void>((done) => {
    child.on('exit', (code, signal) => {
      state.exited = { code, signal };
      done();
    });
    child.on('error', (err) => {
      output += `\n[spawn error] ${err.message}`;
      state.exited ??= { code: null, signal: null };
      done();
    });
  });

  // Do not leave workerd running if this process ends without stop().
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (!state.exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!state.exited) child.kill('SIGKILL');
      }, 5000);
      await exit;
      clearTimeout(timer);
    }
    cleanup();
  };

  const timeoutMs = options.startTimeoutMs ?? 30_000;
  try {
    const port = await listenPort(child, exit, timeoutMs, () => state.exited);
    const origin = `http://127.0.0.1:${port}`;
    if (options.waitForHttp !== false) await waitForHttp(origin, Date.now() + timeoutMs, () => state.exited);
    return { origin, port, configPath, output: () => output, stop };
  } catch (err) {
    await stop();
    const why = state.exited ? ` (workerd exited with ${state.exited.code ?? state.exited.signal})` : '';
    throw new Error(`workerd did not start${why}: ${(err as Error).message}\n--- workerd output ---\n${output.trim()}`);
  }
}

function listenPort(child: ChildProcess, exit: Promise<void>, timeoutMs: number, exited: () => unknown): Promise<number> {
  return new Promise<number>((resolvePort, reject) => {
    const control = child.stdio[3] as Readable;
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`no listen event within ${timeoutMs} ms`)), timeoutMs);
    control.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          const msg = JSON.parse(line) as { event?: string; socket?: string; port?: number };
          if (msg.event === 'listen' && msg.socket === 'http' && typeof msg.port === 'number') {
            clearTimeout(timer);
            resolvePort(msg.port);
          }
        } catch {
          // not one of the JSON lines we know
        }
      }
    });
    void exit.then(() => {
      clearTimeout(timer);
      if (exited()) reject(new Error('workerd exited before listening'));
    });
  });
}

async function waitForHttp(origin: string, deadline: number, exited: () => unknown): Promise<void> {
  let last = '';
  while (Date.now() < deadline && !exited()) {
    try {
      const res = await fetch(`${origin}/`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      return; // any HTTP answer will do: the worker is loaded and serving
    } catch (err) {
      last = (err as Error).message;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(exited() ? 'workerd exited before answering' : `no HTTP answer from ${origin}: ${last}`);
}
