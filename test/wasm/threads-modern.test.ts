// The worker pool's splits of the RMSNorm, SwiGLU and RoPE kernels (src/wasm/parallel.ts; the plans
// also of the f32 ↔ bf16 conversions, whose bits test/train/mixed-precision.test.ts compares): the
// same bits for 1, 2 and 3 threads, forward and backward, with strided inputs (gate|up halves of
// one tensor, K inside a fused qkv), and the calls really split (every thread ran tasks).
import { describe, expect, it } from 'vitest';
import { createRuntime, rmsnorm, rmsnormBackward, swiglu, swigluBackward, ropeForward, ropeBackward, type Runtime, type Tensor } from '../../src/index.js';
import { plan, setSplitLimits } from '../../src/wasm/parallel.js';
import type { KernelName } from '../../src/wasm/abi.js';

const bits = (t: Tensor) => Array.from(new Int32Array(t.f32().slice().buffer));

describe('split plans', () => {
  it('each kernel of the three families is split, by whole rows (columns for dweight), covering every unit once', () => {
    const limits = setSplitLimits({ columnMinBytes: 64 << 10 });
    try {
      const P = 1 << 20;   // any addresses: plans only compute them
      const cases: [KernelName, number[], number, number[]][] = [   // kernel, args, units argument, [pointer arg, floats per unit]…
        ['rmsnorm_forward', [P, 2 * P, 3 * P, 4 * P, 1024, 257, 1e-6], 4, [0, 257, 1, 1, 2, 257]],
        ['rmsnorm_backward', [P, 2 * P, 3 * P, 4 * P, 5 * P, 1024, 257], 5, [0, 257, 1, 257, 2, 257, 4, 1]],
        ['rmsnorm_backward_params', [P, 2 * P, 3 * P, 4 * P, 1024, 257, 257], 5, [0, 1, 1, 1, 2, 1]],
        ['swiglu_forward', [P, 2 * P, 3 * P, 512, 259, 518], 3, [0, 259, 1, 518, 2, 518]],
        ['swiglu_backward', [P, 2 * P, 3 * P, 4 * P, 5 * P, 512, 259, 518], 5, [0, 518, 1, 518, 2, 259, 3, 518, 4, 518]],
        ['rope_forward', [P, 2 * P, 3 * P, 4 * P, 7, 512, 4, 66, 34, 792], 5, [0, 264, 1, 792, 3, 1]],
        ['rope_backward', [P, 2 * P, 3 * P, 4 * P, 7, 512, 4, 66, 34, 792], 5, [0, 792, 1, 264, 3, 1]],
        ['pack_bf16', [P, 2 * P, 1 << 20], 2, [0, 0.5, 1, 1]],                       // bf16 out: 2 bytes per element
        ['unpack_bf16', [P, 2 * P, 1 << 20], 2, [0, 1, 1, 0.5]],
      ];
      for (const [name, args, count, steps] of cases) {
        const stages = plan({} as never, name, args, 2);
        expect(stages, name).not.toBeNull();
        const tasks = stages![0]!.tasks;
        expect(tasks.length, name).toBeGreaterThan(1);
        let next = 0;
        for (const t of tasks) {
          for (let i = 0; i < steps.length; i += 2) expect(t[steps[i]!], `${name} arg ${steps[i]}`).toBe(args[steps[i]!]! + 4 * next * steps[i + 1]!);
          next += t[count]!;
        }
        expect(next, name).toBe(args[count]);
      }
    } finally {
      setSplitLimits(limits);
    }
  });
});

describe.each(['simd', 'relaxed'] as const)('same bits for 1, 2 and 3 threads: rmsnorm, swiglu, rope (%s)', (variant) => {
  it('every split kernel of the three families', async () => {
    // the split rules are under test, not the sizes where they pay: the column split runs too
    const limits = setSplitLimits({ columnMinBytes: 64 << 10 });
    const results: Record<string, number[]>[] = [], spread: number[][] = [];
    try {
      for (const threads of [1, 2, 3]) {
        const rt: Runtime = await createRuntime({ variant, threads });
        try {
          const x = rt.randn([1024, 257], { seed: 1 }), w = rt.randn([257], { seed: 2 });
          const dx0 = rt.randn([1024, 257], { seed: 3 }), dw0 = rt.randn([257], { seed: 4 }), dn = rt.randn([1024, 257], { seed: 5 });
          const gu = rt.randn([4, 128, 2 * 259], { seed: 6, std: 3 });
          const g = { t: gu, col: 0, width: 259 }, u = { t: gu, col: 259, width: 259 };
          const dgu0 = rt.randn([4, 128, 2 * 259], { seed: 7 }), dh = rt.randn([4, 128, 259], { seed: 8 });
          const qkv = rt.randn([4, 128, 3 * 264], { seed: 9 });   // 4 heads of 66, partial rotary 34
          const dqkv0 = rt.randn([4, 128, 3 * 264], { seed: 10 }), dr = rt.randn([4, 128, 264], { seed: 11 });
          /** Every kernel once, backward ones adding into fresh copies of their gradient buffers. */
          const run = () => rt.step.scope(() => {
            const out: Record<string, number[]> = {};
            const fresh = (t: Tensor) => { const c = rt.empty(t.shape, { arena: 'step' }); c.f32().set(t.f32()); return c; };
            const n = rmsnorm(rt, x, w);
            out.rmsnorm = [...bits(n.out), ...bits(n.rstd)];
            const dx = fresh(dx0), dw = fresh(dw0);
            rmsnormBackward(rt, dx, dw, dn, x, w, n.rstd);
            out.rmsnormBackward = [...bits(dx), ...bits(dw)];
            out.swiglu = bits(swiglu(rt, g, u));
            const dgu = fresh(dgu0);
            swigluBackward(rt, dgu, dgu, dh, g, u);
            out.swigluBackward = bits(dgu);
            const r = ropeForward(rt, { t: qkv, col: 264, width: 264 }, 4, { pos0: 7, rotaryDim: 34 });
            out.rope = bits(r.out);
            const dqkv = fresh(dqkv0);
            ropeBackward(rt, dqkv, dr, r.state);
            out.ropeBackward = bits(dqkv);
            return out;
          });
          const first = run();
          // on a loaded machine the caller may finish a call's tasks before a worker wakes: a few more rounds, same bits
          for (let i = 0; i < 20 && threads > 1 && rt.threadStats.tasks.some((t) => t === 0); i++) expect(run()).toEqual(first);
          results.push(first);
          spread.push(rt.threadStats.tasks);
        } finally {
          rt.dispose();
        }
      }
    } finally {
      setSplitLimits(limits);
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
    expect(spread[0]).toEqual([0]);
    for (const s of spread.slice(1)) for (const t of s) expect(t).toBeGreaterThan(0);
  });
});
