// The training worker: owns the wasmformer runtime, the model and the optimizer, and runs
// everything heavy off the page's thread. Work is done in slices of a few tens of
// milliseconds (a few training steps, or a few generated characters) with a return to the
// event loop in between, so "Stop", "Generate" and "Reset" are handled within one slice —
// even while training, and generation can run while training goes on.
//
// In your own project, import from the package instead of the repository's sources:
//   import { createRuntime, GPT, … } from 'wasmformer';
// and serve the package's wasm files (`wasmformer/wasm/relaxed.wasm`, `wasmformer/wasm/simd.wasm`)
// next to this worker's bundle, as build.ts does.
import {
  AdamW, attentionMaps, BatchSampler, CharTokenizer, GPT, cosineWithWarmup, createRuntime, generateTokens, trainStep,
  type LrSchedule, type Runtime,
} from '../../src/index.js';
import { PROBE_CHARS, type GenerateRequest, type LossPoint, type PageMessage, type TrainSettings, type WorkerMessage } from './protocol.js';

/**
 * The wasm builds, relative to this worker's script (build.ts copies them to `wasm/`). The
 * runtime takes the best one the browser validates: relaxed SIMD (fused multiply-add), else SIMD,
 * on a shared memory with one thread per core where the page is cross-origin isolated (this
 * Worker may block in Atomics.wait; the page's main thread may not).
 */
const WASM = {
  'relaxed-threads': new URL('./wasm/relaxed-threads.wasm', import.meta.url),
  threads: new URL('./wasm/threads.wasm', import.meta.url),
  relaxed: new URL('./wasm/relaxed.wasm', import.meta.url),
  simd: new URL('./wasm/simd.wasm', import.meta.url),
};

/** How long one slice of training runs before the worker looks at its messages again. */
const TRAIN_SLICE_MS = 60;
/** The same while a generation is streaming, so that characters keep coming. */
const TRAIN_SLICE_WHILE_GENERATING_MS = 25;
/** How long one slice of generation runs (between slices of training, if it trains). */
const GENERATE_SLICE_MS = 12;
/** How often the attention heatmap is refreshed while training (drawing its ~4,600 cells costs the page ~30–100 ms). */
const ATTENTION_EVERY_MS = 3000;

/** The worker's global scope, typed by hand (the repo compiles with the DOM library, not WebWorker). */
interface WorkerScope {
  postMessage(message: WorkerMessage, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<PageMessage>) => void) | null;
  crossOriginIsolated?: boolean;
}
const scope = self as unknown as WorkerScope;
const post = (message: WorkerMessage, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

/** A model and everything needed to keep training it. */
interface Session {
  rt: Runtime;
  model: GPT;
  optimizer: AdamW;
  tok: CharTokenizer;
  sampler: BatchSampler;
  lrAt: LrSchedule;
  text: string;
  settings: TrainSettings;
  /** Steps done. */
  step: number;
  /** Train until this step. */
  target: number;
  /** Training time so far, pauses excluded. */
  elapsedMs: number;
  /** Ids and labels of the characters whose attention is shown. */
  probe: { ids: Int32Array; labels: string[] };
}

/** A generation in progress. */
interface Generation {
  session: Session;
  tokens: Iterator<number>;
  count: number;
  /** When it started (performance.now()): its speed is measured in wall-clock time, training slices included. */
  startedAt: number;
}

let session: Session | null = null;
/** The runtime loaded at start-up, used by the first model (each new model gets a fresh runtime, so an old one's memory is freed). */
let spareRuntime: Runtime | null = null;
let training = false;
let generation: Generation | null = null;
let pumping = false;

// Messages are handled one at a time, in order: creating a model awaits the runtime.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (event) => {
  const message = event.data;
  queue = queue.then(() => handle(message)).catch((err) => fail(message.type === 'generate' ? 'generation' : 'training', err));
};
queue = queue.then(startUp).catch((err) => fail('startup', err));

async function startUp(): Promise<void> {
  const rt = (spareRuntime = await createRuntime({ wasm: WASM }));
  post({
    type: 'ready', backend: rt.threads > 1 ? `${rt.backend} × ${rt.threads} threads` : rt.backend, notes: [...rt.notes],
    crossOriginIsolated: scope.crossOriginIsolated === true, sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
  });
}

async function handle(message: PageMessage): Promise<void> {
  switch (message.type) {
    case 'train': {
      const current = session;
      if (current && current.text === message.text && sameSettings(current.settings, message.settings)) {
        // The same model again: finish the budget, or train `steps` more (at the final learning rate).
        if (current.step >= current.target) current.target += current.settings.steps;
        post(modelMessage(current, false));
      } else {
        stopGeneration();
        session = await newSession(message.text, message.settings);
        post(modelMessage(session, true));
        postAttention(session);
      }
      training = true;
      pump();
      return;
    }
    case 'stop':
      if (training) finishTraining(true);
      return;
    case 'reset':
      training = false; // silently: the page has cleared what it showed of this model
      stopGeneration();
      session = null;
      return;
    case 'generate':
      startGeneration(message.request);
      return;
  }
}

/** A new model on a fresh runtime, with its tokenizer, optimizer, batches and schedule. */
async function newSession(text: string, settings: TrainSettings): Promise<Session> {
  const tok = CharTokenizer.fromText(text);
  const data = tok.encode(text);
  if (data.length < settings.blockSize + 1) {
    throw new Error(`the text has ${data.length} characters; it needs more than the context length (${settings.blockSize}): paste more text or lower the context`);
  }
  const rt = spareRuntime ?? (await createRuntime({ wasm: WASM }));
  spareRuntime = null;
  const model = new GPT(rt, {
    vocabSize: tok.vocabSize, blockSize: settings.blockSize, nLayer: settings.nLayer, nHead: settings.nHead, dModel: settings.dModel,
  }, { seed: settings.seed });
  const optimizer = new AdamW(model.params, { betas: [0.9, 0.99], weightDecay: 0.1 });
  const warmupSteps = Math.min(20, Math.floor(settings.steps / 4));
  const lrAt = cosineWithWarmup({ lr: settings.lr, minLr: settings.lr / 10, warmupSteps, decaySteps: Math.max(settings.steps, warmupSteps + 1) });
  const probeText = [...text].slice(0, Math.min(PROBE_CHARS, settings.blockSize));
  return {
    rt, model, optimizer, tok, lrAt, text, settings: { ...settings },
    sampler: new BatchSampler(data, settings.batchSize, settings.blockSize, settings.seed),
    step: 0, target: settings.steps, elapsedMs: 0,
    probe: { ids: tok.encode(probeText.join('')), labels: probeText },
  };
}

function sameSettings(a: TrainSettings, b: TrainSettings): boolean {
  return (Object.keys(a) as (keyof TrainSettings)[]).every((key) => a[key] === b[key]);
}

function modelMessage(s: Session, fresh: boolean): WorkerMessage {
  return { type: 'model', fresh, params: s.model.numParams(), vocabSize: s.tok.vocabSize, tokens: s.sampler.tokens.length, settings: s.settings };
}

/**
 * The worker's loop while there is work: a slice of generation, a slice of training, then back
 * to the event loop so that messages from the page get handled.
 */
function pump(): void {
  if (pumping) return;
  pumping = true;
  void (async () => {
    let lastAttention = performance.now();
    try {
      while (training || generation) {
        if (generation) {
          try {
            generateSlice(GENERATE_SLICE_MS);
          } catch (err) {
            generation = null;
            fail('generation', err);
          }
        }
        if (training && session) {
          try {
            trainSlice(session, generation ? TRAIN_SLICE_WHILE_GENERATING_MS : TRAIN_SLICE_MS);
            if (session.step >= session.target) finishTraining(false);
            else if (performance.now() - lastAttention > ATTENTION_EVERY_MS) {
              postAttention(session);
              lastAttention = performance.now();
            }
          } catch (err) {
            training = false; // e.g. a TrainingError: the loss or a gradient became NaN/Inf
            fail('training', err);
          }
        }
        await yieldToEventLoop();
      }
    } finally {
      pumping = false;
    }
  })();
}

/** Training steps for about `budgetMs` (at least one), then one progress message with every step's loss. */
function trainSlice(s: Session, budgetMs: number): void {
  const { rt, model, optimizer, sampler } = s;
  const { batchSize: B, blockSize: T } = s.settings;
  const points: LossPoint[] = [];
  const t0 = performance.now();
  let lr = 0;
  do {
    lr = s.lrAt(s.step);
    const { loss } = trainStep(model, optimizer, () => {
      const x = rt.empty([B, T], { dtype: 'i32', arena: 'step' });
      const y = rt.empty([B, T], { dtype: 'i32', arena: 'step' });
      sampler.next(x.i32(), y.i32()); // B random windows of the text and the characters that follow them
      return model.forward(x, y).loss!;
    }, { step: s.step, lr, clip: 1 });
    points.push({ step: s.step, loss });
    s.step++;
  } while (s.step < s.target && performance.now() - t0 < budgetMs);
  const ms = performance.now() - t0;
  s.elapsedMs += ms;
  post({
    type: 'progress', points, step: s.step, target: s.target, lr, elapsedMs: s.elapsedMs,
    stepsPerSecond: perSecond(points.length, ms), tokensPerSecond: perSecond(points.length * B * T, ms),
  });
}

function finishTraining(stopped: boolean): void {
  training = false;
  if (!session) return;
  post({ type: 'trained', step: session.step, stopped });
  postAttention(session);
}

/** The attention of every layer and head on the first characters of the text, from one no-grad forward. */
function postAttention(s: Session): void {
  const { rt, model } = s;
  const wasTraining = model.ctx.training;
  model.eval();
  model.keepAttention(true);
  try {
    rt.step.scope(() => {
      const idx = rt.tensor(s.probe.ids, [1, s.probe.ids.length], { dtype: 'i32', arena: 'step' });
      rt.tape.noGrad(() => model.forward(idx));
    });
    const maps = attentionMaps(model, { labels: s.probe.labels });
    post({ type: 'attention', step: s.step, maps }, [maps.data.buffer]);
  } finally {
    model.keepAttention(false); // training steps need not copy their probabilities out
    model.train(wasTraining);
  }
}

function startGeneration(request: GenerateRequest): void {
  stopGeneration();
  if (!session) throw new Error('there is no model yet: press "Train" first');
  const { tok } = session;
  let prompt = '';
  let dropped = '';
  for (const ch of request.prompt) {
    if (tok.vocab.includes(ch)) prompt += ch;
    else dropped += ch;
  }
  if (prompt === '') prompt = [...session.text][0] ?? tok.vocab[0]!; // a prompt needs at least one known character
  generation = {
    session, count: 0, startedAt: performance.now(),
    tokens: generateTokens(session.model, tok.encode(prompt), {
      maxNewTokens: request.maxNewTokens, temperature: request.temperature, seed: request.seed,
    }),
  };
  post({ type: 'generating', prompt, dropped });
  pump();
}

/** Generates characters for about `budgetMs` (at least one), posting each as it comes. */
function generateSlice(budgetMs: number): void {
  const g = generation!;
  const t0 = performance.now();
  do {
    const next = g.tokens.next();
    if (next.done) {
      generation = null;
      post({ type: 'generated', tokens: g.count, tokensPerSecond: perSecond(g.count, performance.now() - g.startedAt) });
      return;
    }
    g.count++;
    post({ type: 'token', text: g.session.tok.decode([next.value]) });
  } while (performance.now() - t0 < budgetMs);
}

function stopGeneration(): void {
  if (!generation) return;
  generation.tokens.return?.(); // restores the model's training mode
  post({ type: 'generated', tokens: generation.count, tokensPerSecond: perSecond(generation.count, performance.now() - generation.startedAt) });
  generation = null;
}

function perSecond(count: number, ms: number): number {
  return ms > 0 ? count / (ms / 1000) : 0;
}

/** Reports an error to the page (which shows it and logs it to the console). */
function fail(during: 'startup' | 'training' | 'generation', err: unknown): void {
  post({ type: 'error', during, message: err instanceof Error ? (err.name === 'Error' ? err.message : `${err.name}: ${err.message}`) : String(err) });
}

/** Resolves in a new task, after pending messages are handled (unlike nested timers, not clamped to 4 ms). */
const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()?.();
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(null);
  });
}
