// A GPT-2-shaped decoder as an ONNX graph (opset 20, standard ops only), for timing ONNX Runtime
// Web: pre-norm LayerNormalization, Gelu(approximate="tanh"), causal attention with a KV cache
// (past_key_l / past_value_l in, present_* out, mask built in-graph from the past length), and a
// lm head tied to the token embedding (Gemm with transB). Weights are seeded random f32.
import { encodeModel, FLOAT, INT64, type Attr, type Node, type Tensor } from './onnx.js';
import { randomNormal } from './lib.js';

export interface GPT2Config {
  vocab: number; layers: number; heads: number; d: number; dFF: number; nPositions: number;
  /** std of every random weight (LayerNorm gains are 1 + that noise). */
  std: number;
  seed: number;
}

export const GPT2_SMALL: GPT2Config = { vocab: 50257, layers: 12, heads: 12, d: 768, dFF: 3072, nPositions: 1024, std: 0.02, seed: 1 };

export type Weights = Map<string, { dims: number[]; data: Float32Array }>;

/** Every parameter, by name, in a fixed order (the seed of tensor i is `seed + i`). */
export function gpt2Weights(c: GPT2Config): Weights {
  const shapes: [string, number[]][] = [['wte', [c.vocab, c.d]], ['wpe', [c.nPositions, c.d]]];
  for (let l = 0; l < c.layers; l++) {
    shapes.push(
      [`h${l}.ln1.g`, [c.d]], [`h${l}.ln1.b`, [c.d]],
      [`h${l}.attn.w`, [c.d, 3 * c.d]], [`h${l}.attn.b`, [3 * c.d]],
      [`h${l}.proj.w`, [c.d, c.d]], [`h${l}.proj.b`, [c.d]],
      [`h${l}.ln2.g`, [c.d]], [`h${l}.ln2.b`, [c.d]],
      [`h${l}.fc.w`, [c.d, c.dFF]], [`h${l}.fc.b`, [c.dFF]],
      [`h${l}.out.w`, [c.dFF, c.d]], [`h${l}.out.b`, [c.d]],
    );
  }
  shapes.push(['lnf.g', [c.d]], ['lnf.b', [c.d]]);
  const weights: Weights = new Map();
  shapes.forEach(([name, dims], i) => {
    const data = randomNormal(dims.reduce((a, b) => a * b, 1), c.seed * 1000 + i, c.std);
    if (name.endsWith('.g')) for (let j = 0; j < data.length; j++) data[j]! += 1;
    weights.set(name, { dims, data });
  });
  return weights;
}

/** Builds nodes with generated output names. */
class GraphBuilder {
  nodes: Node[] = [];
  consts: Tensor[] = [];
  private n = 0;
  op(op: string, inputs: string[], attrs?: Record<string, Attr>, outputs?: string[]): string {
    const outs = outputs ?? [`t${this.n++}`];
    this.nodes.push({ op, inputs, outputs: outs, attrs });
    return outs[0]!;
  }
  ops(op: string, inputs: string[], count: number, attrs?: Record<string, Attr>): string[] {
    const outs = Array.from({ length: count }, () => `t${this.n++}`);
    this.nodes.push({ op, inputs, outputs: outs, attrs });
    return outs;
  }
  i64(values: number[], scalar = false): string {
    const name = `c${this.n++}`;
    this.consts.push({ name, dims: scalar ? [] : [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  }
  f32(value: number): string {
    const name = `c${this.n++}`;
    this.consts.push({ name, dims: [], data: Float32Array.of(value) });
    return name;
  }
}

/**
 * The model as ONNX bytes (chunks). Inputs: input_ids int64 (1, S), past_key_l / past_value_l
 * f32 (1, H, P, hs) (P may be 0). Outputs: logits f32 (1, S, V), present_key_l / present_value_l
 * f32 (1, H, P+S, hs). Query i sits at position P+i and attends to keys 0..P+i.
 */
export function gpt2Onnx(c: GPT2Config, weights: Weights): Uint8Array[] {
  const H = c.heads, hs = c.d / c.heads, g = new GraphBuilder();
  // Positions and the additive causal mask (S, T), T = P + S.
  const S = g.op('Gather', [g.op('Shape', ['input_ids']), g.i64([1], true)]);
  const P = g.op('Gather', [g.op('Shape', ['past_key_0']), g.i64([2], true)]);
  const T = g.op('Add', [P, S]);
  const one = g.i64([1], true);
  const qPos = g.op('Range', [P, T, one]); //                   (S)
  const kPos = g.op('Range', [g.i64([0], true), T, one]); //    (T)
  const later = g.op('Less', [g.op('Unsqueeze', [qPos, g.i64([1])]), g.op('Unsqueeze', [kPos, g.i64([0])])]);
  const mask = g.op('Where', [later, g.f32(-1e9), g.f32(0)]); // (S, T)
  let x = g.op('Add', [g.op('Gather', ['wte', 'input_ids']), g.op('Gather', ['wpe', qPos])]); // (1, S, d)

  const eps = { epsilon: { f: 1e-5 }, axis: { i: -1 } };
  const linear = (h: string, w: string) => g.op('Add', [g.op('MatMul', [h, `${w}.w`]), `${w}.b`]);
  const splitHeads = g.i64([0, 0, H, hs]);
  const mergeHeads = g.i64([0, 0, c.d]);
  const toHeads = (t: string) => g.op('Transpose', [g.op('Reshape', [t, splitHeads])], { perm: { ints: [0, 2, 1, 3] } });
  const scale = g.f32(1 / Math.sqrt(hs));
  for (let l = 0; l < c.layers; l++) {
    const p = `h${l}`;
    // x = x + proj(attention(ln1(x)))
    const h = g.op('LayerNormalization', [x, `${p}.ln1.g`, `${p}.ln1.b`], eps);
    const [q, k, v] = g.ops('Split', [linear(h, `${p}.attn`), g.i64([c.d, c.d, c.d])], 3, { axis: { i: 2 } });
    const key = g.op('Concat', [`past_key_${l}`, toHeads(k!)], { axis: { i: 2 } }, [`present_key_${l}`]); //       (1, H, T, hs)
    const value = g.op('Concat', [`past_value_${l}`, toHeads(v!)], { axis: { i: 2 } }, [`present_value_${l}`]); // (1, H, T, hs)
    const keyT = g.op('Transpose', [key], { perm: { ints: [0, 1, 3, 2] } });
    const scores = g.op('Add', [g.op('MatMul', [g.op('Mul', [toHeads(q!), scale]), keyT]), mask]); // (1, H, S, T)
    const att = g.op('MatMul', [g.op('Softmax', [scores], { axis: { i: -1 } }), value]); //          (1, H, S, hs)
    const merged = g.op('Reshape', [g.op('Transpose', [att], { perm: { ints: [0, 2, 1, 3] } }), mergeHeads]);
    x = g.op('Add', [x, linear(merged, `${p}.proj`)]);
    // x = x + out(gelu(fc(ln2(x))))
    const h2 = g.op('LayerNormalization', [x, `${p}.ln2.g`, `${p}.ln2.b`], eps);
    const f = g.op('Gelu', [linear(h2, `${p}.fc`)], { approximate: { s: 'tanh' } });
    x = g.op('Add', [x, linear(f, `${p}.out`)]);
  }
  const xf = g.op('Reshape', [g.op('LayerNormalization', [x, 'lnf.g', 'lnf.b'], eps), g.i64([-1, c.d])]);
  const logits2d = g.op('Gemm', [xf, 'wte'], { transB: { i: 1 } }); // (S, V), tied to the embedding
  g.op('Unsqueeze', [logits2d, g.i64([0])], undefined, ['logits']);

  const kv = (prefix: string, t: string) =>
    Array.from({ length: c.layers }, (_, l) => ({ name: `${prefix}_${l}`, type: FLOAT, dims: [1, H, t, hs] as (number | string)[] }));
  return encodeModel({
    name: 'gpt2',
    nodes: g.nodes,
    initializers: [...[...weights].map(([name, w]) => ({ name, dims: w.dims, data: w.data })), ...g.consts],
    inputs: [{ name: 'input_ids', type: INT64, dims: [1, 'S'] }, ...kv('past_key', 'P'), ...kv('past_value', 'P')],
    outputs: [{ name: 'logits', type: FLOAT, dims: [1, 'S', c.vocab] }, ...kv('present_key', 'T'), ...kv('present_value', 'T')],
  }, { '': 20 });
}
