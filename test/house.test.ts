// The house rules that can be checked by reading the sources: only src/ops (and the runtime
// that builds it, src/wasm and src/runtime.ts) calls kernels; the layers above never import
// src/wasm; benches and examples import nothing from test/ (shared drivers live in tools/).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Source lines with comments blanked out (a kernel named in prose is not a call). */
function code(path: string): string[] {
  return readFileSync(path, 'utf8').replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).split('\n').map((l) => l.replace(/\/\/.*$/, ''));
}

/** file:line of every line of `paths` matching `re`. */
function hits(paths: string[], re: RegExp): string[] {
  return paths.flatMap((p) => code(p).flatMap((l, i) => (re.test(l) ? [`${relative(ROOT, p)}:${i + 1}: ${l.trim()}`] : [])));
}

const SRC = files(join(ROOT, 'src'));
const DOOR = /^src\/(ops|wasm)\/|^src\/runtime\.ts$/;

describe('house rules', () => {
  it('only src/ops, src/wasm and the runtime touch the kernel table', () => {
    const outside = SRC.filter((p) => !DOOR.test(relative(ROOT, p)));
    expect(outside.length).toBeGreaterThan(30);   // the scan sees the layers above the door
    expect(hits(outside, /\.kernels\b|\bKernels\b|\bKernelName\b/)).toEqual([]);
  });

  it('layers above src/ops import nothing from src/wasm', () => {
    const above = SRC.filter((p) => /^src\/(fn|nn|models|optim|generate|train|autograd|viz|data|tokenizers|io)\//.test(relative(ROOT, p)));
    expect(hits(above, /from '\.\.\/wasm\//)).toEqual([]);
  });

  it('benches and examples import nothing from test/', () => {
    const users = [...files(join(ROOT, 'bench')), ...files(join(ROOT, 'examples'))];
    expect(hits(users, /from '(\.\.\/)+test\//)).toEqual([]);
  });

  it('the scan finds a kernel call where there is one', () => {
    // the rule above would pass on an empty or misread tree: it must see the calls inside the door
    expect(hits(SRC.filter((p) => relative(ROOT, p).startsWith('src/ops/')), /rt\.kernels\.gemm_f32\(/).length).toBeGreaterThan(0);
  });
});
