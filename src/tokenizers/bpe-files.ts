// Reading GPT-2's files: vocab.json (token → id) and merges.txt ('#version' header, then one
// "left right" merge per line, in rank order), and tokenizer.json's model.merges in both forms
// ("left right" strings, [left, right] arrays). Errors name the file and the line or entry.
import { formatError, item, parseJson, vocabArray, type Place } from './json.js';

/** One merge and where it came from (for error messages). */
export interface MergeSource {
  merges: [string, string][];
  /** The place of merge `i` ('merges.txt line 5', 'tokenizer.json model.merges[3]'). */
  where: (i: number) => string;
  file: string;
}

/**
 * The token of each id in a vocab.json (its text, or the parsed object); ids must be unique and
 * contiguous from 0.
 * @example
 * parseVocabJson('{"a": 0, "b": 1}'); // ['a', 'b']
 */
export function parseVocabJson(vocab: string | Record<string, number>, file = 'vocab.json'): string[] {
  const obj = typeof vocab === 'string' ? parseJson(vocab, file) : vocab;
  return vocabArray(obj, { file, path: '' });
}

/**
 * The merges of a merges.txt (GPT-2's vocab.bpe): an optional '#version' first line, then
 * "left right" per line; blank lines are skipped. A line without exactly one space between two
 * non-empty parts throws TokenizerFormatError naming its number.
 * @example
 * parseMergesTxt('#version: 0.2\nĠ t\nh e\n').merges; // [['Ġ', 't'], ['h', 'e']]
 */
export function parseMergesTxt(text: string, file = 'merges.txt'): MergeSource {
  if (typeof text !== 'string') throw formatError({ file, path: '' }, 'expected the file\'s text (a string)');
  const merges: [string, string][] = [];
  const lines: number[] = [];
  const all = text.split('\n');
  for (let i = 0; i < all.length; i++) {
    let line = all[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '' || (i === 0 && line.startsWith('#version'))) continue;
    const sp = line.indexOf(' ');
    if (sp <= 0 || sp === line.length - 1 || line.indexOf(' ', sp + 1) >= 0) {
      throw formatError({ file, path: `line ${i + 1}` }, `expected "left right" (two tokens and one space), got ${JSON.stringify(line.slice(0, 60))}`);
    }
    merges.push([line.slice(0, sp), line.slice(sp + 1)]);
    lines.push(i + 1);
  }
  return { merges, where: (k) => `line ${lines[k]}`, file };
}

/**
 * Merges given as a list: "left right" strings (Hugging Face's older form) or [left, right]
 * arrays (the newer form, which allows spaces inside tokens), mixed freely.
 * @example
 * mergesFromList(['a b', ['c', 'd']], { file: 'tokenizer.json', path: 'model.merges' }).merges; // [['a','b'], ['c','d']]
 */
export function mergesFromList(list: unknown, p: Place): MergeSource {
  if (!Array.isArray(list)) throw formatError(p, 'expected an array of merges');
  const merges = list.map((m, i): [string, string] => {
    if (typeof m === 'string') {
      const sp = m.indexOf(' ');
      if (sp <= 0 || sp === m.length - 1 || m.indexOf(' ', sp + 1) >= 0) throw formatError(item(p, i), `expected "left right", got ${JSON.stringify(m.slice(0, 60))}`);
      return [m.slice(0, sp), m.slice(sp + 1)];
    }
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string' && m[0] && m[1]) return [m[0], m[1]];
    throw formatError(item(p, i), `expected "left right" or [left, right] with two non-empty strings, got ${JSON.stringify(m)?.slice(0, 60)}`);
  });
  return { merges, where: (k) => `${p.path}[${k}]`, file: p.file };
}
