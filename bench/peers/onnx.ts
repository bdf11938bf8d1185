// A minimal ONNX writer for the peer benchmarks: protobuf varint / length-delimited encoding of
// ModelProto, GraphProto, NodeProto, TensorProto (raw_data), ValueInfoProto and AttributeProto,
// with field numbers from onnx/onnx.proto. Output is a list of Uint8Array chunks, so a 500 MB
// model never needs one contiguous JS string or array until the caller joins it.

/** Protobuf wire types: varint, length-delimited, 32-bit. */
const VARINT = 0, LEN = 2, I32 = 5;

/** Growable byte sink; big payloads (weights) are appended as separate chunks, not copied. */
class Writer {
  chunks: Uint8Array[] = [];
  private buf = new Uint8Array(256);
  private pos = 0;
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  private flush(): void {
    if (this.pos) this.chunks.push(this.buf.slice(0, this.pos));
    this.pos = 0;
  }
  varint(v: number): void {
    // v < 2^53 (tensor byte sizes stay far below): split with division, not 32-bit shifts.
    this.room(10);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }
  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }
  int(field: number, v: number): void {
    this.tag(field, VARINT);
    if (v >= 0) return this.varint(v);
    // A negative int64 is its 64-bit two's complement: ten varint bytes.
    let u = BigInt.asUintN(64, BigInt(v));
    this.room(10);
    while (u >= 0x80n) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }
  float(field: number, v: number): void {
    this.tag(field, I32);
    this.room(4);
    new DataView(this.buf.buffer).setFloat32(this.pos, v, true);
    this.pos += 4;
  }
  bytes(field: number, b: Uint8Array): void {
    this.tag(field, LEN);
    this.varint(b.length);
    if (b.length > 4096) {
      this.flush();
      this.chunks.push(b);
    } else {
      this.room(b.length);
      this.buf.set(b, this.pos);
      this.pos += b.length;
    }
  }
  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }
  message(field: number, w: Writer): void {
    const body = w.finish();
    this.tag(field, LEN);
    let n = 0;
    for (const c of body) n += c.length;
    this.varint(n);
    this.flush();
    this.chunks.push(...body);
  }
  finish(): Uint8Array[] {
    this.flush();
    return this.chunks;
  }
}

/** TensorProto.DataType values used here. */
export const FLOAT = 1, INT64 = 7;

/** One attribute value: an int, a float, a list of ints or a string. */
export type Attr = { i: number } | { f: number } | { ints: number[] } | { s: string };

export interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, Attr>;
  domain?: string;
}

/** An initializer: name, shape, f32 or i64 data. */
export interface Tensor {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

/** A graph input or output: elem type and dims (a string dim is symbolic). */
export interface ValueInfo {
  name: string;
  type: number;
  dims: (number | string)[];
}

export interface Graph {
  name: string;
  nodes: Node[];
  initializers: Tensor[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

function nodeProto(n: Node, index: number): Writer {
  const w = new Writer();
  for (const x of n.inputs) w.string(1, x);
  for (const y of n.outputs) w.string(2, y);
  w.string(3, `${n.op}_${index}`);
  w.string(4, n.op);
  for (const [name, a] of Object.entries(n.attrs ?? {})) {
    const aw = new Writer();
    aw.string(1, name);
    // AttributeProto: f=2, i=3, s=4, ints=8, type=20 (FLOAT 1, INT 2, STRING 3, INTS 7).
    if ('f' in a) { aw.float(2, a.f); aw.int(20, 1); }
    else if ('i' in a) { aw.int(3, a.i); aw.int(20, 2); }
    else if ('s' in a) { aw.string(4, a.s); aw.int(20, 3); }
    else { for (const v of a.ints) aw.int(8, v); aw.int(20, 7); }
    w.message(5, aw);
  }
  if (n.domain) w.string(7, n.domain);
  return w;
}

function tensorProto(t: Tensor): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.data instanceof Float32Array ? FLOAT : INT64);
  w.string(8, t.name);
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)); // raw_data, little-endian
  return w;
}

function valueInfoProto(v: ValueInfo): Writer {
  const shape = new Writer();
  for (const d of v.dims) {
    const dim = new Writer();
    if (typeof d === 'number') dim.int(1, d); // dim_value
    else dim.string(2, d); //                   dim_param
    shape.message(1, dim);
  }
  const tensor = new Writer();
  tensor.int(1, v.type);
  tensor.message(2, shape);
  const type = new Writer();
  type.message(1, tensor); // TypeProto.tensor_type
  const w = new Writer();
  w.string(1, v.name);
  w.message(2, type);
  return w;
}

/** ModelProto bytes (as chunks) for `graph`, IR version 8, the given opsets. */
export function encodeModel(graph: Graph, opsets: Record<string, number>): Uint8Array[] {
  const g = new Writer();
  graph.nodes.forEach((n, i) => g.message(1, nodeProto(n, i)));
  g.string(2, graph.name);
  for (const t of graph.initializers) g.message(5, tensorProto(t));
  for (const v of graph.inputs) g.message(11, valueInfoProto(v));
  for (const v of graph.outputs) g.message(12, valueInfoProto(v));
  const m = new Writer();
  m.int(1, 8); // ir_version
  for (const [domain, version] of Object.entries(opsets)) {
    const o = new Writer();
    if (domain) o.string(1, domain);
    o.int(2, version);
    m.message(8, o);
  }
  m.string(2, 'wasmformer-bench'); // producer_name
  m.message(7, g);
  return m.finish();
}

/** One contiguous copy of `chunks`. */
export function join(chunks: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let p = 0;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}
