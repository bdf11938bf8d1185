// Pieces both subword tokenizers share: checking ids in decode, and reading saved or
// tokenizer.json added tokens.
import { TokenError } from '../errors.js';
import { checkIndex, Fields, formatError, item, type Place } from './json.js';
import type { AddedToken } from './special.js';

/**
 * The TokenError for a bad id at `position` in a decode.
 * @example
 * throw idsError('BPETokenizer.decode', 50257, 3, 50257); // "… id 50257 at position 3 is outside [0, 50257)"
 */
export function idsError(what: string, id: unknown, position: number, size: number): TokenError {
  const integer = typeof id === 'number' && Number.isInteger(id);
  return new TokenError(`${what}: id ${String(id)} at position ${position} is ${integer ? 'outside' : 'not an integer in'} [0, ${size})`);
}

/**
 * Checks that each added token sits in the vocabulary `tokens` at its id, with its content.
 * @example
 * checkAddedTokens([{ id: 1, content: '<s>' }], ['a', '<s>'], { file: 'tokenizer.json', path: 'added_tokens' }); // fine
 */
export function checkAddedTokens(added: readonly AddedToken[], tokens: readonly string[], p: Place): void {
  for (const t of added) {
    if (!Number.isSafeInteger(t.id) || t.id < 0 || t.id >= tokens.length) throw formatError(p, `added token ${JSON.stringify(t.content)} has id ${t.id}, outside the ${tokens.length} ids`);
    if (tokens[t.id] !== t.content) throw formatError(p, `added token ${JSON.stringify(t.content)} has id ${t.id}, which the vocabulary gives to ${JSON.stringify(tokens[t.id])}`);
  }
}

/**
 * Added tokens in a saved tokenizer (camelCase fields) or a tokenizer.json (`added_tokens`, snake_case).
 * @example
 * savedAddedTokens([{ id: 0, content: '[PAD]', special: true }], { file: 'saved tokenizer', path: 'addedTokens' });
 */
export function savedAddedTokens(v: unknown, p: Place): AddedToken[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw formatError(p, 'expected an array of added tokens');
  return v.map((x, i) => {
    const f = Fields.of(x, item(p, i));
    const flag = (camel: string, snake: string, fallback: boolean) => (f.has(camel) ? f.boolean(camel, fallback) : f.boolean(snake, fallback));
    const content = f.string('content');
    if (content === '') throw formatError(f.at('content'), 'an added token cannot be empty');
    return {
      id: checkIndex(f.raw('id'), f.at('id')), content,
      special: flag('special', 'special', true), lstrip: flag('lstrip', 'lstrip', false), rstrip: flag('rstrip', 'rstrip', false),
      singleWord: flag('singleWord', 'single_word', false),
    };
  });
}
