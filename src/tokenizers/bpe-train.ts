// Training a byte-level BPE on a text: GPT-2 pre-tokenization, word counts, then merges of the
// most frequent adjacent pair until the vocabulary reaches its target size. Pair counts are kept
// incrementally (each merge updates only the words that hold the pair, through a pair → words
// index) with a lazy max-heap, so a merge costs what it touches, not a recount of the text.
//
// Ids: the 256 byte tokens first (id = byte value), then one id per merge result in merge order,
// then the special tokens. Ties: among pairs of equal count, the one whose left id is smallest,
// then whose right id is smallest, is merged first — so the same text and options always give the
// same merges.
import { TokenError } from '../errors.js';
import { BPETokenizer } from './bpe.js';
import { BYTE_TO_CHAR, IDENTITY_BYTES, utf8Symbols } from './bytes.js';
import { PairIndex } from './pair-index.js';
import { GPT2_PATTERN, gpt2PieceEnd } from './pretokenize.js';
import { AddedTokens } from './special.js';

/** Options of {@link trainBPE}. */
export interface TrainBPEOptions {
  /** The target number of ids: 256 byte tokens + merges + special tokens. At least 256 + specials. */
  vocabSize: number;
  /** Tokens such as '<|endoftext|>', given the last ids; in the training text they are split out and not learned from. */
  specialTokens?: readonly string[];
  /** Stop when the most frequent pair occurs fewer times than this. Default 2. */
  minFrequency?: number;
  /** Called every `every` merges with the number done (for progress bars). */
  onProgress?: (merges: number, target: number) => void;
}

/**
 * A byte-level BPE trained on `text` (one string, or several: pre-tokens never span two). The
 * result round-trips any text exactly, saves with `save()` and loads with `BPETokenizer.load` /
 * `loadTokenizer`. Throws TokenError for a vocabSize below 256 + the special tokens.
 * @example
 * const tok = trainBPE(text, { vocabSize: 1000, specialTokens: ['<|endoftext|>'] });
 * tok.vocabSize;                      // ≤ 1000 (fewer when no pair occurs minFrequency times)
 * tok.decode(tok.encode('any text')); // 'any text'
 */
export function trainBPE(text: string | readonly string[], options: TrainBPEOptions): BPETokenizer {
  const specials = [...(options.specialTokens ?? [])];
  const { vocabSize, minFrequency = 2 } = options;
  if (!Number.isInteger(vocabSize) || vocabSize < 256 + specials.length) {
    throw new TokenError(`trainBPE: vocabSize ${vocabSize} is below the 256 byte tokens + ${specials.length} special tokens`);
  }
  if (new Set(specials).size !== specials.length || specials.some((s) => typeof s !== 'string' || s === '')) {
    throw new TokenError(`trainBPE: specialTokens must be distinct non-empty strings, got ${JSON.stringify(specials)}`);
  }
  const texts = typeof text === 'string' ? [text] : text;

  // 1. word counts
  const counts = new Map<string, number>();
  const splitter = new AddedTokens(specials.map((content, i) => ({ id: i, content })));
  for (const t of texts) {
    if (typeof t !== 'string') throw new TokenError(`trainBPE: expected text strings, got ${typeof t}`);
    for (const seg of splitter.split(t, 'allow')) {
      if (seg.id >= 0) continue;
      for (let i = seg.start; i < seg.end; ) {
        const j = gpt2PieceEnd(t, i, seg.end);
        const w = t.slice(i, j);
        counts.set(w, (counts.get(w) ?? 0) + 1);
        i = j;
      }
    }
  }

  // 2. words as byte ids, their frequencies
  const words: Int32Array[] = [], lens: number[] = [], freq: number[] = [];
  let scratch = new Int32Array(64);
  for (const [w, c] of counts) {
    if (scratch.length < 3 * w.length) scratch = new Int32Array(3 * w.length);
    const n = utf8Symbols(w, 0, w.length, IDENTITY_BYTES, scratch);
    words.push(scratch.slice(0, n));
    lens.push(n);
    freq.push(c);
  }

  // 3. pair counts and the pair → words index
  const pairs = new PairIndex(1 << 16);
  let count = new Float64Array(1 << 16);
  const where: number[][] = [];
  const entry = (a: number, b: number) => {
    const e = pairs.intern(a, b);
    if (e === where.length) {
      where.push([]);
      if (e === count.length) { const c = new Float64Array(e * 2); c.set(count); count = c; }
    }
    return e;
  };
  const add = (a: number, b: number, w: number, f: number) => {
    const e = entry(a, b);
    count[e] = count[e]! + f;
    const list = where[e]!;
    if (list[list.length - 1] !== w) list.push(w);
    return e;
  };
  words.forEach((syms, w) => {
    for (let k = 0; k + 1 < lens[w]!; k++) add(syms[k]!, syms[k + 1]!, w, freq[w]!);
  });

  // 4. a max-heap of (count, entry), ordered by count, then left id, then right id (smaller first)
  const heap = new MaxHeap((x, y) => {
    if (x.count !== y.count) return x.count > y.count;
    const ax = pairs.left[x.e]!, ay = pairs.left[y.e]!;
    return ax !== ay ? ax < ay : pairs.right[x.e]! < pairs.right[y.e]!;
  });
  for (let e = 0; e < pairs.size; e++) heap.push({ count: count[e]!, e });

  // 5. merges
  const tokens: string[] = BYTE_TO_CHAR.slice();
  const ids = new Map<string, number>(tokens.map((t, i) => [t, i]));
  const merges: [string, string][] = [];
  const target = vocabSize - specials.length;
  const stamp = new Int32Array(words.length).fill(-1);
  const changed = new Set<number>();
  const every = Math.max(1, Math.floor((target - 256) / 100));
  while (tokens.length < target && heap.size > 0) {
    const top = heap.pop()!;
    const current = count[top.e]!;
    if (top.count !== current) {
      if (current > 0) heap.push({ count: current, e: top.e });
      continue;
    }
    if (current < minFrequency || current <= 0) break;
    const a = pairs.left[top.e]!, b = pairs.right[top.e]!;
    const str = tokens[a]! + tokens[b]!;
    let t = ids.get(str);
    if (t === undefined) {
      t = tokens.length;
      tokens.push(str);
      ids.set(str, t);
    }
    merges.push([tokens[a]!, tokens[b]!]);
    const step = merges.length;
    changed.clear();
    for (const w of where[top.e]!) {
      if (stamp[w] === step) continue;
      stamp[w] = step;
      const syms = words[w]!, f = freq[w]!;
      let n = lens[w]!;
      for (let k = 0; k + 1 < n; k++) {
        if (syms[k] !== a || syms[k + 1] !== b) continue;
        if (k > 0) {
          const l = entry(syms[k - 1]!, a);
          count[l] = count[l]! - f;
          changed.add(add(syms[k - 1]!, t, w, f));
        }
        if (k + 2 < n) {
          const r = entry(b, syms[k + 2]!);
          count[r] = count[r]! - f;
          changed.add(add(t, syms[k + 2]!, w, f));
        }
        count[top.e] = count[top.e]! - f;
        syms[k] = t;
        syms.copyWithin(k + 1, k + 2, n);
        n--;
      }
      lens[w] = n;
    }
    where[top.e] = [];
    for (const e of changed) if (count[e]! > 0) heap.push({ count: count[e]!, e });
    if (options.onProgress && step % every === 0) options.onProgress(step, target - 256);
  }
  const first = tokens.length;
  for (const s of specials) {
    if (ids.has(s)) throw new TokenError(`trainBPE: special token ${JSON.stringify(s)} is also a learned token (its bytes were merged into one); pick a special token that does not occur in the text`);
    tokens.push(s);
  }
  const addedTokens = specials.map((content, i) => ({ id: first + i, content, special: true }));
  return new BPETokenizer({ vocab: tokens, merges, addedTokens, preTokenizer: [{ type: 'split', pattern: GPT2_PATTERN }] }, { file: 'trainBPE', vocab: 'vocab' });
}

interface HeapItem {
  count: number;
  e: number;
}

/** A binary heap whose top is the item `before` ranks first. */
class MaxHeap {
  readonly #items: HeapItem[] = [];
  constructor(readonly before: (x: HeapItem, y: HeapItem) => boolean) {}

  get size(): number {
    return this.#items.length;
  }

  push(x: HeapItem): void {
    const h = this.#items;
    let i = h.length;
    h.push(x);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(x, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = x;
  }

  pop(): HeapItem | undefined {
    const h = this.#items;
    if (h.length === 0) return undefined;
    const top = h[0]!, last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= h.length) break;
        if (c + 1 < h.length && this.before(h[c + 1]!, h[c]!)) c++;
        if (!this.before(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
