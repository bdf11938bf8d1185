// Image-classification data on the host: a seeded stratified train/test split, batches
// gathered from a flat image array, and random augmentation (shift, rotation, scale, elastic
// distortion) with bilinear sampling. Plain typed arrays and the library's Rng: a seed gives the same
// split in every runtime (the augmentation's Math.sin/cos may differ in the last bit).
import { ShapeError, ValueError } from '../errors.js';
import { Rng } from '../random.js';

/** Indices of a split: each class keeps its share in both parts. */
export interface Split {
  train: Int32Array;
  test: Int32Array;
}

/**
 * Splits examples into train and test so that each class has (to within one example) the same
 * fraction in test; the per-class counts are rounded by largest remainder, so the test set has
 * exactly round(n · testFraction) examples. Indices are shuffled within each part by `seed`.
 * @throws ValueError for a testFraction outside (0, 1) or a negative or non-integer label.
 * @example
 * ```ts
 * const { train, test } = stratifiedSplit(labels, 0.15, 2024);   // 10,000 digits → 8,500 / 1,500
 * ```
 */
export function stratifiedSplit(labels: ArrayLike<number>, testFraction: number, seed: number): Split {
  if (!(testFraction > 0 && testFraction < 1)) throw new ValueError(`stratifiedSplit: testFraction is ${testFraction}, expected 0 < f < 1`);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0) throw new ValueError(`stratifiedSplit: label ${y} at index ${i} is not an integer ≥ 0`);
    if (!byClass.has(y)) byClass.set(y, []);
    byClass.get(y)!.push(i);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  // largest remainder: floor of each class's share, then one more to the largest fractions
  const want = classes.map((c) => byClass.get(c)!.length * testFraction);
  const take = want.map(Math.floor);
  let left = Math.round(labels.length * testFraction) - take.reduce((a, b) => a + b, 0);
  const order = classes.map((_, i) => i).sort((a, b) => (want[b]! - take[b]!) - (want[a]! - take[a]!) || a - b);
  for (const i of order) if (left-- > 0) take[i]!++;
  const rng = new Rng(seed);
  const train: number[] = [];
  const test: number[] = [];
  classes.forEach((c, i) => {
    const idx = byClass.get(c)!;
    shuffle(idx, rng);
    test.push(...idx.slice(0, take[i]));
    train.push(...idx.slice(take[i]));
  });
  shuffle(train, rng);
  shuffle(test, rng);
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}

/**
 * Fisher–Yates shuffle in place, by `rng`.
 * @example
 * ```ts
 * shuffle(order, new Rng(1));
 * ```
 */
export function shuffle<T extends { length: number; [i: number]: unknown }>(a: T, rng: Rng): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/**
 * out (n, pixels) ← images[indices[i]] for i < n: copies whole images (each `pixels` floats) out
 * of a flat array, and their labels when given.
 * @throws ShapeError when an index is outside the array.
 * @example
 * ```ts
 * gatherImages(x, y, images, labels, order.subarray(0, 64), 784);   // a batch of 64 digits
 * ```
 */
export function gatherImages(out: Float32Array, outLabels: Int32Array | null, images: Float32Array, labels: ArrayLike<number> | null,
  indices: ArrayLike<number>, pixels: number): void {
  const count = images.length / pixels;
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i]!;
    if (!(k >= 0 && k < count)) throw new ShapeError(`gatherImages: index ${k} is outside the ${count} images`);
    out.set(images.subarray(k * pixels, (k + 1) * pixels), i * pixels);
    if (outLabels && labels) outLabels[i] = labels[k]!;
  }
}

/** Ranges of random augmentation. Each draw is uniform in its range; everything defaults to off. */
export interface AugmentOptions {
  /** Largest translation in pixels, each axis (e.g. 2). */
  shift?: number;
  /** Largest rotation in degrees, either way. */
  rotate?: number;
  /** Largest relative change of size, e.g. 0.1 for ×0.9 … ×1.1. */
  scale?: number;
  /**
   * Elastic distortion (Simard, Steinkraus & Platt, 2003): a field of uniform(−1, 1)
   * displacements, smoothed by a Gaussian of `sigma` pixels and scaled by `alpha` pixels.
   */
  elastic?: { alpha: number; sigma: number };
}

/**
 * Augments n images (n, C, H, W) in place, one random map per image (all channels alike): an
 * affine part (rotation about the centre, scaling, translation) plus an optional elastic
 * displacement field, sampled bilinearly in one pass; pixels that come from outside the image
 * are 0 (MNIST's background).
 * @example
 * ```ts
 * augmentImages(batch, { n: 64, C: 1, H: 28, W: 28 }, { shift: 2, rotate: 10, scale: 0.1, elastic: { alpha: 8, sigma: 3 } }, rng);
 * ```
 */
export function augmentImages(images: Float32Array, dims: { n: number; C: number; H: number; W: number }, opts: AugmentOptions, rng: Rng): void {
  const { n, C, H, W } = dims;
  const plane = H * W;
  if (images.length !== n * C * plane) throw new ShapeError(`augmentImages: ${images.length} pixels, expected n·C·H·W = ${n}·${C}·${H}·${W}`);
  const src = new Float32Array(C * plane);
  const fy = new Float32Array(plane), fx = new Float32Array(plane);   // elastic displacements (H, W)
  const work = new Float32Array(2 * plane);
  const cy = (H - 1) / 2, cx = (W - 1) / 2;
  const sym = (r: number) => (2 * rng.uniform() - 1) * r;
  for (let i = 0; i < n; i++) {
    const angle = (sym(opts.rotate ?? 0) * Math.PI) / 180;
    const s = 1 + sym(opts.scale ?? 0);
    const ty = sym(opts.shift ?? 0), tx = sym(opts.shift ?? 0);
    if (opts.elastic) {
      elasticField(fy, work, H, W, opts.elastic.alpha, opts.elastic.sigma, rng);
      elasticField(fx, work, H, W, opts.elastic.alpha, opts.elastic.sigma, rng);
    }
    // output pixel p comes from source q = R(−angle)·(p − centre − t) / s + centre + elastic(p)
    const cos = Math.cos(angle) / s, sin = Math.sin(angle) / s;
    const img = images.subarray(i * C * plane, (i + 1) * C * plane);
    src.set(img);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const dy = y - cy - ty, dx = x - cx - tx;
        const sy = cos * dy - sin * dx + cy + (opts.elastic ? fy[y * W + x]! : 0);
        const sx = sin * dy + cos * dx + cx + (opts.elastic ? fx[y * W + x]! : 0);
        const y0 = Math.floor(sy), x0 = Math.floor(sx);
        const ay = sy - y0, ax = sx - x0;
        // bilinear weights of the four neighbours; a neighbour outside the image weighs 0
        const in0 = y0 >= 0 && y0 < H, in1 = y0 + 1 >= 0 && y0 + 1 < H;
        const jn0 = x0 >= 0 && x0 < W, jn1 = x0 + 1 >= 0 && x0 + 1 < W;
        const w00 = in0 && jn0 ? (1 - ay) * (1 - ax) : 0, w01 = in0 && jn1 ? (1 - ay) * ax : 0;
        const w10 = in1 && jn0 ? ay * (1 - ax) : 0, w11 = in1 && jn1 ? ay * ax : 0;
        const base = y0 * W + x0;
        for (let c = 0; c < C; c++) {
          const o = c * plane + base;
          let v = 0;
          if (w00 !== 0) v += w00 * src[o]!;
          if (w01 !== 0) v += w01 * src[o + 1]!;
          if (w10 !== 0) v += w10 * src[o + W]!;
          if (w11 !== 0) v += w11 * src[o + W + 1]!;
          img[c * plane + y * W + x] = v;
        }
      }
    }
  }
}

/**
 * field (H, W) ← alpha · (G_sigma ∗ U(−1, 1)): one component of a smooth displacement field, the
 * noise blurred by a separable Gaussian (radius ⌈3σ⌉, weights summing to 1, zero outside the
 * image). `work` holds 2·H·W scratch floats.
 */
function elasticField(field: Float32Array, work: Float32Array, H: number, W: number, alpha: number, sigma: number, rng: Rng): void {
  const r = Math.ceil(3 * sigma);
  const g = gaussian(sigma, r);
  const noise = work.subarray(0, H * W), rows = work.subarray(H * W, 2 * H * W);
  for (let i = 0; i < H * W; i++) noise[i] = 2 * rng.uniform() - 1;
  // blur along x, then along y
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const k0 = x - r < 0 ? r - x : 0, k1 = x + r >= W ? r + W - 1 - x : 2 * r;   // taps inside the row
      let v = 0;
      for (let k = k0; k <= k1; k++) v += g[k]! * noise[y * W + x - r + k]!;
      rows[y * W + x] = v;
    }
  }
  for (let y = 0; y < H; y++) {
    const k0 = y - r < 0 ? r - y : 0, k1 = y + r >= H ? r + H - 1 - y : 2 * r;
    for (let x = 0; x < W; x++) {
      let v = 0;
      for (let k = k0; k <= k1; k++) v += g[k]! * rows[(y - r + k) * W + x]!;
      field[y * W + x] = alpha * v;
    }
  }
}

let cached: { sigma: number; g: Float32Array } | null = null;

/** The normalised Gaussian kernel G_sigma on −r … r (the last one is reused). */
function gaussian(sigma: number, r: number): Float32Array {
  if (cached && cached.sigma === sigma) return cached.g;
  const g = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let k = -r; k <= r; k++) sum += (g[k + r] = Math.exp(-(k * k) / (2 * sigma * sigma)));
  for (let k = 0; k < g.length; k++) g[k] = g[k]! / sum;
  cached = { sigma, g };
  return g;
}
