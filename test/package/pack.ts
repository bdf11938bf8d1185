// The package as users get it: `npm pack` the repo into a temp dir, then `npm install` the
// tarball into fresh consumer projects under os.tmpdir() (outside the repo, so nothing can
// resolve the repo's own node_modules), and run commands in them.
//
// Set WASMFORMER_KEEP_TMP=1 to keep the tarball and the consumers for a look afterwards.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { smoke, type SmokeResult } from './fixtures/smoke.js';

export type { SmokeResult };

/** The repository root. */
export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** Files copied into consumers (smoke.js runs unchanged in every runtime). */
export const FIXTURES = join(REPO, 'test', 'package', 'fixtures');
/** The repo's own tools (tsc, deno, workerd, esbuild, vite): consumers never install them. */
export const bin = (name: string): string => join(REPO, 'node_modules', '.bin', name);

const KEEP = process.env.WASMFORMER_KEEP_TMP === '1';

/** What the library build puts where `npm pack` expects it. */
export const BUILD_OUTPUTS = [
  'dist/index.js',
  'dist/index.d.ts',
  'dist/bundle/cli.js',
  'build/wasmformer-simd.wasm',
  'build/wasmformer-relaxed.wasm',
  'build/wasmformer-threads.wasm',
  'build/wasmformer-relaxed-threads.wasm',
];

/**
 * The environment for child processes: this one without npm's `npm_*` variables (set when the
 * tests run under `npm test`, they would leak the repo's config into the consumer's npm).
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || k === 'INIT_CWD' || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command to completion (never throws on a non-zero exit: tests assert on it). Kills it after `timeoutMs`. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string },
): Promise<RunResult> {
  const t0 = Date.now();
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${opts.timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      ok({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** A command's output for an assertion message. */
export function describeRun(what: string, r: RunResult): string {
  return `${what}: exit ${r.code}${r.signal ? ` (${r.signal})` : ''} after ${r.ms} ms\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`;
}

/** Runs and requires exit 0, else throws with the output. */
export async function runOk(cmd: string, args: string[], opts: Parameters<typeof run>[2]): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(describeRun(`${cmd} ${args.join(' ')}`, r));
  return r;
}

/** The last line of stdout parsed as JSON (consumers print one JSON line at the end). */
export function lastJson<T = unknown>(r: RunResult): T {
  const lines = r.stdout.trim().split('\n');
  const last = lines.at(-1) ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(describeRun('expected a JSON line on stdout', r));
  }
}

/** One entry of `npm pack --json`. */
export interface PackInfo {
  name: string;
  version: string;
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string; size: number; mode: number }[];
}

export interface Packed {
  /** Absolute path of the .tgz. */
  tgz: string;
  info: PackInfo;
  /** Whether `npm pack` ran the `prepack` build (it does when the build outputs are missing). */
  built: boolean;
  cleanup(): void;
}

/** Parses `npm pack --json` stdout, which lifecycle-script output may precede. */
export function parsePackJson(stdout: string): PackInfo[] {
  const at = stdout.search(/^\[\s*$/m);
  if (at < 0) throw new Error(`npm pack printed no JSON:\n${stdout.slice(-2000)}`);
  return JSON.parse(stdout.slice(at)) as PackInfo[];
}

/**
 * `npm pack`s the repo into a fresh temp dir. When the build outputs exist (the test command
 * builds first) scripts are skipped; otherwise `prepack` runs the full build, as on publish.
 * `dryRun` only lists (no tarball).
 */
export async function pack(opts: { dryRun?: boolean } = {}): Promise<Packed> {
  const dir = mkdtempSync(join(tmpdir(), 'wasmformer-pack-'));
  const built = BUILD_OUTPUTS.every((f) => existsSync(join(REPO, f)));
  const args = ['pack', '--json', '--pack-destination', dir];
  if (built) args.push('--ignore-scripts');
  if (opts.dryRun) args.push('--dry-run');
  const r = await run('npm', args, { cwd: REPO, timeoutMs: built ? 60_000 : 300_000 });
  if (r.code !== 0) throw new Error(describeRun(`npm ${args.join(' ')}`, r));
  const [info] = parsePackJson(r.stdout);
  if (!info) throw new Error(`npm pack listed no package:\n${r.stdout}`);
  const tgz = join(dir, info.filename);
  if (!opts.dryRun && !existsSync(tgz)) throw new Error(`npm pack reported ${info.filename} but ${tgz} does not exist`);
  return {
    tgz,
    info,
    built: !built,
    cleanup: () => {
      if (!KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Consumer {
  /** The consumer project's directory (under os.tmpdir()). */
  dir: string;
  /** The installed package: `<dir>/node_modules/wasmformer`. */
  pkgDir: string;
  /** Absolute path of a file in the consumer. */
  path(rel: string): string;
  /** Writes a file (creating directories). */
  write(rel: string, text: string | Uint8Array): string;
  /** Runs a command in the consumer dir. */
  run(cmd: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string }): Promise<RunResult>;
  cleanup(): void;
}

/**
 * A fresh consumer project: package.json (`type: module`), `npm install <tarball>` (offline:
 * the package has no dependencies), then `files` and the shared smoke.js written in.
 */
export async function createConsumer(packed: Packed, name: string, files: Record<string, string> = {}): Promise<Consumer> {
  const dir = mkdtempSync(join(tmpdir(), `wasmformer-consumer-${name}-`));
  if (dir.startsWith(REPO + sep)) throw new Error(`consumer ${dir} lies inside the repo`);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, version: '1.0.0', private: true, type: 'module' }, null, 2) + '\n');
  const env = childEnv({ npm_config_update_notifier: 'false' });
  const r = await run('npm', ['install', '--no-audit', '--no-fund', '--offline', '--loglevel=error', packed.tgz], { cwd: dir, env, timeoutMs: 90_000 });
  if (r.code !== 0) throw new Error(describeRun(`npm install ${packed.tgz} in ${dir}`, r));
  const pkgDir = join(dir, 'node_modules', 'wasmformer');
  if (!existsSync(join(pkgDir, 'package.json'))) throw new Error(`npm install left no ${pkgDir}/package.json`);
  const consumer: Consumer = {
    dir,
    pkgDir,
    path: (rel) => join(dir, rel),
    write(rel, text) {
      const file = join(dir, rel);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
      return file;
    },
    run: (cmd, args, opts = {}) => run(cmd, args, { cwd: opts.cwd ?? dir, env: opts.env, timeoutMs: opts.timeoutMs }),
    cleanup() {
      if (!KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
  copyFileSync(join(FIXTURES, 'smoke.js'), join(dir, 'smoke.js'));
  for (const [rel, text] of Object.entries(files)) consumer.write(rel, text);
  return consumer;
}

/**
 * The files of fixtures/<sub> (flat), as `createConsumer` takes them. A trailing `.txt` is
 * dropped: consumer .ts files are stored as `.ts.txt` so the repo's own tsc (test/tsconfig.json
 * includes test/**\/*.ts) never sees them — bad.ts has deliberate type errors.
 */
export function fixtureFiles(sub: string): Record<string, string> {
  const dir = join(FIXTURES, sub);
  return Object.fromEntries(readdirSync(dir).map((name) => [name.replace(/\.txt$/, ''), readFileSync(join(dir, name), 'utf8')]));
}

/** True when `file` lies inside `dir`. */
export function isInside(file: string, dir: string): boolean {
  const rel = relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** The package.json the tarball holds (read from an installed consumer). */
export function installedPackageJson(consumer: Consumer): {
  exports: Record<string, string | Record<string, string>>;
  types?: string;
  main?: string;
  files?: string[];
} {
  return JSON.parse(readFileSync(join(consumer.pkgDir, 'package.json'), 'utf8'));
}


/**
 * The oracle: smoke.js run in this process on the repo's own sources with the plain-JS
 * kernels (no wasm involved), which a consumer's result must match.
 */
export async function referenceSmoke(): Promise<SmokeResult> {
  return smoke(await import('../../src/index.js'), { variant: 'js' });
}

/** Checks a consumer's smoke result against the reference; returns the problems (empty = fine). */
/** What `createRuntime()` with no options loads here for an instruction set: its shared-memory build where there is more than one core (threads by default), else the build itself. */
export function autoBuild(isa: 'simd' | 'relaxed'): string {
  return availableParallelism() > 1 ? (isa === 'relaxed' ? 'relaxed-threads' : 'threads') : isa;
}

export function smokeProblems(got: SmokeResult | undefined, want: SmokeResult, backend: string | RegExp): string[] {
  if (!got) return ['no result'];
  const p: string[] = [];
  const okBackend = typeof backend === 'string' ? got.backend === backend : backend.test(got.backend);
  if (!okBackend) p.push(`backend ${got.backend}, expected ${backend} (notes: ${got.notes.join(' | ')})`);
  if (JSON.stringify(got.small) !== JSON.stringify([58, 64, 139, 154])) p.push(`2×3·3×2 product ${JSON.stringify(got.small)}, expected [58,64,139,154]`);
  if (!(got.matmulMaxErr < 1e-4)) p.push(`37×53·29 product differs from the naive loop by ${got.matmulMaxErr}`);
  if (got.params !== want.params) p.push(`GPT has ${got.params} parameters, expected ${want.params}`);
  if (got.logitsLength !== want.logitsLength || !got.logitsFinite) p.push(`logits: ${got.logitsLength} values (finite: ${got.logitsFinite}), expected ${want.logitsLength} finite`);
  const headErr = Math.max(...want.logitsHead.map((w, i) => Math.abs(w - (got.logitsHead[i] ?? NaN))));
  if (!(headErr < 1e-4) || !(Math.abs(got.logitsSum - want.logitsSum) < 1e-3)) {
    p.push(`logits differ from the JS reference: head ${JSON.stringify(got.logitsHead)} vs ${JSON.stringify(want.logitsHead)}, sum ${got.logitsSum} vs ${want.logitsSum}`);
  }
  if (JSON.stringify(got.generated) !== JSON.stringify(want.generated)) p.push(`greedy generation ${JSON.stringify(got.generated)}, expected ${JSON.stringify(want.generated)}`);
  // int8 held weights: the kernels and the twins compute the same bits (exact integer sums)
  if (got.heldBytes !== want.heldBytes || !(got.heldBytes > 0)) p.push(`int8 model holds ${got.heldBytes} bytes of int8 weights, expected ${want.heldBytes}`);
  if (!(Math.abs(got.heldLogitsSum - want.heldLogitsSum) < 1e-3)) p.push(`int8 model's logits sum ${got.heldLogitsSum}, expected ${want.heldLogitsSum}`);
  if (JSON.stringify(got.heldGenerated) !== JSON.stringify(want.heldGenerated)) p.push(`int8 model's greedy generation ${JSON.stringify(got.heldGenerated)}, expected ${JSON.stringify(want.heldGenerated)}`);
  return p;
}
