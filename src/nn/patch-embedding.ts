// ViT's patch embedding: an image cut into non-overlapping P×P patches, each flattened and
// projected to dModel. Hugging Face stores the projection as a convolution (kernel P, stride
// P) with weight (D, C, P, P); flattening each patch in the order (c, py, px) turns that
// convolution into one GEMM over the patches with the weight seen as (D, C·P·P), so the
// weight keeps its Hugging Face shape in the parameter table and loads unchanged.
// Cutting the patches (im2col) is a host-side gather of the input pixels: the pixels are data,
// not parameters, so it needs no backward.
import { ShapeError, ValueError } from '../errors.js';
import { shapeSize, Tensor } from '../tensor.js';
import { linear } from '../fn/linear.js';
import type { ModelContext } from './context.js';
import type { Parameter, ParameterSet } from './parameters.js';

/** Sizes of a batch of images in PyTorch order (B, C, H, W). */
export interface ImageDims {
  B: number;
  C: number;
  H: number;
  W: number;
}

/**
 * im2col: out (B, N, C·P·P) ← images (B, C, H, W), N = (H/P)·(W/P) patches in row-major grid
 * order (n = gy·W/P + gx), the features of a patch in the order (c, py, px). H and W must be
 * multiples of P (the caller checks). Plain typed arrays, so it runs on any host.
 * @example
 * ```ts
 * const out = new Float32Array(2 * 16 * 49);
 * patchify(out, images, { B: 2, C: 1, H: 28, W: 28 }, 7);   // images (2, 1, 28, 28) → (2, 16, 49)
 * ```
 */
export function patchify(out: Float32Array, images: ArrayLike<number>, dims: ImageDims, P: number): void {
  const { B, C, H, W } = dims;
  const GH = H / P, GW = W / P;
  const K = C * P * P;
  for (let b = 0; b < B; b++) {
    for (let gy = 0; gy < GH; gy++) {
      for (let gx = 0; gx < GW; gx++) {
        const row = ((b * GH + gy) * GW + gx) * K;      // out[b, n, :]
        for (let c = 0; c < C; c++) {
          for (let py = 0; py < P; py++) {
            const src = ((b * C + c) * H + gy * P + py) * W + gx * P;   // images[b, c, gy·P + py, gx·P]
            const dst = row + (c * P + py) * P;
            for (let px = 0; px < P; px++) out[dst + px] = images[src + px]!;
          }
        }
      }
    }
  }
}

/**
 * A parameter seen with another shape of the same size (a reshape), gradient view included,
 * e.g. a conv weight (D, C, P, P) as the matrix (D, C·P·P).
 * @example
 * ```ts
 * const w = parameterView(projection.weight, [64, 49]);   // (64, 1, 7, 7) seen as (64, 49)
 * ```
 */
export function parameterView(p: Parameter, shape: number[]): Tensor {
  const v = p.value;
  const size = shapeSize(shape, 'parameterView');
  if (size !== v.size) throw new ShapeError(`parameterView: ${p.name} has ${v.size} elements, shape [${shape.join(', ')}] has ${size}`);
  const t = v.view(shape);
  t.grad = v.grad ? v.grad.view(shape) : null;
  t.requiresGrad = v.requiresGrad;
  return t;
}

/** The sizes of a patch embedding. */
export interface PatchEmbeddingConfig {
  channels: number;
  patchSize: number;
  dModel: number;
  /** Init std of the projection weight (default 0.02). */
  std?: number;
}

/**
 * patches (B, N, C·P·P) → (B, N, D) with Hugging Face ViT's conv weight `projection.weight`
 * (D, C, P, P) and bias (D).
 * @example
 * ```ts
 * const pe = new PatchEmbedding(ctx, ps, 'vit.embeddings.patch_embeddings', { channels: 1, patchSize: 7, dModel: 64 });
 * ps.allocate(rt, 1);
 * const x = pe.forward(pe.patches(images, { B: 8, C: 1, H: 28, W: 28 }));   // (8, 16, 64)
 * ```
 */
export class PatchEmbedding {
  readonly weight: Parameter;   /* (D, C, P, P) */
  readonly bias: Parameter;     /* (D) */
  readonly channels: number;
  readonly patchSize: number;
  readonly dModel: number;
  #matrix: Tensor | null = null; /* (D, C·P·P), the weight as the GEMM reads it */

  constructor(readonly ctx: ModelContext, ps: ParameterSet, prefix: string, cfg: PatchEmbeddingConfig) {
    this.channels = cfg.channels;
    this.patchSize = cfg.patchSize;
    this.dModel = cfg.dModel;
    const P = cfg.patchSize;
    this.weight = ps.declare(`${prefix}.projection.weight`, [cfg.dModel, cfg.channels, P, P], { normal: cfg.std ?? 0.02 }, true, 0);
    this.bias = ps.declare(`${prefix}.projection.bias`, [cfg.dModel], 'zeros', false);
  }

  /**
   * The patches of images (B, C, H, W) as a step-arena tensor (B, N, C·P·P). Checks that C is
   * the channel count, H and W are multiples of P, and every pixel is finite.
   * @throws ShapeError naming the sizes; ValueError naming the image and pixel of a NaN or ±Inf.
   */
  patches(images: ArrayLike<number> | Tensor, dims: ImageDims): Tensor {
    const { B, C, H, W } = dims;
    const pixels = (): ArrayLike<number> => (images instanceof Tensor ? images.f32() : images);   // a live view, taken when needed
    const P = this.patchSize;
    if (C !== this.channels) throw new ShapeError(`patch embedding: images have ${C} channels, expected ${this.channels}`);
    for (const [side, v] of [['height', H], ['width', W]] as const) {
      if (v % P !== 0) throw new ShapeError(`patch embedding: image ${side} ${v} is not a multiple of the patch size ${P}`);
    }
    const px = pixels();
    if (px.length !== B * C * H * W) {
      throw new ShapeError(`patch embedding: ${px.length} pixels, expected B·C·H·W = ${B}·${C}·${H}·${W} = ${B * C * H * W}`);
    }
    for (let i = 0; i < px.length; i++) {
      if (!Number.isFinite(px[i]!)) {
        const x = i % W, y = Math.floor(i / W) % H, c = Math.floor(i / (H * W)) % C, b = Math.floor(i / (C * H * W));
        throw new ValueError(`patch embedding: pixel (c ${c}, y ${y}, x ${x}) of image ${b} is ${px[i]}, expected a finite number`);
      }
    }
    const out = this.ctx.rt.empty([B, (H / P) * (W / P), C * P * P], { arena: 'step' });
    patchify(out.f32(), pixels(), dims, P);   // views taken after the allocation (it may grow the memory)
    return out;
  }

  /** patches (B, N, C·P·P) → (B, N, D): y = patches · W(D, C·P·P)ᵀ + b, the stride-P convolution. */
  forward(patches: Tensor): Tensor {
    const P = this.patchSize;
    const w = (this.#matrix ??= parameterView(this.weight, [this.dModel, this.channels * P * P]));
    return linear(this.ctx.rt, patches, w, this.bias.value, 'out,in');
  }
}
