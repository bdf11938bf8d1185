// Hugging Face's tokenizer.json, read and written without the tokenizers library: model BPE
// (byte-level: pre_tokenizer ByteLevel, or a Sequence of Split and ByteLevel; decoder ByteLevel)
// or WordPiece (BertNormalizer, BertPreTokenizer / Whitespace / WhitespaceSplit, decoder
// WordPiece), added_tokens, and the post_processor (BertProcessing, RobertaProcessing,
// TemplateProcessing, ByteLevel). Anything else is refused by name. Split patterns run as
// JavaScript regexes (u flag), so a pattern in Oniguruma-only syntax is refused too; `truncation`
// and `padding` are per-call options here (`encodeBatch`) — only padding's pad_token is kept.
// Added tokens are matched in the raw text (an added token marked normalized: true is matched
// before normalization too).
import { BPETokenizer, type BPEPreStep } from './bpe.js';
import { mergesFromList } from './bpe-files.js';
import { savedAddedTokens } from './common.js';
import { checkContiguous, Fields, formatError, item, parseJson, vocabArray, type Place } from './json.js';
import { normalizerFromHuggingFace, normalizerToHuggingFace } from './normalize.js';
import { templateFromHuggingFace, templateToHuggingFace } from './postprocess.js';
import { GPT2_PATTERN } from './pretokenize.js';
import { WordPieceTokenizer, type WordSplit } from './wordpiece.js';

const FILE = 'tokenizer.json';
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A byte-level pre_tokenizer as steps; throws for anything that is not byte-level BPE's. */
function bpePreSteps(v: unknown, p: Place): BPEPreStep[] {
  if (v === null || v === undefined) throw formatError(p, 'byte-level BPE needs a ByteLevel pre_tokenizer; this tokenizer has none (BPE on characters, e.g. with Metaspace, is not supported)');
  const f = Fields.of(v, p);
  const type = f.string('type');
  const steps: BPEPreStep[] = [];
  let byteLevel = false;
  const one = (g: Fields) => {
    const t = g.string('type');
    if (t === 'ByteLevel') {
      byteLevel = true;
      if (g.boolean('add_prefix_space', true)) steps.push({ type: 'prefixSpace' });
      if (g.boolean('use_regex', true)) steps.push({ type: 'split', pattern: GPT2_PATTERN });
    } else if (t === 'Split') {
      if (byteLevel) throw formatError(g.place, 'a Split after ByteLevel is not supported');
      const behavior = g.string('behavior', 'Isolated');
      if (behavior !== 'Isolated' || g.boolean('invert', false)) throw formatError(g.at('behavior'), `Split with behavior ${JSON.stringify(behavior)}${g.boolean('invert', false) ? ' and invert' : ''} is not supported (supported: Isolated, invert false)`);
      const pat = g.object('pattern');
      const pattern = pat.has('Regex') ? pat.string('Regex') : escapeRe(pat.string('String'));
      steps.push({ type: 'split', pattern });
    } else {
      throw formatError(g.at('type'), `pre_tokenizer ${JSON.stringify(t)} is not supported for BPE (supported: ByteLevel, Split, Sequence of those)`);
    }
  };
  if (type === 'Sequence') {
    const { items, place } = f.array('pretokenizers');
    items.forEach((x, i) => one(Fields.of(x, item(place, i))));
  } else one(f);
  if (!byteLevel) throw formatError(p, 'byte-level BPE needs a ByteLevel pre-tokenizer step');
  return steps;
}

function checkDecoder(v: unknown, p: Place, want: string): Fields | null {
  if (v === null || v === undefined) return null;
  const f = Fields.of(v, p);
  const type = f.string('type');
  if (type !== want) throw formatError(f.at('type'), `decoder ${JSON.stringify(type)} is not supported with this model (supported: ${want})`);
  return f;
}

/**
 * The tokenizer a Hugging Face tokenizer.json describes (its text or the parsed object): a
 * {@link BPETokenizer} for model.type "BPE" with a ByteLevel pre-tokenizer, a
 * {@link WordPieceTokenizer} for "WordPiece". Throws TokenizerFormatError naming the field at
 * fault: malformed JSON, unsupported model types, normalizers, pre-tokenizers, decoders or
 * post-processors (by name), merges of unknown tokens, repeated or missing ids.
 * @example
 * const gpt2 = tokenizerFromHuggingFace(await (await fetch(url)).text());
 * gpt2.encode('Hello world'); // Int32Array [15496, 995]
 */
export function tokenizerFromHuggingFace(tokenizerJson: string | object): BPETokenizer | WordPieceTokenizer {
  const f = Fields.of(typeof tokenizerJson === 'string' ? parseJson(tokenizerJson, FILE) : tokenizerJson, { file: FILE, path: '' });
  const model = f.object('model');
  const type = model.has('type') ? model.string('type') : model.has('merges') ? 'BPE' : model.has('max_input_chars_per_word') ? 'WordPiece' : '(none)';
  const addedTokens = savedAddedTokens(f.raw('added_tokens'), f.at('added_tokens'));
  const normalizer = normalizerFromHuggingFace(f.raw('normalizer'), f.at('normalizer'));
  const template = templateFromHuggingFace(f.raw('post_processor'), f.at('post_processor'));
  const padToken = f.has('padding') ? f.object('padding').stringOrNull('pad_token') : null;
  // the model's vocabulary plus added tokens that it lacks, at their ids
  const vocabulary = (): string[] => {
    const vocab = vocabArray(model.raw('vocab'), model.at('vocab'), false);
    addedTokens.forEach((t, i) => {
      const have = vocab[t.id];
      if (have === undefined) vocab[t.id] = t.content;
      else if (have !== t.content) throw formatError(item(f.at('added_tokens'), i), `${JSON.stringify(t.content)} has id ${t.id}, which model.vocab gives to ${JSON.stringify(have)}`);
    });
    checkContiguous(vocab, model.at('vocab'));
    return vocab;
  };
  if (type === 'BPE') {
    if (model.has('dropout') && model.raw('dropout') !== 0) throw formatError(model.at('dropout'), 'BPE dropout is not supported (set it to null)');
    for (const key of ['continuing_subword_prefix', 'end_of_word_suffix']) {
      if (model.has(key) && model.string(key) !== '') throw formatError(model.at(key), `${key} is not supported with byte-level BPE`);
    }
    if (model.boolean('byte_fallback', false)) throw formatError(model.at('byte_fallback'), 'byte_fallback is not supported (it belongs to SentencePiece-style BPE, not byte-level)');
    const preTokenizer = bpePreSteps(f.raw('pre_tokenizer'), f.at('pre_tokenizer'));
    checkDecoder(f.raw('decoder'), f.at('decoder'), 'ByteLevel');
    const merges = mergesFromList(model.raw('merges'), model.at('merges'));
    return new BPETokenizer(
      { vocab: vocabulary(), merges: merges.merges, addedTokens, normalizer, preTokenizer, template, ignoreMerges: model.boolean('ignore_merges', false), padToken },
      { file: FILE, vocab: 'model.vocab', merge: merges },
    );
  }
  if (type === 'WordPiece') {
    const pre = f.raw('pre_tokenizer');
    const preType = pre === null || pre === undefined ? '(none)' : Fields.of(pre, f.at('pre_tokenizer')).string('type');
    const splits: Record<string, WordSplit> = { BertPreTokenizer: 'bert', Whitespace: 'whitespace', WhitespaceSplit: 'whitespaceSplit' };
    const wordSplit = splits[preType];
    if (!wordSplit) throw formatError(f.at('pre_tokenizer'), `pre_tokenizer ${JSON.stringify(preType)} is not supported for WordPiece (supported: BertPreTokenizer, Whitespace, WhitespaceSplit)`);
    const dec = checkDecoder(f.raw('decoder'), f.at('decoder'), 'WordPiece');
    const prefix = model.string('continuing_subword_prefix', '##');
    if (dec && dec.string('prefix', '##') !== prefix) throw formatError(dec.at('prefix'), `the decoder's prefix ${JSON.stringify(dec.string('prefix'))} differs from the model's continuing_subword_prefix ${JSON.stringify(prefix)}`);
    return new WordPieceTokenizer({
      vocab: vocabulary(), unkToken: model.string('unk_token', '[UNK]'), continuingPrefix: prefix,
      maxInputCharsPerWord: model.index('max_input_chars_per_word', 100), normalizer, wordSplit, addedTokens, template,
      cleanup: dec ? dec.boolean('cleanup', true) : false, padToken,
    }, FILE);
  }
  throw formatError(model.at('type'), `model type ${JSON.stringify(type)} is not supported (supported: BPE with ByteLevel pre-tokenization, WordPiece)`);
}

/**
 * A tokenizer.json object for `tok`, which Hugging Face's tokenizers (and {@link tokenizerFromHuggingFace}) load with the same ids.
 * @example
 * const json = JSON.stringify(toHuggingFace(trainBPE(text, { vocabSize: 1000 })));
 */
export function toHuggingFace(tok: BPETokenizer | WordPieceTokenizer): Record<string, unknown> {
  const saved = tok.toJSON();
  const added_tokens = saved.addedTokens.map((t) => ({ id: t.id, content: t.content, single_word: t.singleWord, lstrip: t.lstrip, rstrip: t.rstrip, normalized: false, special: t.special }));
  const vocab: Record<string, number> = {};
  saved.vocab.forEach((t, i) => (vocab[t] = i));
  const padding = saved.padToken === null ? null : { strategy: 'BatchLongest', direction: 'Right', pad_to_multiple_of: null, pad_id: vocab[saved.padToken], pad_type_id: 0, pad_token: saved.padToken };
  if (saved.type === 'bpe') {
    const steps = saved.preTokenizer;
    const splits = steps.filter((s): s is Extract<BPEPreStep, { type: 'split' }> => s.type === 'split');
    const prefix = steps.some((s) => s.type === 'prefixSpace');
    const gpt2Only = splits.length === 1 && splits[0]!.pattern === GPT2_PATTERN && (!prefix || steps[0]!.type === 'prefixSpace');
    const byteLevel = (useRegex: boolean) => ({ type: 'ByteLevel', add_prefix_space: prefix, trim_offsets: true, use_regex: useRegex });
    let pre_tokenizer: object;
    if (gpt2Only) pre_tokenizer = byteLevel(true);
    else if (splits.length === 0) pre_tokenizer = byteLevel(false);
    else if (!prefix || steps.at(-1)!.type === 'prefixSpace') {
      pre_tokenizer = { type: 'Sequence', pretokenizers: [...splits.map((s) => ({ type: 'Split', pattern: { Regex: s.pattern }, behavior: 'Isolated', invert: false })), byteLevel(false)] };
    } else throw formatError({ file: 'BPE tokenizer', path: 'preTokenizer' }, 'a prefix space between split steps has no tokenizer.json form');
    return {
      version: '1.0', truncation: null, padding, added_tokens, normalizer: normalizerToHuggingFace(saved.normalizer), pre_tokenizer,
      post_processor: templateToHuggingFace(saved.template) ?? { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false,
        byte_fallback: false, ignore_merges: saved.ignoreMerges, vocab, merges: tok instanceof BPETokenizer ? tok.merges.map(([a, b]) => [a, b]) : [],
      },
    };
  }
  const pre = { bert: 'BertPreTokenizer', whitespace: 'Whitespace', whitespaceSplit: 'WhitespaceSplit' }[saved.wordSplit];
  return {
    version: '1.0', truncation: null, padding, added_tokens, normalizer: normalizerToHuggingFace(saved.normalizer), pre_tokenizer: { type: pre },
    post_processor: templateToHuggingFace(saved.template),
    decoder: { type: 'WordPiece', prefix: saved.continuingPrefix, cleanup: saved.cleanup },
    model: { type: 'WordPiece', unk_token: saved.unkToken, continuing_subword_prefix: saved.continuingPrefix, max_input_chars_per_word: saved.maxInputCharsPerWord, vocab },
  };
}
