// SentencePiece's model file (`spiece.model`: T5, Flan-T5, mT5 …) read without protobuf or the
// sentencepiece library, and its normalizer. The file is a protobuf ModelProto: pieces (piece,
// score, type), trainer_spec (model type, unk/bos/eos/pad ids, byte fallback) and normalizer_spec
// (the precompiled character map, dummy prefix, whitespace rules). Only the fields a tokenizer
// needs are decoded; the rest are skipped by wire type.
//
// The precompiled character map (nmt_nfkc and its kind): a little-endian u32 byte length, then a
// double-array trie (darts-clone units: u32 each) over UTF-8 byte strings, then the replacement
// strings, NUL-terminated, the trie's values being their offsets. Normalizing takes, at each
// position, the longest match in the trie and writes its replacement, or the one UTF-8 character
// there (U+FFFD for a malformed byte); then spaces: leading and trailing ones dropped, runs made
// one (remove_extra_whitespaces), a space put in front (add_dummy_prefix), and every space written
// as '▁' (escape_whitespaces).
import { TokenizerFormatError } from '../errors.js';

/** Piece types of ModelProto.SentencePiece.Type. */
export const PIECE_TYPES = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;
export type PieceType = keyof typeof PIECE_TYPES;
const TYPE_NAMES = Object.fromEntries(Object.entries(PIECE_TYPES).map(([k, v]) => [v, k])) as Record<number, PieceType>;

/** What a tokenizer needs of a SentencePiece model file. */
export interface SentencePieceModel {
  pieces: { piece: string; score: number; type: PieceType }[];
  /** TrainerSpec.ModelType: 1 unigram, 2 BPE, 3 word, 4 char. */
  modelType: number;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
  byteFallback: boolean;
  treatWhitespaceAsSuffix: boolean;
  normalizer: SentencePieceNormalizerSpec;
}

/** NormalizerSpec: the character map (null: none, as `identity`) and the whitespace rules. */
export interface SentencePieceNormalizerSpec {
  name: string;
  charsmap: Uint8Array | null;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

/** A cursor over protobuf bytes. */
class Wire {
  at = 0;
  constructor(readonly b: Uint8Array, readonly file: string) {}
  fail(what: string): never {
    throw new TokenizerFormatError(this.file, 'ModelProto', `${what} at byte ${this.at}; not a SentencePiece model`);
  }
  /** An unsigned varint (lengths, keys: exact below 2^53). */
  varint(): number {
    let v = 0, scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.at >= this.b.length) this.fail('the file ends inside a number');
      const c = this.b[this.at++]!;
      v += (c & 0x7f) * scale;
      if (c < 0x80) return v;
      scale *= 128;
    }
    return this.fail('a number longer than 10 bytes');
  }
  /** An int32 varint: its low 32 bits as a signed number (a negative one is written in 10 bytes). */
  int32(): number {
    const start = this.at;
    this.varint();
    let lo = 0;
    for (let i = 0; i < 5 && start + i < this.at; i++) lo |= (this.b[start + i]! & 0x7f) << (7 * i);
    return lo | 0;
  }
  bytes(): Uint8Array {
    const n = this.varint();
    if (this.at + n > this.b.length) this.fail(`a field of ${n} bytes runs past the end`);
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  /** Reads the fields up to `end`, handing each (number, wire type) to `field`, which returns true when it read the value. */
  fields(end: number, field: (num: number, wt: number) => boolean): void {
    while (this.at < end) {
      const key = this.varint(), num = Math.floor(key / 8), wt = key & 7;
      if (field(num, wt)) continue;
      if (wt === 0) this.varint();
      else if (wt === 1) this.at += 8;
      else if (wt === 2) this.bytes();
      else if (wt === 5) this.at += 4;
      else this.fail(`wire type ${wt} (field ${num})`);
    }
    if (this.at !== end) this.fail('a field runs past its message');
  }
  sub(fn: (end: number) => void): void {
    const n = this.varint(), end = this.at + n;
    if (end > this.b.length) this.fail(`a message of ${n} bytes runs past the end`);
    fn(end);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The pieces, special ids and normalizer of a SentencePiece model file.
 * @throws TokenizerFormatError naming the file for bytes that are not a ModelProto.
 * @example
 * const model = readSentencePieceModel(await readFileBytes('flan-t5-small/spiece.model'), 'spiece.model');
 * model.pieces[1];   // { piece: '</s>', score: 0, type: 'control' }
 */
export function readSentencePieceModel(bytes: Uint8Array, file = 'spiece.model'): SentencePieceModel {
  const w = new Wire(bytes, file);
  const model: SentencePieceModel = {
    pieces: [], modelType: 1, unkId: 0, bosId: 1, eosId: 2, padId: -1, byteFallback: false, treatWhitespaceAsSuffix: false,
    normalizer: { name: '', charsmap: null, addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true },
  };
  let trainer = false, normalizer = false;
  w.fields(bytes.length, (num, wt) => {
    if (num === 1 && wt === 2) {
      const p = { piece: '', score: 0, type: 'normal' as PieceType };
      w.sub((end) => w.fields(end, (n, t) => {
        if (n === 1 && t === 2) {
          try {
            p.piece = utf8.decode(w.bytes());
          } catch {
            w.fail(`piece ${model.pieces.length} is not UTF-8`);
          }
        } else if (n === 2 && t === 5) {
          p.score = new DataView(bytes.buffer, bytes.byteOffset + w.at, 4).getFloat32(0, true);
          w.at += 4;
        } else if (n === 3 && t === 0) {
          const v = w.varint();
          p.type = TYPE_NAMES[v] ?? w.fail(`piece ${model.pieces.length} has type ${v}`);
        } else return false;
        return true;
      }));
      model.pieces.push(p);
    } else if (num === 2 && wt === 2) {
      trainer = true;
      w.sub((end) => w.fields(end, (n, t) => {
        if (t !== 0) return false;
        const v = w.int32();
        if (n === 3) model.modelType = v;
        else if (n === 40) model.unkId = v;
        else if (n === 41) model.bosId = v;
        else if (n === 42) model.eosId = v;
        else if (n === 43) model.padId = v;
        else if (n === 35) model.byteFallback = v !== 0;
        else if (n === 24) model.treatWhitespaceAsSuffix = v !== 0;
        return true;
      }));
    } else if (num === 3 && wt === 2) {
      normalizer = true;
      const ns = model.normalizer;
      w.sub((end) => w.fields(end, (n, t) => {
        if (n === 1 && t === 2) ns.name = utf8.decode(w.bytes());
        else if (n === 2 && t === 2) ns.charsmap = new Uint8Array(w.bytes());   // a copy (a Node Buffer's slice is a view)
        else if (t === 0 && n >= 3 && n <= 5) {
          const on = w.varint() !== 0;
          if (n === 3) ns.addDummyPrefix = on;
          else if (n === 4) ns.removeExtraWhitespaces = on;
          else ns.escapeWhitespaces = on;
        } else return false;
        return true;
      }));
    } else return false;
    return true;
  });
  if (model.pieces.length === 0) w.fail('no pieces');
  // protobuf has no end marker: a file cut between fields parses, but without the specs that follow the pieces
  if (!trainer || !normalizer) w.fail(`no ${trainer ? 'normalizer_spec (field 3)' : 'trainer_spec (field 2)'}: the file is cut short or another format`);
  if (model.normalizer.charsmap?.length === 0) model.normalizer.charsmap = null;
  return model;
}

/** The space symbol SentencePiece writes for ' ' (U+2581). */
export const SPACE_SYMBOL = '\u2581';

/**
 * A precompiled character map: its trie and replacement strings, checked, with the longest-match
 * look-up the normalizer uses.
 */
export class PrecompiledCharsmap {
  readonly #units: Uint32Array;
  readonly #normalized: Uint8Array;

  /** @throws TokenizerFormatError (naming `file`) for a map whose sizes do not add up. */
  constructor(blob: Uint8Array, file = 'spiece.model') {
    if (blob.length < 4) throw new TokenizerFormatError(file, 'precompiled_charsmap', `${blob.length} bytes, too short for its trie size`);
    const size = new DataView(blob.buffer, blob.byteOffset, 4).getUint32(0, true);
    if (size % 4 !== 0 || 4 + size > blob.length) throw new TokenizerFormatError(file, 'precompiled_charsmap', `a trie of ${size} bytes in a map of ${blob.length}`);
    const trie = new Uint8Array(blob.subarray(4, 4 + size));      // copies: aligned, and not a view of a pooled Buffer
    this.#units = new Uint32Array(trie.buffer, 0, size / 4);
    this.#normalized = new Uint8Array(blob.subarray(4 + size));
  }

  /** Where the last `match`'s replacement lies in the replacement strings: [replStart, replEnd). */
  replStart = 0;
  replEnd = 0;

  /**
   * The byte length of the longest key starting at `s[at]` (0: none), its replacement left in
   * [replStart, replEnd) of `replacements` — no allocation per call, as normalizing calls it per
   * character. Darts-clone's common-prefix search: a unit holds its label (low byte, with bit 31
   * for leaves), a has-leaf flag (bit 8) and the offset to its children.
   */
  match(s: Uint8Array, at: number): number {
    const units = this.#units;
    let node = 0, best = -1, bestLength = 0;
    let u = units[0]!;
    node ^= (u >>> 10) << ((u & (1 << 9)) >>> 6);
    for (let i = at; i < s.length; i++) {
      const c = s[i]!;
      node ^= c;
      if (node >= units.length) break;
      u = units[node]!;
      if ((u & 0x800000ff) !== c) break;
      node ^= (u >>> 10) << ((u & (1 << 9)) >>> 6);
      if ((u >>> 8) & 1) {
        if (node >= units.length) break;
        best = units[node]! & 0x7fffffff;
        bestLength = i - at + 1;
      }
    }
    if (best < 0) return 0;
    let end = best;
    const r = this.#normalized;
    while (end < r.length && r[end] !== 0) end++;
    this.replStart = best;
    this.replEnd = end;
    return bestLength;
  }

  /** The replacement strings (NUL-terminated, UTF-8). */
  get replacements(): Uint8Array {
    return this.#normalized;
  }
}

const encoder = new TextEncoder();
const REPLACEMENT = encoder.encode('\ufffd');
const SPACE = 0x20;
const ESCAPED = encoder.encode(SPACE_SYMBOL);

/** Bytes in the UTF-8 character starting with byte `c` (1 for a byte that cannot start one). */
function charLength(s: Uint8Array, at: number): number {
  const c = s[at]!;
  const n = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
  if (n === 0 || at + n > s.length) return 0;
  for (let i = 1; i < n; i++) if ((s[at + i]! & 0xc0) !== 0x80) return 0;
  return n;
}

/**
 * SentencePiece's normalizer: the character map, then its whitespace rules (leading and trailing
 * spaces dropped and runs collapsed, a dummy prefix, spaces as '▁'). It keeps its input and
 * output buffers between calls (a tokenizer normalizes every line it encodes), so `normalize`'s
 * result is valid until the next call.
 * @example
 * ```ts
 * const norm = new SentencePieceNormalizer(spec, map);
 * new TextDecoder().decode(norm.normalize('  Hello   world '));   // '▁Hello▁world'
 * ```
 */
export class SentencePieceNormalizer {
  #in = new Uint8Array(256);
  #out = new Uint8Array(1024);
  #n = 0;
  readonly #repl: Uint8Array | null;

  constructor(readonly spec: SentencePieceNormalizerSpec, readonly map: PrecompiledCharsmap | null) {
    this.#repl = map ? map.replacements : null;
  }

  /** The normalized UTF-8 bytes of `text` (a view of the normalizer's buffer: valid until the next call). */
  normalize(text: string): Uint8Array {
    if (this.#in.length < text.length * 3) this.#in = new Uint8Array(text.length * 3 + 64);
    const input = this.#in.subarray(0, encoder.encodeInto(text, this.#in).written);
    if (this.#out.length < input.length * 4 + 16) this.#out = new Uint8Array(input.length * 4 + 64);
    this.#n = 0;
    const { map } = this, repl = this.#repl;
    const remove = this.spec.removeExtraWhitespaces;
    let at = 0;
    // the piece at `at`: its normalized bytes are src[from, to); k: the input bytes it takes
    let src: Uint8Array = input, from = 0, to = 0, k = 0;
    const piece = () => {
      const m = map ? map.match(input, at) : 0;
      if (m > 0) {
        src = repl!;
        from = map!.replStart;
        to = map!.replEnd;
        k = m;
        return;
      }
      const c = charLength(input, at);
      if (c === 0) {
        src = REPLACEMENT;
        from = 0;
        to = REPLACEMENT.length;
        k = 1;
        return;
      }
      src = input;
      from = at;
      to = at + c;
      k = c;
    };
    if (remove) {
      while (at < input.length) {
        piece();
        if (!(to - from === 1 && src[from] === SPACE)) break;
        at += k;
      }
    }
    if (at >= input.length) return this.#out.subarray(0, 0);
    if (this.spec.addDummyPrefix) this.#space();
    let prevSpace = remove;
    while (at < input.length) {
      piece();
      let i = from;
      if (prevSpace && remove) while (i < to && src[i] === SPACE) i++;
      if (i < to) {
        for (; i < to; i++) {
          const b = src[i]!;
          if (b === SPACE) this.#space();
          else this.#put(b);
        }
        prevSpace = src[to - 1] === SPACE;
      }
      at += k;
      if (!remove) prevSpace = false;
    }
    if (remove) {
      const tail = this.spec.escapeWhitespaces ? ESCAPED : SPACE_BYTE, out = this.#out;
      const ends = () => this.#n >= tail.length && tail.every((b, j) => out[this.#n - tail.length + j] === b);
      while (ends()) this.#n -= tail.length;
    }
    return this.#out.subarray(0, this.#n);
  }

  #put(b: number): void {
    if (this.#n === this.#out.length) {
      const grown = new Uint8Array(this.#out.length * 2);
      grown.set(this.#out);
      this.#out = grown;
    }
    this.#out[this.#n++] = b;
  }

  #space(): void {
    if (!this.spec.escapeWhitespaces) return this.#put(SPACE);
    for (let i = 0; i < ESCAPED.length; i++) this.#put(ESCAPED[i]!);
  }
}

const SPACE_BYTE = Uint8Array.of(SPACE);
