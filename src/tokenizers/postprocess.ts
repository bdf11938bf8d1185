// Post-processing: the special tokens wrapped around an encoded text or pair of texts, as a
// template (Hugging Face's TemplateProcessing; BertProcessing is [CLS] $A [SEP] / [CLS] $A [SEP]
// $B:1 [SEP]:1, RobertaProcessing <s> $A </s> / <s> $A </s> </s> $B </s>), with the token type id
// of each part.
import { formatError, Fields, item, checkIndex, type Place } from './json.js';

/** One part of a template: a special token's ids, or the encoded text A or B; each with its token type id. */
export type TemplatePart = { special: string; ids: number[]; typeId: number } | { sequence: 'A' | 'B'; typeId: number };

/** What to add around one text (`single`) and around a pair (`pair`). */
export interface Template {
  single: TemplatePart[];
  pair: TemplatePart[];
}

/** An encoded text or pair: ids and the token type id of each (0 for the first text, 1 for the second in BERT). */
export interface Encoding {
  ids: Int32Array;
  typeIds: Int32Array;
}

/**
 * BERT's template: `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]` with type ids 0 … 0 1 … 1.
 * @example
 * bertTemplate(['[CLS]', 101], ['[SEP]', 102]).single.length; // 3
 */
export function bertTemplate(cls: [string, number], sep: [string, number]): Template {
  const c = { special: cls[0], ids: [cls[1]], typeId: 0 }, s = { special: sep[0], ids: [sep[1]], typeId: 0 };
  return {
    single: [c, { sequence: 'A', typeId: 0 }, s],
    pair: [c, { sequence: 'A', typeId: 0 }, s, { sequence: 'B', typeId: 1 }, { ...s, typeId: 1 }],
  };
}

/**
 * The template's ids around `a` (and `b`): ids and type ids. Without a template, the texts are
 * joined with type ids 0 then 1.
 * @example
 * applyTemplate(bertTemplate(['[CLS]', 101], ['[SEP]', 102]), new Int32Array([7])).ids; // [101, 7, 102]
 */
export function applyTemplate(t: Template | null, a: Int32Array, b?: Int32Array): Encoding {
  const parts: TemplatePart[] = t ? (b ? t.pair : t.single) : b ? [{ sequence: 'A', typeId: 0 }, { sequence: 'B', typeId: 1 }] : [{ sequence: 'A', typeId: 0 }];
  let n = 0;
  for (const p of parts) n += 'special' in p ? p.ids.length : p.sequence === 'A' ? a.length : b ? b.length : 0;
  const ids = new Int32Array(n), typeIds = new Int32Array(n);
  let o = 0;
  for (const p of parts) {
    const src = 'special' in p ? p.ids : p.sequence === 'A' ? a : b ?? [];
    for (let i = 0; i < src.length; i++, o++) {
      ids[o] = src[i]!;
      typeIds[o] = p.typeId;
    }
  }
  return { ids, typeIds };
}

/**
 * Checks that every special token id of the template is below `size`.
 * @example
 * checkTemplateIds(bertTemplate(['[CLS]', 101], ['[SEP]', 102]), 30522, { file: 'vocab.txt', path: '' }); // fine
 */
export function checkTemplateIds(t: Template | null, size: number, p: Place): void {
  for (const part of [...(t?.single ?? []), ...(t?.pair ?? [])]) {
    if ('special' in part) for (const id of part.ids) if (id >= size) throw formatError(p, `the template's ${JSON.stringify(part.special)} has id ${id}, outside the ${size} ids`);
  }
}

/**
 * How many ids the template adds around one text (`pair` false) or a pair.
 * @example
 * addedCount(bertTemplate(['[CLS]', 101], ['[SEP]', 102]), true); // 3
 */
export function addedCount(t: Template | null, pair: boolean): number {
  if (!t) return 0;
  let n = 0;
  for (const p of pair ? t.pair : t.single) if ('special' in p) n += p.ids.length;
  return n;
}

function templateItems(v: unknown, p: Place, specials: Fields | null): TemplatePart[] {
  if (!Array.isArray(v)) throw formatError(p, 'expected an array of template pieces');
  return v.map((x, i) => {
    const f = Fields.of(x, item(p, i));
    if (f.has('SpecialToken')) {
      const s = f.object('SpecialToken');
      const name = s.string('id');
      let ids: number[];
      if (specials?.has(name)) {
        const { items, place } = specials.object(name).array('ids');
        ids = items.map((id, k) => checkIndex(id, item(place, k)));
      } else throw formatError(s.at('id'), `special token ${JSON.stringify(name)} is not in the template's special_tokens`);
      return { special: name, ids, typeId: s.index('type_id', 0) };
    }
    if (f.has('Sequence')) {
      const s = f.object('Sequence');
      const id = s.string('id');
      if (id !== 'A' && id !== 'B') throw formatError(s.at('id'), `expected "A" or "B", got ${JSON.stringify(id)}`);
      return { sequence: id, typeId: s.index('type_id', 0) };
    }
    throw formatError(item(p, i), 'expected { SpecialToken: … } or { Sequence: … }');
  });
}

/**
 * The template of a tokenizer.json `post_processor` (null → none): BertProcessing,
 * RobertaProcessing, TemplateProcessing, ByteLevel (adds nothing), and Sequence of those (one
 * template at most). Other types throw TokenizerFormatError naming them.
 * @example
 * templateFromHuggingFace({ type: 'BertProcessing', cls: ['[CLS]', 101], sep: ['[SEP]', 102] }, { file: 'tokenizer.json', path: 'post_processor' });
 */
export function templateFromHuggingFace(v: unknown, p: Place): Template | null {
  if (v === null || v === undefined) return null;
  const f = Fields.of(v, p);
  const type = f.string('type');
  const pairOf = (key: string): [string, number] => {
    const { items, place } = f.array(key);
    if (items.length !== 2 || typeof items[0] !== 'string') throw formatError(place, 'expected [token, id]');
    return [items[0], checkIndex(items[1], item(place, 1))];
  };
  switch (type) {
    case 'ByteLevel':
      return null;
    case 'BertProcessing':
      return bertTemplate(pairOf('cls'), pairOf('sep'));
    case 'RobertaProcessing': {
      const [cls, sep] = [pairOf('cls'), pairOf('sep')];
      const c = { special: cls[0], ids: [cls[1]], typeId: 0 }, s = { special: sep[0], ids: [sep[1]], typeId: 0 };
      return { single: [c, { sequence: 'A', typeId: 0 }, s], pair: [c, { sequence: 'A', typeId: 0 }, s, s, { sequence: 'B', typeId: 0 }, s] };
    }
    case 'TemplateProcessing': {
      const specials = f.has('special_tokens') ? f.object('special_tokens') : null;
      return { single: templateItems(f.raw('single'), f.at('single'), specials), pair: templateItems(f.raw('pair'), f.at('pair'), specials) };
    }
    case 'Sequence': {
      const { items, place } = f.array('processors');
      const found = items.map((x, i) => templateFromHuggingFace(x, item(place, i))).filter((t): t is Template => t !== null);
      if (found.length > 1) throw formatError(place, 'more than one post-processor adds tokens; only one is supported');
      return found[0] ?? null;
    }
    default:
      throw formatError(f.at('type'), `post_processor ${JSON.stringify(type)} is not supported (supported: BertProcessing, RobertaProcessing, TemplateProcessing, ByteLevel, Sequence)`);
  }
}

/**
 * The tokenizer.json form of a template (TemplateProcessing), or null.
 * @example
 * templateToHuggingFace(bertTemplate(['[CLS]', 101], ['[SEP]', 102])); // { type: 'TemplateProcessing', single: [...], pair: [...], special_tokens: {...} }
 */
export function templateToHuggingFace(t: Template | null): object | null {
  if (!t) return null;
  const special_tokens: Record<string, { id: string; ids: number[]; tokens: string[] }> = {};
  const items = (parts: TemplatePart[]) => parts.map((x) => {
    if ('special' in x) {
      special_tokens[x.special] = { id: x.special, ids: x.ids, tokens: x.ids.map(() => x.special) };
      return { SpecialToken: { id: x.special, type_id: x.typeId } };
    }
    return { Sequence: { id: x.sequence, type_id: x.typeId } };
  });
  return { type: 'TemplateProcessing', single: items(t.single), pair: items(t.pair), special_tokens };
}

/**
 * A saved template, checked.
 * @example
 * savedTemplate(null, { file: 'saved tokenizer', path: 'template' }); // null
 */
export function savedTemplate(v: unknown, p: Place): Template | null {
  if (v === null || v === undefined) return null;
  const f = Fields.of(v, p);
  const parts = (key: string): TemplatePart[] => {
    const { items, place } = f.array(key);
    return items.map((x, i) => {
      const g = Fields.of(x, item(place, i));
      const typeId = g.index('typeId', 0);
      if (g.has('sequence')) {
        const s = g.string('sequence');
        if (s !== 'A' && s !== 'B') throw formatError(g.at('sequence'), 'expected "A" or "B"');
        return { sequence: s, typeId };
      }
      const ids = g.array('ids');
      return { special: g.string('special'), ids: ids.items.map((id, k) => checkIndex(id, item(ids.place, k))), typeId };
    });
  };
  return { single: parts('single'), pair: parts('pair') };
}
