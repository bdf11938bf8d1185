// An open-addressing hash index over pairs of token ids: (left, right) → a dense entry number
// (0, 1, 2, … in insertion order). No strings and no boxed keys, so the BPE merge loop and the
// trainer's pair counts look pairs up with a few integer operations.

/**
 * Pairs of non-negative int32 ids, each interned once as entry 0, 1, 2, …
 * @example
 * const ix = new PairIndex();
 * ix.intern(5, 7); // 0
 * ix.intern(1, 2); // 1
 * ix.find(5, 7);   // 0
 * ix.find(7, 5);   // -1
 */
export class PairIndex {
  /** Left id of each entry. */
  left: Int32Array;
  /** Right id of each entry. */
  right: Int32Array;
  /** The number of entries. */
  size = 0;
  #slots: Int32Array; // entry + 1, 0 = empty
  #mask: number;

  constructor(capacity = 16) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.#slots = new Int32Array(cap);
    this.#mask = cap - 1;
    this.left = new Int32Array(Math.max(8, capacity));
    this.right = new Int32Array(Math.max(8, capacity));
  }

  /** The entry of (a, b), or −1. */
  find(a: number, b: number): number {
    const slots = this.#slots, mask = this.#mask;
    let h = hash(a, b) & mask;
    for (;;) {
      const e = slots[h]! - 1;
      if (e < 0) return -1;
      if (this.left[e] === a && this.right[e] === b) return e;
      h = (h + 1) & mask;
    }
  }

  /** The entry of (a, b), creating it when new. */
  intern(a: number, b: number): number {
    const slots = this.#slots, mask = this.#mask;
    let h = hash(a, b) & mask;
    for (;;) {
      const e = slots[h]! - 1;
      if (e < 0) break;
      if (this.left[e] === a && this.right[e] === b) return e;
      h = (h + 1) & mask;
    }
    const e = this.size++;
    if (e === this.left.length) {
      const grow = (x: Int32Array) => { const y = new Int32Array(x.length * 2); y.set(x); return y; };
      this.left = grow(this.left);
      this.right = grow(this.right);
    }
    this.left[e] = a;
    this.right[e] = b;
    slots[h] = e + 1;
    if (this.size * 2 > mask) this.#rehash();
    return e;
  }

  #rehash(): void {
    const cap = (this.#mask + 1) * 2, mask = cap - 1, slots = new Int32Array(cap);
    for (let e = 0; e < this.size; e++) {
      let h = hash(this.left[e]!, this.right[e]!) & mask;
      while (slots[h] !== 0) h = (h + 1) & mask;
      slots[h] = e + 1;
    }
    this.#slots = slots;
    this.#mask = mask;
  }
}

function hash(a: number, b: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ b;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  return h ^ (h >>> 13);
}
