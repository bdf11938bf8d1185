// SentencePiece's unigram tokenizer (T5, Flan-T5, mT5, ALBERT, XLNet …), from its model file: the
// text is normalized as SentencePiece does (sentencepiece.ts), then cut into the pieces whose
// scores (log probabilities) sum highest — a Viterbi pass over every piece that starts at each
// character, with a character no piece covers taken as <unk> at min score − 10, runs of <unk>
// fused into one, as SentencePiece's encoder does. The sums run in f32 like its own, so near ties
// fall the same way. Control pieces (<pad>, </s>) and <unk> are special tokens: matched in the
// text, left out by decode's skipSpecialTokens. The post-processor appends </s> (T5's tokenizer)
// when the model has one.
import { TokenError } from '../errors.js';
import { formatError, Fields, parseJson, type Place } from './json.js';
import type { Template } from './postprocess.js';
import { PIECE_TYPES, PrecompiledCharsmap, readSentencePieceModel, SentencePieceNormalizer, SPACE_SYMBOL, type PieceType, type SentencePieceNormalizerSpec } from './sentencepiece.js';
import { AddedTokens } from './special.js';
import { TemplatedTokenizer } from './templated.js';
import type { DecodeOptions, EncodeOptions, StreamDecoder, Tokenizer } from './types.js';

/** Penalty below the lowest piece score for a character no piece covers (SentencePiece's kUnkPenalty). */
const UNK_PENALTY = 10;

/** What a UnigramTokenizer is made of. */
export interface UnigramConfig {
  /** Each id's piece, score and type. */
  pieces: readonly { piece: string; score: number; type: PieceType }[];
  unkId: number;
  /** The id appended by the post-processor (</s>), or −1 for none. */
  eosId: number;
  /** The id batches pad with (<pad>), or −1. */
  padId: number;
  normalizer: SentencePieceNormalizerSpec;
  /**
   * T5's sentinel tokens: `<extra_id_0>` … `<extra_id_{n−1}>`, special, after the pieces in reverse
   * order (<extra_id_0> is the last id), as transformers' T5Tokenizer adds them. Default 0.
   */
  extraIds?: number;
}

/** The saved form (plain data; the character map base64). */
export interface UnigramTokenizerJSON {
  type: 'unigram';
  version: 1;
  pieces: [string, number, PieceType][];
  unkId: number;
  eosId: number;
  padId: number;
  extraIds: number;
  normalizer: Omit<SentencePieceNormalizerSpec, 'charsmap'> & { charsmap: string | null };
}

interface TrieNode {
  next: Map<number, TrieNode>;
  id: number;
}

const decoder = new TextDecoder();

/**
 * A SentencePiece unigram tokenizer.
 * @example
 * const t5 = UnigramTokenizer.fromSentencePiece(await readFileBytes('flan-t5-small/spiece.model'));
 * t5.encode('Translate to German: hello', { addSpecialTokens: true });   // …, 1 (</s>)
 * t5.decode(t5.encode('Hello world'));                                  // 'Hello world'
 */
export class UnigramTokenizer extends TemplatedTokenizer implements Tokenizer {
  readonly #config: UnigramConfig;
  readonly #normalizer: SentencePieceNormalizer;
  readonly #root: TrieNode = { next: new Map(), id: -1 };
  readonly #scores: Float32Array;
  readonly #unkScore: number;
  /** Pieces may contain '▁' only at their start: the lattice then splits at every '▁' (words cached). */
  readonly #byWord: boolean;
  readonly #cache = new Map<string, number[]>();

  /**
   * @throws TokenizerFormatError naming `file` and the field: an unknown id out of range or not of
   *   type unknown, repeated pieces, special ids out of range.
   */
  constructor(config: UnigramConfig, file = 'unigram config') {
    super();
    const vp: Place = { file, path: 'pieces' };
    const extra = config.extraIds ?? 0;
    if (!Number.isInteger(extra) || extra < 0) throw formatError({ file, path: 'extraIds' }, `expected an integer ≥ 0, got ${extra}`);
    const sentinels = Array.from({ length: extra }, (_, i) => `<extra_id_${extra - 1 - i}>`);
    this.setVocab([...config.pieces.map((p) => p.piece), ...sentinels], vp);
    this.#config = { ...config, extraIds: extra, pieces: config.pieces.map((p) => ({ ...p })) };
    const n = config.pieces.length;
    const idIn = (id: number, what: string, optional: boolean) => {
      if (optional && id === -1) return;
      if (!Number.isInteger(id) || id < 0 || id >= n) throw formatError({ file, path: what }, `id ${id} is outside the ${n} pieces`);
    };
    idIn(config.unkId, 'unkId', false);
    if (config.pieces[config.unkId]!.type !== 'unknown') throw formatError({ file, path: 'unkId' }, `piece ${config.unkId} (${JSON.stringify(config.pieces[config.unkId]!.piece)}) is not of type unknown`);
    idIn(config.eosId, 'eosId', true);
    idIn(config.padId, 'padId', true);
    this.#normalizer = new SentencePieceNormalizer(config.normalizer, config.normalizer.charsmap ? new PrecompiledCharsmap(config.normalizer.charsmap, file) : null);
    this.#scores = Float32Array.from(config.pieces, (p) => p.score);
    let min = Infinity, max = -Infinity;
    let byWord = true;
    config.pieces.forEach((p, id) => {
      if (p.type === 'normal') {
        min = Math.min(min, p.score);
        max = Math.max(max, p.score);
      }
      if (p.type !== 'normal' && p.type !== 'userDefined') return;   // control, unknown, unused and byte pieces never match text
      if (p.piece.indexOf(SPACE_SYMBOL, 1) > 0) byWord = false;
      let node = this.#root;
      for (let i = 0; i < p.piece.length; i++) {
        const c = p.piece.charCodeAt(i);
        let next = node.next.get(c);
        if (!next) node.next.set(c, (next = { next: new Map(), id: -1 }));
        node = next;
      }
      node.id = id;
    });
    if (!Number.isFinite(min)) throw formatError(vp, 'no piece of type normal');
    // user-defined pieces outscore any normal path over the same characters (SentencePiece)
    config.pieces.forEach((p, id) => { if (p.type === 'userDefined') this.#scores[id] = Math.fround(p.piece.length * max - 0.1); });
    this.#unkScore = Math.fround(min - UNK_PENALTY);
    this.#byWord = byWord;
    const special = config.pieces.map((p, id) => ({ p, id })).filter(({ p }) => p.type === 'control' || p.type === 'unknown' || p.type === 'userDefined');
    this.added = new AddedTokens([
      ...special.map(({ p, id }) => ({ id, content: p.piece, special: p.type !== 'userDefined' })),
      ...sentinels.map((content, i) => ({ id: n + i, content, special: true })),
    ]);
    this.template = config.eosId >= 0 ? eosTemplate(config.pieces[config.eosId]!.piece, config.eosId) : null;
  }

  /**
   * The tokenizer of a SentencePiece model file (`spiece.model`): unigram models only (BPE ones —
   * Llama's — are refused, as is byte fallback), </s> appended by the post-processor, <pad> for batches.
   * @throws TokenizerFormatError naming the file and what it cannot read.
   * @example
   * const tok = UnigramTokenizer.fromSentencePiece(bytes);
   */
  static fromSentencePiece(bytes: Uint8Array, file = 'spiece.model', options: { extraIds?: number } = {}): UnigramTokenizer {
    const m = readSentencePieceModel(bytes, file);
    if (m.modelType !== 1) throw formatError({ file, path: 'trainer_spec.model_type' }, `model type ${m.modelType} (${['', 'unigram', 'BPE', 'word', 'char'][m.modelType] ?? '?'}) is not supported; only unigram models are read`);
    if (m.byteFallback) throw formatError({ file, path: 'trainer_spec.byte_fallback' }, 'byte fallback is not supported');
    if (m.treatWhitespaceAsSuffix) throw formatError({ file, path: 'trainer_spec.treat_whitespace_as_suffix' }, 'whitespace as a suffix is not supported');
    const ok = (id: number) => (id >= 0 && id < m.pieces.length ? id : -1);
    return new UnigramTokenizer({ pieces: m.pieces, unkId: m.unkId, eosId: ok(m.eosId), padId: ok(m.padId), normalizer: m.normalizer, extraIds: options.extraIds }, file);
  }

  /**
   * The tokenizer saved by {@link UnigramTokenizer.save}.
   * @example
   * const same = UnigramTokenizer.load(tok.save());
   */
  static load(json: string | object): UnigramTokenizer {
    const file = 'saved tokenizer';
    const f = Fields.of(typeof json === 'string' ? parseJson(json, file) : json, { file, path: '' });
    if (f.raw('type') !== 'unigram') throw formatError(f.at('type'), `expected 'unigram', got ${JSON.stringify(f.raw('type'))}`);
    if (f.raw('version') !== 1) throw formatError(f.at('version'), `expected 1, got ${JSON.stringify(f.raw('version'))}`);
    f.only(['type', 'version', 'pieces', 'unkId', 'eosId', 'padId', 'extraIds', 'normalizer']);
    const { items, place } = f.array('pieces');
    const pieces = items.map((x, i) => {
      const ok = Array.isArray(x) && x.length === 3 && typeof x[0] === 'string' && typeof x[1] === 'number' && typeof x[2] === 'string' && Object.hasOwn(PIECE_TYPES, x[2]);
      if (!ok) throw formatError({ file, path: `${place.path}[${i}]` }, `expected [piece, score, type], got ${JSON.stringify(x).slice(0, 80)}`);
      return { piece: x[0] as string, score: x[1] as number, type: x[2] as PieceType };
    });
    const n = f.object('normalizer');
    const map = n.raw('charsmap');
    if (map !== null && typeof map !== 'string') throw formatError(n.at('charsmap'), 'expected base64 or null');
    return new UnigramTokenizer({
      pieces, unkId: f.index('unkId'), eosId: f.raw('eosId') as number, padId: f.raw('padId') as number, extraIds: f.index('extraIds', 0),
      normalizer: {
        name: n.string('name', ''), charsmap: map === null ? null : fromBase64(map),
        addDummyPrefix: n.boolean('addDummyPrefix', true), removeExtraWhitespaces: n.boolean('removeExtraWhitespaces', true), escapeWhitespaces: n.boolean('escapeWhitespaces', true),
      },
    }, file);
  }

  /** The pad id (<pad>), or 0 when there is none. */
  get padId(): number {
    return Math.max(0, this.#config.padId);
  }

  /** The id of <unk>. */
  get unkId(): number {
    return this.#config.unkId;
  }

  /** The id of </s>, or −1. */
  get eosId(): number {
    return this.#config.eosId;
  }

  /**
   * The ids of `text`; `addSpecialTokens` appends </s> (T5), `special` says what special tokens
   * written in the text become (default 'allow').
   * @example
   * t5.encode('Hello world!');   // Int32Array [8774, 296, 55]
   */
  encode(text: string, options: EncodeOptions = {}): Int32Array {
    return this.encodeSegments('UnigramTokenizer.encode', text, options, (part, out) => this.#encodeText(part, out));
  }

  /** The pieces of `text` (no special tokens added). */
  tokenize(text: string): string[] {
    return [...this.encode(text)].map((id) => this.tokens[id]!);
  }

  #encodeText(text: string, out: number[]): void {
    const normalized = decoder.decode(this.#normalizer.normalize(text));
    const start = out.length;
    if (!this.#byWord) this.#viterbi(normalized, out);
    else {
      for (let i = 0; i < normalized.length;) {
        let j = normalized.indexOf(SPACE_SYMBOL, i + 1);
        if (j < 0) j = normalized.length;
        const word = normalized.slice(i, j);
        let ids = this.#cache.get(word);
        if (!ids) {
          ids = [];
          this.#viterbi(word, ids);
          if (this.#cache.size > 100_000) this.#cache.clear();
          this.#cache.set(word, ids);
        }
        for (const id of ids) out.push(id);
        i = j;
      }
    }
    // runs of <unk> become one, as SentencePiece's encoder makes them (words end where the next
    // starts with '▁', which no character is unknown as, so runs never cross a word boundary)
    const unk = this.#config.unkId;
    let w = start;
    for (let r = start; r < out.length; r++) if (!(out[r] === unk && w > start && out[w - 1] === unk)) out[w++] = out[r]!;
    out.length = w;
  }

  /** The best segmentation of `s` (normalized) appended to `out`. */
  #viterbi(s: string, out: number[]): void {
    const n = s.length;
    const score = new Float64Array(n + 1).fill(-Infinity), from = new Int32Array(n + 1).fill(-1), piece = new Int32Array(n + 1);
    score[0] = 0;
    const f = Math.fround;
    for (let at = 0; at < n;) {
      const here = score[at]!;
      const step = s.codePointAt(at)! > 0xffff ? 2 : 1;   // one character
      let single = false;
      let node: TrieNode | undefined = this.#root;
      for (let k = at; k < n; k++) {
        node = node.next.get(s.charCodeAt(k));
        if (!node) break;
        if (node.id < 0) continue;
        const end = k + 1, cand = f(here + this.#scores[node.id]!);
        if (from[end]! < 0 || cand > score[end]!) {
          score[end] = cand;
          from[end] = at;
          piece[end] = node.id;
        }
        if (end - at === step) single = true;
      }
      if (!single) {
        const end = at + step, cand = f(here + this.#unkScore);
        if (from[end]! < 0 || cand > score[end]!) {
          score[end] = cand;
          from[end] = at;
          piece[end] = this.#config.unkId;
        }
      }
      at += step;
    }
    const ids: number[] = [];
    for (let end = n; end > 0; end = from[end]!) ids.push(piece[end]!);
    for (let i = ids.length - 1; i >= 0; i--) out.push(ids[i]!);
  }

  /**
   * The text of `ids`: pieces joined, '▁' as spaces, the first one's leading space dropped (the
   * dummy prefix); special tokens as their strings unless `skipSpecialTokens`.
   * @example
   * t5.decode([8774, 296, 55, 1], { skipSpecialTokens: true });   // 'Hello world!'
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const d = this.#decoderFor(options, 'UnigramTokenizer.decode');
    let s = '';
    for (let i = 0; i < ids.length; i++) s += d.push(ids[i]!);
    return s;
  }

  /** A decoder for ids arriving one at a time; its pushes join to `decode(ids)` exactly. */
  decoder(options: DecodeOptions = {}): StreamDecoder {
    return this.#decoderFor(options, 'UnigramTokenizer.decoder().push');
  }

  #decoderFor(options: DecodeOptions, what: string): StreamDecoder {
    const skip = options.skipSpecialTokens ?? false, size = this.tokens.length;
    const dummy = this.#config.normalizer.addDummyPrefix;
    let position = 0, first = true;
    return {
      push: (id: number) => {
        if (!(Number.isInteger(id) && id >= 0 && id < size)) {
          throw new TokenError(`${what}: id ${id} at position ${position} is outside [0, ${size})`);
        }
        position++;
        if (skip && this.added.isSpecial(id)) return '';
        let t = this.tokens[id]!.replaceAll(SPACE_SYMBOL, ' ');
        if (first && dummy && t.startsWith(' ')) t = t.slice(1);
        first = false;
        return t;
      },
      flush: () => '',
    };
  }

  /** The saved form (plain data). */
  toJSON(): UnigramTokenizerJSON {
    const { normalizer: n, unkId, eosId, padId } = this.#config;
    return {
      type: 'unigram', version: 1, pieces: this.#config.pieces.map((p) => [p.piece, p.score, p.type]), unkId, eosId, padId, extraIds: this.#config.extraIds ?? 0,
      normalizer: { name: n.name, charsmap: n.charsmap ? toBase64(n.charsmap) : null, addDummyPrefix: n.addDummyPrefix, removeExtraWhitespaces: n.removeExtraWhitespaces, escapeWhitespaces: n.escapeWhitespaces },
    };
  }

  /** The tokenizer as a JSON string, for {@link UnigramTokenizer.load}, `loadTokenizer` and checkpoints. */
  save(): string {
    return JSON.stringify(this.toJSON());
  }
}

/** T5's post-processor: `A </s>`, and `A </s> B </s>` for pairs. */
function eosTemplate(eos: string, id: number): Template {
  const e = { special: eos, ids: [id], typeId: 0 };
  return { single: [{ sequence: 'A', typeId: 0 }, e], pair: [{ sequence: 'A', typeId: 0 }, e, { sequence: 'B', typeId: 0 }, e] };
}

function toBase64(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

