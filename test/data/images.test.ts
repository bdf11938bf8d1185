// Image data helpers (src/data/images.ts): the stratified split (disjoint, complete, exact
// sizes, per-class shares, seeded), batch gathering, and the affine augmentation (identity when
// every range is 0, mass kept by a shift and by a small rotation about the centre, a smooth
// elastic bend).
import { describe, expect, it } from 'vitest';
import { Rng, ShapeError, ValueError } from '../../src/index.js';
import { gatherImages, augmentImages, stratifiedSplit } from '../../src/data/images.js';

describe('stratifiedSplit', () => {
  // class sizes of the mnist package's digits 0 … 9
  const sizes = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
  const labels = Int32Array.from(sizes.flatMap((n, d) => Array<number>(n).fill(d)));

  it('splits 10,000 digits into 8,500 / 1,500, disjoint and complete, each digit within one of its 15%', () => {
    const { train, test } = stratifiedSplit(labels, 0.15, 2024);
    expect([train.length, test.length]).toEqual([8500, 1500]);
    const all = new Set([...train, ...test]);
    expect(all.size).toBe(10000);
    sizes.forEach((n, d) => {
      const inTest = test.filter((i) => labels[i] === d).length;
      expect(Math.abs(inTest - 0.15 * n)).toBeLessThan(1);
    });
  });

  it('is fixed by its seed', () => {
    const a = stratifiedSplit(labels, 0.15, 7);
    const b = stratifiedSplit(labels, 0.15, 7);
    expect(Array.from(b.train)).toEqual(Array.from(a.train));
    expect(Array.from(b.test)).toEqual(Array.from(a.test));
    expect(Array.from(stratifiedSplit(labels, 0.15, 8).test)).not.toEqual(Array.from(a.test));
  });

  it('rejects bad fractions and labels', () => {
    expect(() => stratifiedSplit(labels, 1, 1)).toThrow(ValueError);
    expect(() => stratifiedSplit([0, 1, -2], 0.5, 1)).toThrow(/label -2 at index 2/);
  });
});

describe('gatherImages and augmentImages', () => {
  const img = (seed: number, n: number) => {
    const r = new Rng(seed);
    return Float32Array.from({ length: n }, () => r.uniform());
  };

  it('gathers whole images and their labels, and names an index outside the set', () => {
    const images = img(1, 5 * 6);
    const out = new Float32Array(2 * 6);
    const y = new Int32Array(2);
    gatherImages(out, y, images, [10, 11, 12, 13, 14], [3, 1], 6);
    expect(Array.from(out)).toEqual([...images.subarray(18, 24), ...images.subarray(6, 12)]);
    expect(Array.from(y)).toEqual([13, 11]);
    expect(() => gatherImages(out, null, images, null, [5], 6)).toThrow(ShapeError);
    expect(() => gatherImages(out, null, images, null, [5], 6)).toThrow(/index 5 is outside the 5 images/);
  });

  it('is the identity with zero ranges; a shift moves a dot and keeps its mass', () => {
    const x = img(2, 2 * 3 * 8 * 8);
    const copy = x.slice();
    augmentImages(x, { n: 2, C: 3, H: 8, W: 8 }, {}, new Rng(1));
    expect(Array.from(x)).toEqual(Array.from(copy));
    // a single bright pixel keeps its total mass under a sub-pixel shift well inside the image
    for (let seed = 0; seed < 5; seed++) {
      const dot = new Float32Array(9 * 9);
      dot[4 * 9 + 4] = 1;
      augmentImages(dot, { n: 1, C: 1, H: 9, W: 9 }, { shift: 2 }, new Rng(seed));
      const mass = dot.reduce((s, v) => s + v, 0);
      expect(mass).toBeCloseTo(1, 5);   // bilinear weights sum to 1
      expect(dot[4 * 9 + 4]).toBeLessThan(1);   // it moved
    }
  });

  it('rotates about the centre: a small rotation keeps a centred blob\'s mass and centre', () => {
    const H = 15;
    const blob = new Float32Array(H * H);
    for (let y = 5; y <= 9; y++) for (let x = 5; x <= 9; x++) blob[y * H + x] = 1;
    augmentImages(blob, { n: 1, C: 1, H, W: H }, { rotate: 15 }, new Rng(3));
    let m = 0, cy = 0, cx = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < H; x++) { const v = blob[y * H + x]!; m += v; cy += v * y; cx += v * x; }
    expect(m).toBeGreaterThan(24);   // 25 before; bilinear resampling of a square loses a little at its corners
    expect(m).toBeLessThan(25.5);
    expect(cy / m).toBeCloseTo(7, 1);
    expect(cx / m).toBeCloseTo(7, 1);
    expect(() => augmentImages(blob, { n: 2, C: 1, H, W: H }, {}, new Rng(1))).toThrow(/225 pixels, expected n·C·H·W = 2·1·15·15/);
  });

  it('elastic distortion: α = 0 is the identity; a smooth field bends a stroke without losing it', () => {
    const H = 20;
    const line = new Float32Array(H * H);
    for (let y = 3; y < 17; y++) line[y * H + 10] = 1;   // a vertical stroke
    const still = line.slice();
    augmentImages(still, { n: 1, C: 1, H, W: H }, { elastic: { alpha: 0, sigma: 3 } }, new Rng(4));
    expect(Array.from(still)).toEqual(Array.from(line));
    const bent = line.slice();
    augmentImages(bent, { n: 1, C: 1, H, W: H }, { elastic: { alpha: 6, sigma: 3 } }, new Rng(4));
    expect(Array.from(bent)).not.toEqual(Array.from(line));
    const mass = bent.reduce((s, v) => s + v, 0);
    expect(mass).toBeGreaterThan(14 * 0.7);   // displacements of a pixel or two: the stroke stays, a little thinner or thicker
    expect(mass).toBeLessThan(14 * 1.3);
    // smooth: neighbouring rows of the stroke stay within a pixel or so of each other
    const centre = (y: number) => { let m = 0, c = 0; for (let x = 0; x < H; x++) { m += bent[y * H + x]!; c += x * bent[y * H + x]!; } return c / m; };
    for (let y = 5; y < 15; y++) expect(Math.abs(centre(y + 1) - centre(y))).toBeLessThan(1);
  });
});
