// The BPE merge loop on integer symbols: repeatedly merge the adjacent pair of lowest rank (the
// leftmost one among equals) until no pair has a rank. Short words (almost all) scan an array of
// pair ranks; long ones (a run of 10,000 digits or spaces) use a heap of (rank, position) over a
// linked list, so the cost stays O(n log n) — the same merges either way, and the same as GPT-2's
// and Hugging Face's order.
import { PairIndex } from './pair-index.js';

/**
 * Merge ranks: `pairs` interns each merge (a, b) in rank order, so the entry number is the rank;
 * `result[rank]` is the merged id.
 * @example
 * const table = new MergeTable([[0, 1, 2], [2, 1, 3]]); // a+b → ab (rank 0), ab+b → abb (rank 1)
 * table.result[table.pairs.find(2, 1)]; // 3
 */
export class MergeTable {
  readonly pairs: PairIndex;
  readonly result: Int32Array;

  /**
   * The table of `merges`, each [left id, right id, merged id], in rank order. A pair listed twice
   * keeps its first (lower) rank.
   * @example
   * const t = new MergeTable([[0, 1, 2]]); // a + b → ab
   * t.pairs.find(0, 1); // 0, the rank
   */
  constructor(merges: readonly (readonly [number, number, number])[]) {
    this.pairs = new PairIndex(merges.length);
    const result: number[] = [];
    for (const [a, b, ab] of merges) {
      const e = this.pairs.intern(a, b);
      if (e === result.length) result.push(ab);
    }
    this.result = Int32Array.from(result);
  }
}

const NONE = 0x7fffffff;
const SHORT = 64;
let ranks = new Int32Array(SHORT);
let heapKey = new Float64Array(256), next = new Int32Array(256), prev = new Int32Array(256);

/**
 * Merges `sym[0, n)` in place; returns the new length.
 * @example
 * const sym = new Int32Array([0, 1]);
 * mergeSymbols(sym, 2, new MergeTable([[0, 1, 2]])); // 1, sym[0] = 2
 */
export function mergeSymbols(sym: Int32Array, n: number, table: MergeTable): number {
  if (n < 2) return n;
  return n <= SHORT ? mergeShort(sym, n, table) : mergeLong(sym, n, table);
}

function mergeShort(sym: Int32Array, n: number, table: MergeTable): number {
  const pairs = table.pairs, result = table.result, r = ranks;
  for (let k = 0; k < n - 1; k++) {
    const e = pairs.find(sym[k]!, sym[k + 1]!);
    r[k] = e < 0 ? NONE : e;
  }
  for (;;) {
    let best = NONE, at = -1;
    for (let k = 0; k < n - 1; k++) {
      const v = r[k]!;
      if (v < best) { best = v; at = k; }
    }
    if (at < 0) return n;
    sym[at] = result[best]!;
    // drop symbol at+1 and pair at+1; pairs at−1 and at change
    for (let k = at + 1; k < n - 1; k++) sym[k] = sym[k + 1]!;
    for (let k = at + 1; k < n - 2; k++) r[k] = r[k + 1]!;
    n--;
    if (at > 0) {
      const e = pairs.find(sym[at - 1]!, sym[at]!);
      r[at - 1] = e < 0 ? NONE : e;
    }
    if (at < n - 1) {
      const e = pairs.find(sym[at]!, sym[at + 1]!);
      r[at] = e < 0 ? NONE : e;
    }
  }
}

// heap of keys rank·2^31 + position, smallest first
function mergeLong(sym: Int32Array, n: number, table: MergeTable): number {
  const pairs = table.pairs, result = table.result;
  if (next.length < n) {
    next = new Int32Array(n * 2);
    prev = new Int32Array(n * 2);
    heapKey = new Float64Array(n * 2);
  }
  const P = 2147483648;
  let size = 0;
  const push = (key: number) => {
    if (size === heapKey.length) { const h = new Float64Array(size * 2); h.set(heapKey); heapKey = h; }
    let i = size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heapKey[parent]! <= key) break;
      heapKey[i] = heapKey[parent]!;
      i = parent;
    }
    heapKey[i] = key;
  };
  const pop = (): number => {
    const top = heapKey[0]!, last = heapKey[--size]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && heapKey[c + 1]! < heapKey[c]!) c++;
      if (heapKey[c]! >= last) break;
      heapKey[i] = heapKey[c]!;
      i = c;
    }
    heapKey[i] = last;
    return top;
  };
  for (let k = 0; k < n; k++) {
    next[k] = k + 1 < n ? k + 1 : -1;
    prev[k] = k - 1;
    if (k + 1 < n) {
      const e = pairs.find(sym[k]!, sym[k + 1]!);
      if (e >= 0) push(e * P + k);
    }
  }
  while (size > 0) {
    const key = pop();
    const rank = Math.floor(key / P), k = key - rank * P;
    const j = next[k]!;
    if (sym[k]! < 0 || j < 0 || pairs.find(sym[k]!, sym[j]!) !== rank) continue; // stale
    sym[k] = result[rank]!;
    sym[j] = -1;
    const after = next[j]!;
    next[k] = after;
    if (after >= 0) prev[after] = k;
    const before = prev[k]!;
    if (before >= 0) {
      const e = pairs.find(sym[before]!, sym[k]!);
      if (e >= 0) push(e * P + before);
    }
    if (after >= 0) {
      const e = pairs.find(sym[k]!, sym[after]!);
      if (e >= 0) push(e * P + k);
    }
  }
  let m = 0;
  for (let k = 0; k >= 0; k = next[k]!) sym[m++] = sym[k]!;
  return m;
}
