// Reading a tokenizer from a model folder — a directory (Node, Bun, Deno) or a base URL — its
// tokenizer.json if there is one, else GPT-2's vocab.json + merges.txt, else BERT's vocab.txt
// (cased or not as tokenizer_config.json's do_lower_case says). The rest of the tokenizers take
// strings, so they run in browsers and edge functions.
import { FileError, TokenizerFormatError } from '../errors.js';
import { openFolder, type Folder } from '../io/folder.js';
import { BPETokenizer } from './bpe.js';
import { tokenizerFromHuggingFace } from './hf-tokenizer.js';
import { WordPieceTokenizer } from './wordpiece.js';

/**
 * The tokenizer of a model folder and the file it came from, or null when the folder has none.
 * @example
 * ```ts
 * const found = await tokenizerFromFolder(openFolder('https://example.com/models/bert/'));
 * ```
 */
export async function tokenizerFromFolder(folder: Folder, options: { lowercase?: boolean } = {}): Promise<{ tokenizer: BPETokenizer | WordPieceTokenizer; file: string } | null> {
  const json = await folder.text('tokenizer.json');
  if (json !== null) return { tokenizer: tokenizerFromHuggingFace(json), file: 'tokenizer.json' };
  const [vocab, merges] = [await folder.text('vocab.json'), await folder.text('merges.txt')];
  if (vocab !== null && merges !== null) {
    const specials = vocab.includes('"<|endoftext|>"') ? ['<|endoftext|>'] : [];
    return { tokenizer: BPETokenizer.fromVocabAndMerges(vocab, merges, { specialTokens: specials }), file: 'vocab.json' };
  }
  const txt = await folder.text('vocab.txt');
  if (txt === null) return null;
  let lowercase = options.lowercase;
  const cfg = lowercase === undefined ? await folder.text('tokenizer_config.json') : null;
  if (cfg !== null) {
    let lower: unknown;
    try {
      lower = (JSON.parse(cfg) as { do_lower_case?: unknown }).do_lower_case;
    } catch {
      throw new TokenizerFormatError(folder.at('tokenizer_config.json'), 'do_lower_case', 'the file is not valid JSON');
    }
    if (typeof lower === 'boolean') lowercase = lower;
  }
  return { tokenizer: WordPieceTokenizer.fromVocabTxt(txt, lowercase === undefined ? {} : { lowercase }), file: 'vocab.txt' };
}

/**
 * The tokenizer in folder `dir`: its tokenizer.json, or vocab.json + merges.txt (byte-level BPE),
 * or vocab.txt (WordPiece; `lowercase` as in {@link WordPieceTokenizer.fromVocabTxt}, else from
 * tokenizer_config.json). A folder with none of these throws FileError listing what it looked for.
 * @example
 * const gpt2 = await readTokenizerFolder('models/gpt2');
 */
export async function readTokenizerFolder(dir: string, options: { lowercase?: boolean } = {}): Promise<BPETokenizer | WordPieceTokenizer> {
  const found = await tokenizerFromFolder(openFolder(dir), options);
  if (!found) throw new FileError(dir, 'ENOENT', `readTokenizerFolder: ${dir} has no tokenizer.json, no vocab.json + merges.txt and no vocab.txt`);
  return found.tokenizer;
}
