// Mutated checkpoints (seeded): flipped bytes in the header and the data, truncations, edited
// header numbers, swapped metadata. Every load either succeeds or throws a WasmformerError
// (never a RangeError, TypeError or a hang); a refused load leaves the model, the optimizer and
// the runtime's memory exactly as they were.
import { describe, expect, it } from 'vitest';
import { AdamW, checkpointBytes, createRuntime, GPT, loadWeights, modelFromCheckpoint, parseCheckpoint, Rng, WasmformerError } from '../../src/index.js';

const MUTATIONS = 1500;

/** FNV-1a over the bytes of `a` (a cheap fingerprint to see that nothing changed). */
function fingerprint(a: Float32Array): number {
  const u8 = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < u8.length; i++) h = Math.imul(h ^ u8[i]!, 0x01000193);
  return h >>> 0;
}

/** One mutation of `good`, chosen by `rng`. */
function mutate(good: Uint8Array, rng: Rng): Uint8Array {
  const b = good.slice();
  const headerEnd = 8 + new DataView(b.buffer).getUint32(0, true);
  const text = () => new TextDecoder().decode(b.subarray(8, headerEnd));
  switch (rng.int(6)) {
    case 0: for (let k = 1 + rng.int(4); k > 0; k--) b[rng.int(headerEnd)] = rng.int(256); return b;   // header bytes
    case 1: for (let k = 1 + rng.int(16); k > 0; k--) b[headerEnd + rng.int(b.length - headerEnd)] = rng.int(256); return b; // data bytes
    case 2: return b.subarray(0, rng.int(b.length));                                                     // truncated
    case 3: {                                                                                            // a number in the header edited
      const t = text(), nums = [...t.matchAll(/\d+/g)];
      const m = nums[rng.int(nums.length)]!;
      const repl = String([0, 1, 2, 7, 65535, 2 ** 31, 2 ** 53, -1][rng.int(8)]);
      return withHeader(b, headerEnd, t.slice(0, m.index) + repl + t.slice(m.index! + m[0].length));
    }
    case 4: {                                                                                            // a JSON token replaced
      const t = text(), at = rng.int(t.length);
      const tok = ['null', '[]', '{}', '"x"', '1e999', '-0', 'true', '[[[[[[[[]]]]]]]]'][rng.int(8)]!;
      return withHeader(b, headerEnd, t.slice(0, at) + tok + t.slice(at + rng.int(8)));
    }
    default: {                                                                                           // header length off by a little
      new DataView(b.buffer).setUint32(0, headerEnd - 8 + rng.int(9) - 4, true);
      return b;
    }
  }
}

function withHeader(b: Uint8Array, headerEnd: number, header: string): Uint8Array {
  const h = new TextEncoder().encode(header), out = new Uint8Array(8 + h.length + b.length - headerEnd);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(b.subarray(headerEnd), 8 + h.length);
  return out;
}

describe('checkpoint fuzz', () => {
  it(`${MUTATIONS} mutated checkpoints: typed errors only, and a refused load changes nothing`, async () => {
    const rt = await createRuntime({ variant: 'simd', threads: 1 });
    const cfg = { vocabSize: 13, blockSize: 16, nLayer: 2, nHead: 2, dModel: 16 };
    const source = new GPT(rt, cfg, { seed: 1 }), sourceOpt = new AdamW(source.params);
    const good = checkpointBytes(source, { optimizer: sourceOpt, position: { step: 0 } });
    const model = new GPT(rt, cfg, { seed: 2 }), optimizer = new AdamW(model.params);
    const rng = new Rng(2024);
    const untyped: string[] = [];
    let refused = 0, loaded = 0;
    for (let i = 0; i < MUTATIONS; i++) {
      const bytes = mutate(good, rng);
      const before = [fingerprint(model.params.flat.f32()), fingerprint(optimizer.stateTensors().exp_avg!.f32()), optimizer.stepCount];
      const memory = rt.memoryReport().persistent.usedBytes;
      try {
        loadWeights(model, parseCheckpoint(bytes), optimizer);
        loaded++;
      } catch (err) {
        refused++;
        if (!(err instanceof WasmformerError)) untyped.push(`mutation ${i}: ${(err as Error).name}: ${(err as Error).message.slice(0, 120)}`);
        expect([fingerprint(model.params.flat.f32()), fingerprint(optimizer.stateTensors().exp_avg!.f32()), optimizer.stepCount], `mutation ${i} changed the model`).toEqual(before);
      }
      try {
        modelFromCheckpoint(rt, parseCheckpoint(bytes)).dispose();
      } catch (err) {
        if (!(err instanceof WasmformerError)) untyped.push(`mutation ${i} (modelFromCheckpoint): ${(err as Error).name}: ${(err as Error).message.slice(0, 120)}`);
      }
      expect(rt.memoryReport().persistent.usedBytes, `mutation ${i} held memory`).toBe(memory);
    }
    expect(untyped).toEqual([]);
    expect(refused).toBeGreaterThan(MUTATIONS / 2);   // the mutations mostly break the file …
    expect(loaded).toBeGreaterThan(0);                // … and some (data bytes that stay finite) load fine
    rt.dispose();
  }, 60_000);
});
