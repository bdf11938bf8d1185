// One entry point for any saved tokenizer: dispatches on the JSON's `type` ('char', 'bpe',
// 'wordpiece', 'unigram'), and also takes a Hugging Face tokenizer.json (recognised by its `model` object).
import { CharTokenizer } from './char.js';
import { BPETokenizer } from './bpe.js';
import { WordPieceTokenizer } from './wordpiece.js';
import { UnigramTokenizer } from './unigram.js';
import { tokenizerFromHuggingFace } from './hf-tokenizer.js';
import { Fields, formatError, parseJson } from './json.js';

/** Any tokenizer wasmformer can save and load. */
export type AnyTokenizer = CharTokenizer | BPETokenizer | WordPieceTokenizer | UnigramTokenizer;

/**
 * The tokenizer a saved JSON describes (`tok.save()` of a CharTokenizer, BPETokenizer or
 * WordPieceTokenizer — the string or the parsed object — or a Hugging Face tokenizer.json).
 * Throws TokenizerFormatError for JSON that is none of these, naming the `type` it found.
 * @example
 * const tok = loadTokenizer(bpe.save());        // a BPETokenizer
 * loadTokenizer('{"type":"char","vocab":["a"]}'); // a CharTokenizer
 */
export function loadTokenizer(json: string | object): AnyTokenizer {
  const file = 'saved tokenizer';
  const obj = (typeof json === 'string' ? parseJson(json, file) : json) as object;
  const f = Fields.of(obj, { file, path: '' });
  const type = f.raw('type');
  if (type === 'char') return CharTokenizer.fromJSON(obj);
  if (type === 'bpe') return BPETokenizer.load(obj);
  if (type === 'wordpiece') return WordPieceTokenizer.load(obj);
  if (type === 'unigram') return UnigramTokenizer.load(obj);
  if (type === undefined && f.has('model')) return tokenizerFromHuggingFace(obj);
  throw formatError(f.at('type'), `unknown tokenizer type ${JSON.stringify(type)} (known: 'char', 'bpe', 'wordpiece', 'unigram', or a Hugging Face tokenizer.json with a model)`);
}
