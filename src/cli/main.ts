#!/usr/bin/env node
// The `wasmformer` command. Every mistake — a bad option, a missing file, an unsupported model —
// prints one line saying what is wrong and how to fix it, and exits non-zero (2 for usage, 1
// otherwise); WASMFORMER_DEBUG=1 adds the stack.
import { WasmformerError } from '../errors.js';
import { createRuntime, type Runtime } from '../runtime.js';
import { num, parse, UsageError } from './args.js';
import { benchCommand, BENCH_HELP } from './bench.js';
import { generateCommand, GENERATE_HELP } from './generate.js';
import { quantizeCommand, QUANTIZE_HELP } from './quantize.js';
import { serveCommand, SERVE_HELP } from './serve.js';
import { tokenizeCommand, TOKENIZE_HELP } from './tokenize.js';
import { trainCommand, TRAIN_HELP } from './train.js';

const USAGE = `usage: wasmformer [--threads N] [--variant auto|simd|relaxed|js] <command> …
commands:
  generate <model> [prompt]   continue a prompt, streaming to stdout
  serve <model>               HTTP JSON + server-sent events API
  train <text file>           train a GPT on a text file (characters or BPE)
  quantize <model> <out>      write int8, f16 or bf16 weights
  tokenize <source> [text]    token ids of a text (or --decode ids)
  bench [model]               this machine's speed (GEMM, training step, or a model's decoding)
<model> is a Hugging Face folder or URL, or a .safetensors file written by wasmformer.
Run 'wasmformer <command> --help' for its options.`;

const HELP: Record<string, string> = { generate: GENERATE_HELP, serve: SERVE_HELP, train: TRAIN_HELP, quantize: QUANTIZE_HELP, tokenize: TOKENIZE_HELP, bench: BENCH_HELP };

/** Reads stdin when it is piped (not a terminal); null otherwise. */
async function readStdin(): Promise<string | null> {
  if (process.stdin.isTTY) return null;
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(chunk as Buffer);
  return parts.length ? Buffer.concat(parts).toString('utf8') : null;
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[], io = { stdout: process.stdout, stderr: process.stderr, readStdin }): Promise<number> {
  // global options come before the command
  const at = argv.findIndex((a, i) => !a.startsWith('-') && !(i > 0 && ['--threads', '--variant'].includes(argv[i - 1]!)));
  const globals = parse('', at < 0 ? argv : argv.slice(0, at), { threads: { type: 'string' }, variant: { type: 'string' } });
  const command = at < 0 ? undefined : argv[at]!;
  const rest = at < 0 ? [] : argv.slice(at + 1);
  if (command === undefined || globals.values.help) {
    io.stdout.write(USAGE + '\n');
    return command === undefined && !globals.values.help ? 2 : 0;
  }
  if (!(command in HELP)) throw new UsageError(`unknown command '${command}'; commands: ${Object.keys(HELP).join(', ')} (see: wasmformer --help)`);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(HELP[command] + '\n');
    return 0;
  }
  const variant = (globals.values.variant as string | undefined) ?? 'auto';
  if (!['auto', 'simd', 'relaxed', 'js'].includes(variant)) throw new UsageError(`--variant is '${variant}', expected auto, simd, relaxed or js`);
  const threads = num(globals, 'threads', { min: 1, max: 256, integer: true });
  if (command === 'tokenize') {
    await tokenizeCommand(rest, io);
    return 0;
  }
  const rt: Runtime = await createRuntime({ variant: variant as 'auto', ...(threads ? { threads } : {}) });
  try {
    if (command === 'generate') await generateCommand(rt, rest, io);
    else if (command === 'serve') await serveCommand(rt, rest, io);
    else if (command === 'train') await trainCommand(rt, rest, io);
    else if (command === 'quantize') await quantizeCommand(rt, rest, io);
    else await benchCommand(rt, rest, io);
  } finally {
    rt.dispose();
  }
  return 0;
}

/** One line for an error: ours say what to fix; anything else is reported as unexpected. */
export function errorLine(err: unknown): string {
  if (err instanceof WasmformerError) return `wasmformer: ${err.message}`;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EPIPE') return '';
  return `wasmformer: unexpected error: ${e?.message ?? String(err)} (run with WASMFORMER_DEBUG=1 for the stack, and please report it)`;
}

const entry = process.argv[1] ?? '';
if (/wasmformer(\.js|\.mjs|\.ts)?$|cli[\\/]main\.(js|ts)$|bundle[\\/]cli\.js$/.test(entry)) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
    const line = errorLine(err);
    if (line) process.stderr.write(line + '\n');
    if (process.env.WASMFORMER_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  });
}
