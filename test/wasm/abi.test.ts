// The ABI manifest (src/wasm/abi.ts) against the wasm module: every export is listed,
// every listed kernel has a test row in test/kernels/<family>.test.ts (or <family>-*.test.ts), and the JS
// backend's argument mapping matches the wasm kernel on a sample call of each kernel.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/index.js';
import { KERNELS, type KernelName } from '../../src/wasm/abi.js';
import { SAMPLES, callSample, sampleMismatch } from '../helpers/kernel-samples.js';
import { MAX_ARGS } from '../../src/wasm/worker-main.js';

describe('ABI manifest', () => {
  it('lists exactly the kernels the wasm module exports', () => {
    const module = new WebAssembly.Module(readFileSync(new URL('../../build/wasmformer-simd.wasm', import.meta.url)));
    const exported = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
    const meta = ['heap_base', 'gemm_workspace_bytes', 'gemm_small_path', 'quant_rows_bytes', 'attention_split_bytes'];
    expect(exported.filter((n) => !meta.includes(n)).sort()).toEqual(Object.keys(KERNELS).sort());
  });

  it('every kernel\'s arguments fit a worker pool task', () => {
    for (const [name, row] of Object.entries(KERNELS)) expect(row.args.length, name).toBeLessThanOrEqual(MAX_ARGS);
  });

  it('every kernel is called inside a test of its family test files', () => {
    const dir = new URL('../kernels/', import.meta.url);
    const files = readdirSync(dir);
    for (const [name, row] of Object.entries(KERNELS)) {
      const mine = files.filter((f) => f === `${row.family}.test.ts` || (f.startsWith(`${row.family}-`) && f.endsWith('.test.ts')));
      const found = mine.some((f) => {
        const source = readFileSync(new URL(f, dir), 'utf8');
        // a call in a test body, or in a function of the file that a test body calls (through any chain of such functions)
        const bodies = helperBodies(source), calling = new Set<string>();
        for (let grew = true; grew;) {
          grew = false;
          for (const [fn, body] of bodies) {
            if (calling.has(fn) || !(callsKernel(body, name) || [...calling].some((c) => new RegExp(`\\b${c}\\(`).test(body)))) continue;
            calling.add(fn);
            grew = true;
          }
        }
        return testBodies(source).some((body) => callsKernel(body, name) || [...calling].some((fn) => new RegExp(`\\b${fn}\\(`).test(body)));
      });
      expect(found, `${name} is not called inside any it(…) of test/kernels/${row.family}(-*).test.ts`).toBe(true);
    }
  });

  it('the test-row reader sees calls in test bodies only', () => {
    const src = "// sgd_f32 in a comment\nconst x = 'sgd_f32';\nfunction pack(h) { h.k.copy_f32!(1, 2, 3); }\nit('a', () => {\n  /* h.k.adamw_f32!( */ h.k.sumsq_f32!(1, 2, 3); for (const n of ['fill_f32']) h.k[n]!(0, 0, 0); pack(h);\n});\n";
    const bodies = testBodies(src);
    expect(bodies).toHaveLength(1);
    expect(['sumsq_f32', 'fill_f32', 'adamw_f32', 'sgd_f32', 'copy_f32'].map((n) => callsKernel(bodies[0]!, n))).toEqual([true, true, false, false, false]);
    expect(helperBodies(src).get('pack')).toContain('copy_f32');
  });

  it('the JS backend maps every kernel argument as the wasm kernel reads it', async () => {
    const wasm = await createRuntime({ variant: 'simd' });
    const js = await createRuntime({ variant: 'js' });
    for (const name of Object.keys(KERNELS) as KernelName[]) {
      expect(SAMPLES[name], `no sample row for ${name}`).toBeDefined();
      const bad = sampleMismatch(callSample(wasm, name, 1), callSample(js, name, 1));
      if (bad) throw new Error(`${name}: ${bad} (wasm vs js)`);
    }
  });
});

/** The code of every it(…) callback in `source`, comments removed (a name in prose or outside a test does not count). */
function testBodies(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
  const bodies: string[] = [];
  for (const m of code.matchAll(/\bit(?:\.each\([^)]*\))?\(/g)) {
    let depth = 0, i = m.index! + m[0].length - 1;
    const start = i;
    for (; i < code.length; i++) {
      if (code[i] === '(') depth++;
      else if (code[i] === ')' && --depth === 0) break;
    }
    bodies.push(code.slice(start, i + 1));
  }
  return bodies;
}

/** Whether `body` calls kernel `name`: `.name(` / `.name!(`, or names it in a string it then calls through `h.k[…]`. */
function callsKernel(body: string, name: string): boolean {
  return new RegExp(`\\.${name}!?\\s*\\(`).test(body) || (new RegExp(`['"\`]${name}['"\`]`).test(body) && /\bk\[[^\]]+\]!?\(/.test(body));
}

/** The bodies of `function name(…) { … }` declarations anywhere in `source`, by name, comments removed. */
function helperBodies(source: string): Map<string, string> {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
  const out = new Map<string, string>();
  for (const m of code.matchAll(/\bfunction (\w+)\s*\(/g)) {
    let depth = 0, i = m.index! + m[0].length - 1;
    for (; i < code.length; i++) {     // past the parameter list (defaults may hold braces)
      if (code[i] === '(') depth++;
      else if (code[i] === ')' && --depth === 0) break;
    }
    i = code.indexOf('{', i);
    const start = i;
    for (; i < code.length; i++) {
      if (code[i] === '{') depth++;
      else if (code[i] === '}' && --depth === 0) break;
    }
    out.set(m[1]!, code.slice(start, i + 1));
  }
  return out;
}
