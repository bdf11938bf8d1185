// Parameter groups: a group's learning-rate scale and weight decay, frozen parameters (no update,
// no gradient computed, no gradient memory; thawing makes room again), and layer-wise learning-rate decay lr·decay^(L−k). The update is one
// elementwise kernel per range of equal settings, so each parameter's new value is, bit for bit,
// what the plain optimizer gives at that parameter's own learning rate and decay.
import { describe, expect, it } from 'vitest';
import { AdamW, checkpointBytes, createRuntime, GPT, loadWeights, parseCheckpoint, SGD, trainStep, ValueError, type AdamWOptions } from '../../src/index.js';
import { layerOf } from '../../src/optim/optimizer.js';

const rt = await createRuntime({ variant: 'simd', threads: 1 });
const cfg = { vocabSize: 9, blockSize: 8, nLayer: 2, nHead: 2, dModel: 8 };
const x = Array.from({ length: 16 }, (_, i) => (i * 5) % 9), y = Array.from({ length: 16 }, (_, i) => (i * 2 + 1) % 9);
const t = (d: number[]) => rt.tensor(d, [2, 8], { dtype: 'i32', arena: 'step' });

/** The parameters (by name) after one step of `make(model)` from the same seed and batch. */
function after(make: (m: GPT) => SGD | AdamW, lr = 0.1): Map<string, number[]> {
  const m = new GPT(rt, cfg, { seed: 4 });
  const opt = make(m);
  trainStep(m, opt, () => m.forward(t(x), t(y)).loss!, { step: 0, lr });
  const out = new Map(m.params.list().map((p) => [p.name, Array.from(p.value.f32())]));
  m.dispose(); opt.dispose();
  return out;
}

describe('parameter groups', () => {
  it('a group trains at its own learning-rate scale and weight decay; the rest as the plain optimizer', () => {
    const grouped = after((m) => new SGD(m.params, { weightDecay: 0.01, groups: [{ params: /\.attn\./, lrScale: 0.5, weightDecay: 0.2 }] }));
    const plain = after((m) => new SGD(m.params, { weightDecay: 0.01 }));
    const half = after((m) => new SGD(m.params, { weightDecay: 0.2, decay: 'all-2d' }), 0.05);
    for (const [name, v] of grouped) {
      if (/\.attn\./.test(name)) {
        // lr·0.5 and decay 0.2 on every attention parameter, biases included (the group sets it)
        if (name.endsWith('.weight')) expect(v, name).toEqual(half.get(name));
        else expect(v, name).not.toEqual(plain.get(name));
      } else {
        expect(v, name).toEqual(plain.get(name));
      }
    }
  });

  it('frozen parameters keep their values and get no gradient', () => {
    const m = new GPT(rt, cfg, { seed: 4 });
    const before = new Map(m.params.list().map((p) => [p.name, Array.from(p.value.f32())]));
    const opt = new AdamW(m.params, { groups: [{ params: ['transformer.wte.weight', 'transformer.h.0.attn.c_attn.weight'], frozen: true }] });
    trainStep(m, opt, () => m.forward(t(x), t(y)).loss!, { step: 0, lr: 0.1 });
    for (const p of m.params.list()) {
      const same = Array.from(p.value.f32()).every((v, i) => v === before.get(p.name)![i]);
      expect(same, p.name).toBe(p.name === 'transformer.wte.weight' || p.name === 'transformer.h.0.attn.c_attn.weight');
    }
    // no gradient memory for them: the gradient buffer is the parameters' minus their padded sizes
    const frozen = ['transformer.wte.weight', 'transformer.h.0.attn.c_attn.weight'].map((n) => m.params.get(n)!);
    expect(frozen.map((p) => p.value.grad)).toEqual([null, null]);
    expect(m.params.grads.size).toBe(m.params.flat.size - frozen.reduce((a, p) => a + Math.ceil(p.value.size / 16) * 16, 0));
    m.dispose(); opt.dispose();
  });

  it('frozen parameters leave the others\' updates as they were; thawed, they train again in a new gradient layout', () => {
    const frozenNames = /wpe|h\.1\.mlp/;
    const run = (groups: AdamWOptions['groups'], thawAfter = Infinity) => {
      const m = new GPT(rt, cfg, { seed: 4 });
      const opt = new AdamW(m.params, { weightDecay: 0.1, groups });
      const versions: number[] = [];
      for (let step = 0; step < 3; step++) {
        if (step === thawAfter) m.params.setFrozen(m.params.list().filter((p) => frozenNames.test(p.name)), false);
        rt.step.reset();
        trainStep(m, opt, () => m.forward(t(x), t(y)).loss!, { step, lr: 0.01 });   // no clipping: the norm would count the frozen gradients in one run only
        versions.push(m.params.gradLayoutVersion);
      }
      const out = { values: new Map(m.params.list().map((p) => [p.name, Array.from(p.value.f32())])), grads: m.params.grads.size, flat: m.params.flat.size, versions };
      m.dispose(); opt.dispose();
      return out;
    };
    // frozen, against a learning rate of 0 for the same parameters (their gradients computed, unused)
    const frozen = run([{ params: frozenNames, frozen: true }]), still = run([{ params: frozenNames, lrScale: 0 }]);
    expect(frozen.grads).toBeLessThan(still.grads);
    for (const [name, v] of frozen.values) expect(v, name).toEqual(still.values.get(name));
    // thawed after one step: the buffer is made again with room for them, and they move from then on
    const thawed = run([{ params: frozenNames, frozen: true }], 1);
    expect(thawed.grads).toBe(thawed.flat);
    expect(thawed.versions).toEqual([0, 1, 1]);
    for (const [name, v] of thawed.values) {
      if (frozenNames.test(name)) expect(v, name).not.toEqual(frozen.values.get(name));
    }
  });

  it('optimizer state has no room for frozen parameters either; thawing keeps every other parameter\'s state; checkpoints resume with the same groups', () => {
    const m = new GPT(rt, cfg, { seed: 4 });
    const frozenNames = /wte|h\.0\./;
    const opt = new AdamW(m.params, { groups: [{ params: frozenNames, frozen: true }] });
    trainStep(m, opt, () => m.forward(t(x), t(y)).loss!, { step: 0, lr: 0.01 });
    const ps = m.params, p = ps.get('transformer.h.1.mlp.c_fc.weight')!, n = p.value.size;
    expect(opt.stateTensors().exp_avg!.size).toBe(ps.grads.size);
    expect(ps.grads.size).toBeLessThan(ps.flat.size);
    const before = opt.stateTensors().exp_avg!.f32().slice(ps.gradOffset(p.offset)!, ps.gradOffset(p.offset)! + n);
    expect(before.some((v) => v !== 0)).toBe(true);
    // a checkpoint of this state loads into a fresh optimizer with the same groups, not into one without them
    const ckpt = parseCheckpoint(checkpointBytes(m, { optimizer: opt }));
    const same = new AdamW(m.params, { groups: [{ params: frozenNames, frozen: true }] });
    loadWeights(m, ckpt, same);
    expect(Array.from(same.stateTensors().exp_avg!.f32())).toEqual(Array.from(opt.stateTensors().exp_avg!.f32()));
    same.dispose();
    // thawed: the state is laid out again; the other parameters keep theirs, the thawed start at zero
    ps.setFrozen(ps.list().filter((q) => frozenNames.test(q.name)), false);
    const after = opt.stateTensors().exp_avg!;
    expect(after.size).toBe(ps.flat.size);
    expect(Array.from(after.f32().slice(ps.gradOffset(p.offset)!, ps.gradOffset(p.offset)! + n))).toEqual(Array.from(before));
    const wte = ps.get('transformer.wte.weight')!;
    expect(after.f32().slice(ps.gradOffset(wte.offset)!, ps.gradOffset(wte.offset)! + wte.value.size).every((v) => v === 0)).toBe(true);
    const all = new AdamW(m.params);
    expect(() => loadWeights(m, ckpt, all)).toThrow(/optimizer.exp_avg is missing or has \d+ elements, expected \d+/);
    m.dispose(); opt.dispose(); all.dispose();
  });

  it('layer-wise decay: layer k trains at lr·decay^(L−k) (embeddings 0, blocks 1 … L, norms and head L)', () => {
    expect([layerOf('transformer.wte.weight', 2), layerOf('transformer.h.0.mlp.c_fc.weight', 2), layerOf('transformer.h.1.ln_1.bias', 2), layerOf('transformer.ln_f.weight', 2)]).toEqual([0, 1, 2, 2]);
    expect([layerOf('bert.encoder.layer.3.output.dense.weight', 12), layerOf('bert.embeddings.word_embeddings.weight', 12), layerOf('classifier.weight', 12)]).toEqual([4, 0, 12]);
    const decayed = after((m) => new SGD(m.params, { layerDecay: 0.5 }));
    const at = (scale: number) => after((m) => new SGD(m.params), 0.1 * scale);
    const runs = new Map([[1, at(1)], [0.5, at(0.5)], [0.25, at(0.25)]]);
    for (const [name, v] of decayed) expect(v, name).toEqual(runs.get(0.5 ** (2 - layerOf(name, 2)))!.get(name));
  });

  it('refuses a parameter in two groups, a group matching nothing, and values out of range', () => {
    const m = new GPT(rt, cfg, { seed: 4 });
    expect(() => new AdamW(m.params, { groups: [{ params: /ln_1/ }, { params: /h\.0\./ }] })).toThrow(/parameter transformer.h.0.ln_1.weight is in groups\[0\] and groups\[1\]/);
    expect(() => new AdamW(m.params, { groups: [{ params: /nothing/ }] })).toThrow(/groups\[0\] matches no parameter/);
    expect(() => new AdamW(m.params, { layerDecay: 0 })).toThrow(ValueError);
    expect(() => new AdamW(m.params, { layerDecay: 1.5 })).toThrow(/layerDecay is 1.5, expected a number in \(0, 1\]/);
    expect(() => new SGD(m.params, { groups: [{ params: /ln_f/, lrScale: -1 }] })).toThrow(/lrScale is -1/);
    m.dispose();
  });
});
