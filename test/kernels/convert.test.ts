// pack_bf16 / unpack_bf16 (mixed precision's activation storage) against their plain-JS twin
// (src/ref/convert.ts) on every wasm variant. Both conversions are exact functions of their input
// (round to nearest even; bf16 → f32 has no rounding), so kernel and twin agree bit for bit:
// lengths around the 8-wide step, odd byte offsets of the bf16 side, ties, subnormals, ±0,
// ±inf, NaN and values that round past the largest finite bf16.
import { describe, expect, it } from 'vitest';
import { harness, VARIANTS, put } from '../helpers/harness';
import { packBf16, unpackBf16 } from '../../src/ref/convert';
import { rng, randomF32 } from '../helpers/rowwise-compare';

const LENGTHS = [0, 1, 7, 8, 9, 15, 16, 17, 768, 771];
const u32 = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0]!;
const f32 = (bits: number) => new Float32Array(Uint32Array.of(bits).buffer)[0]!;
/** Values whose rounding is a corner: ties both ways, just off ties, subnormals, extremes. */
const SPECIAL = [
  0, -0, 1, -1, f32(0x3f808000), f32(0x3f818000), f32(0x3f808001), f32(0x3f807fff), 1e-40, -1e-45, 1.17549435e-38,
  3.3895314e38, f32(0x7f7f8000), f32(0x7f7f7fff), 3.4028235e38, -3.4028235e38, Infinity, -Infinity, NaN, f32(0xffc00001), f32(0x7f800001),
];

describe.each(VARIANTS)('convert %s', (variant) => {
  const h = harness(variant);
  const r = rng(11);

  it('pack_bf16 then unpack_bf16: the twin bit for bit, and unpack(pack(x)) is x rounded', () => {
    for (const n of LENGTHS) for (const shift of [0, 1]) {
      h.reset();
      const x = randomF32(n, () => r.normal() * 2 ** Math.round(r.normal() * 20));
      for (let i = 0; i < Math.min(n, SPECIAL.length); i++) x[(i * 37) % n] = SPECIAL[i]!;
      const want = new Uint8Array(2 * n);
      packBf16(want, x, n);
      const px = put(h, x, shift);
      const pb = h.alloc(n + 1) + 2 * shift;                      // bf16 at an odd 16-bit position when shifted
      h.k.pack_bf16!(pb, px, n);
      const got = new Uint8Array(h.memory.buffer, pb, 2 * n).slice();
      expect(Array.from(got), `${variant} pack n ${n} shift ${shift}`).toEqual(Array.from(want));
      const back = new Float32Array(n), po = put(h, new Float32Array(n).fill(7), shift);
      unpackBf16(back, want, n);
      h.k.unpack_bf16!(po, pb, n);
      const gotBack = h.f32(po, n);
      for (let i = 0; i < n; i++) {
        expect(u32(gotBack[i]!), `${variant} unpack n ${n} element ${i}`).toBe(u32(back[i]!));
        const v = x[i]!;
        if (Number.isNaN(v)) expect(Number.isNaN(back[i]!)).toBe(true);
        else if (Math.abs(v) < 3.3895e38) expect(Math.abs(back[i]! - v)).toBeLessThanOrEqual(Math.max(Math.abs(v) * 2 ** -8, 2 ** -134));   // u = 2^-8 (8 significant bits), or half the subnormal step 2^-133
        else expect(Math.abs(back[i]!)).toBe(f32(0x7f7f0000));                                                     // saturated
      }
    }
  });
});
