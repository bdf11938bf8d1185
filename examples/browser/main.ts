// The page: reads the form, talks to the training worker (worker.ts) and draws what it
// reports — the loss curve, the attention heatmap and the generated text, character by
// character. Nothing heavy runs here; only the two SVG builders of the library, which are
// plain string functions.
//
// Settings can also come from the URL, e.g. `?steps=40&batch=8&autostart=1`:
//   layers, heads, dmodel, context, batch, lr, steps, seed   (the model and its training)
//   prompt, length, temperature                              (generation)
//   autostart=1                                              (press "Train" once loaded)
//
// In your own project: `import { attentionSvg, lossCurveSvg } from 'wasmformer';`
import { attentionSvg, lossCurveSvg, type AttentionMaps } from '../../src/index.js';
import { DEFAULT_SETTINGS, type LossPoint, type PageMessage, type TrainSettings, type WorkerMessage } from './protocol.js';

/** The element with this id, of the expected type. */
function $<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`index.html lacks #${id} (a ${type.name})`);
  return el;
}

const ui = {
  backend: $('backend', HTMLElement),
  isolation: $('isolation', HTMLElement),
  notes: $('notes', HTMLElement),
  error: $('error', HTMLElement),
  text: $('text', HTMLTextAreaElement),
  textInfo: $('text-info', HTMLElement),
  settings: {
    nLayer: $('layers', HTMLInputElement),
    nHead: $('heads', HTMLInputElement),
    dModel: $('dmodel', HTMLInputElement),
    blockSize: $('context', HTMLInputElement),
    batchSize: $('batch', HTMLInputElement),
    lr: $('lr', HTMLInputElement),
    steps: $('steps', HTMLInputElement),
    seed: $('seed', HTMLInputElement),
  } satisfies Record<keyof TrainSettings, HTMLInputElement>,
  train: $('train', HTMLButtonElement),
  stop: $('stop', HTMLButtonElement),
  reset: $('reset', HTMLButtonElement),
  progress: $('progress', HTMLProgressElement),
  stats: $('stats', HTMLElement),
  modelInfo: $('model-info', HTMLElement),
  chart: $('chart', HTMLElement),
  attention: $('attention', HTMLElement),
  attentionInfo: $('attention-info', HTMLElement),
  prompt: $('prompt', HTMLInputElement),
  length: $('length', HTMLInputElement),
  temperature: $('temperature', HTMLInputElement),
  generate: $('generate', HTMLButtonElement),
  output: $('output', HTMLElement),
  genInfo: $('gen-info', HTMLElement),
};

/** What the page knows; also readable from the console (and by the test) as `wasmformerDemo`. */
const state = {
  backend: '',
  ready: false,
  training: false,
  generating: false,
  hasModel: false,
  /** Every step's loss of the current model. */
  losses: [] as LossPoint[],
  step: 0,
  target: 0,
  elapsedMs: 0,
  /** Characters streamed by the last generation. */
  generated: '',
};
(globalThis as { wasmformerDemo?: unknown }).wasmformerDemo = state;

// ---------------------------------------------------------------------------- settings

const params = new URLSearchParams(location.search);
const QUERY_NAMES: Record<keyof TrainSettings, string> = {
  nLayer: 'layers', nHead: 'heads', dModel: 'dmodel', blockSize: 'context', batchSize: 'batch', lr: 'lr', steps: 'steps', seed: 'seed',
};
for (const key of Object.keys(ui.settings) as (keyof TrainSettings)[]) {
  ui.settings[key].value = params.get(QUERY_NAMES[key]) ?? String(DEFAULT_SETTINGS[key]);
}
for (const [input, name] of [[ui.prompt, 'prompt'], [ui.length, 'length'], [ui.temperature, 'temperature']] as const) {
  const value = params.get(name);
  if (value !== null) input.value = value;
}

/** The form's settings, or an error message naming the first bad field. */
function readSettings(): TrainSettings | string {
  const out = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(ui.settings) as (keyof TrainSettings)[]) {
    const input = ui.settings[key];
    const value = Number(input.value);
    const integer = key !== 'lr';
    if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
      return `${input.labels?.[0]?.textContent?.trim() ?? key} must be a positive ${integer ? 'integer' : 'number'}`;
    }
    out[key] = value;
  }
  if (out.dModel % out.nHead !== 0) return `d_model (${out.dModel}) must be divisible by the number of heads (${out.nHead})`;
  return out;
}

function describeText(): void {
  const text = ui.text.value;
  ui.textInfo.textContent = `${[...text].length.toLocaleString()} characters, ${new Set(text).size} distinct`;
}
ui.text.addEventListener('input', describeText);
describeText();

// ---------------------------------------------------------------------------- the worker

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'wasmformer-trainer' });
const send = (message: PageMessage) => worker.postMessage(message);
worker.addEventListener('error', (event) => showError(`the worker failed: ${event.message || 'could not load worker.js'}`));
worker.addEventListener('messageerror', () => showError('a message from the worker could not be read'));
worker.addEventListener('message', (event: MessageEvent<WorkerMessage>) => onWorkerMessage(event.data));

function onWorkerMessage(m: WorkerMessage): void {
  // After "Reset", reports still on their way about the dropped model are ignored.
  if (!state.hasModel && (m.type === 'progress' || m.type === 'attention' || m.type === 'trained')) return;
  switch (m.type) {
    case 'ready':
      state.ready = true;
      state.backend = m.backend;
      ui.backend.textContent = m.backend;
      ui.backend.className = `badge ${m.backend === 'js' ? 'bad' : 'good'}`;
      ui.isolation.textContent = m.crossOriginIsolated
        ? `yes (SharedArrayBuffer ${m.sharedArrayBuffer ? 'available' : 'missing'})`
        : 'no: serve with COOP same-origin + COEP require-corp';
      ui.isolation.className = `badge ${m.crossOriginIsolated ? 'good' : 'bad'}`;
      ui.notes.textContent = m.notes.length > 0 ? `Loader notes: ${m.notes.join(' · ')}` : '';
      updateButtons();
      if (params.get('autostart') === '1') startTraining();
      break;
    case 'model':
      state.hasModel = true;
      if (m.fresh) {
        state.losses = [];
        state.step = 0;
        state.elapsedMs = 0;
        ui.attention.replaceChildren();
      }
      ui.modelInfo.textContent = `${m.params.toLocaleString()} parameters · ${m.vocabSize} characters in the alphabet · ` +
        `${m.tokens.toLocaleString()} characters of text · ${plural(m.settings.nLayer, 'layer')} × ${plural(m.settings.nHead, 'head')}, d_model ${m.settings.dModel}`;
      updateButtons();
      redrawChart();
      break;
    case 'progress':
      state.losses.push(...m.points);
      state.step = m.step;
      state.target = m.target;
      state.elapsedMs = m.elapsedMs;
      ui.progress.max = m.target;
      ui.progress.value = m.step;
      ui.stats.textContent = `step ${m.step} / ${m.target} · loss ${m.points.at(-1)!.loss.toFixed(3)} · ` +
        `${m.stepsPerSecond.toFixed(1)} steps/s · ${Math.round(m.tokensPerSecond).toLocaleString()} tokens/s · lr ${m.lr.toExponential(1)}`;
      scheduleChart();
      break;
    case 'attention':
      drawAttention(m.maps, m.step);
      break;
    case 'trained': {
      setTraining(false);
      const average = state.elapsedMs > 0 ? state.step / (state.elapsedMs / 1000) : 0;
      ui.stats.textContent += ` — ${m.stopped ? 'stopped' : 'done'} (${average.toFixed(1)} steps/s on average)`;
      redrawChart();
      break;
    }
    case 'generating':
      state.generated = '';
      ui.output.textContent = m.prompt;
      ui.output.classList.add('streaming');
      ui.genInfo.textContent = m.dropped ? `Left out of the prompt (not in the text's alphabet): ${JSON.stringify(m.dropped)}` : '';
      break;
    case 'token':
      state.generated += m.text;
      ui.output.append(m.text); // one text node per character: the text grows as it streams
      break;
    case 'generated':
      setGenerating(false);
      ui.output.classList.remove('streaming');
      ui.genInfo.textContent = `${m.tokens} characters at ${Math.round(m.tokensPerSecond).toLocaleString()} characters/s` +
        (state.training ? ' (while training)' : '');
      break;
    case 'error':
      showError(`${m.during}: ${m.message}`);
      if (m.during === 'training') setTraining(false);
      if (m.during === 'generation') setGenerating(false);
      break;
  }
}

// ---------------------------------------------------------------------------- buttons

function startTraining(): void {
  const settings = readSettings();
  if (typeof settings === 'string') return showError(settings);
  if (ui.text.value.trim() === '') return showError('paste some text to train on first');
  clearError();
  setTraining(true);
  send({ type: 'train', text: ui.text.value, settings });
}

ui.train.addEventListener('click', startTraining);
ui.stop.addEventListener('click', () => send({ type: 'stop' }));
ui.reset.addEventListener('click', () => {
  send({ type: 'reset' });
  Object.assign(state, { hasModel: false, losses: [], step: 0, target: 0, elapsedMs: 0 });
  setTraining(false);
  ui.progress.value = 0;
  ui.stats.textContent = 'Press "Train" to start.';
  ui.modelInfo.textContent = '';
  ui.attention.replaceChildren();
  ui.attentionInfo.textContent = '';
  redrawChart();
});
ui.generate.addEventListener('click', () => {
  const maxNewTokens = Number(ui.length.value);
  const temperature = Number(ui.temperature.value);
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) return showError('length must be a positive integer');
  if (!(temperature >= 0)) return showError('temperature must be ≥ 0 (0 = always the most likely character)');
  clearError();
  setGenerating(true);
  send({ type: 'generate', request: { prompt: ui.prompt.value, maxNewTokens, temperature, seed: Math.floor(Math.random() * 2 ** 31) } });
});

function setTraining(on: boolean): void {
  state.training = on;
  updateButtons();
}

function setGenerating(on: boolean): void {
  state.generating = on;
  updateButtons();
}

function updateButtons(): void {
  ui.train.disabled = !state.ready || state.training;
  ui.stop.disabled = !state.training;
  ui.reset.disabled = !state.ready;
  ui.generate.disabled = !state.hasModel || state.generating;
  document.body.dataset.training = String(state.training);
}

// ---------------------------------------------------------------------------- drawing

/**
 * Replaces `container`'s content with an SVG given as text. The text comes from the library's
 * SVG builders, which escape everything taken from the caller (the token labels are the user's
 * text), and the page's CSP allows no inline script. The HTML parser (innerHTML) builds the
 * ~4,600 cells of the heatmap several times faster than DOMParser + importNode.
 */
function showSvg(container: HTMLElement, svgText: string): void {
  container.innerHTML = svgText;
}

let chartPending = false;
let chartDrawnAt = 0;
/** Redraws the chart at the next animation frame, at most ~5 times a second. */
function scheduleChart(): void {
  if (chartPending) return;
  chartPending = true;
  const wait = Math.max(0, 200 - (performance.now() - chartDrawnAt));
  setTimeout(() => requestAnimationFrame(() => {
    chartPending = false;
    redrawChart();
  }), wait);
}

function redrawChart(): void {
  chartDrawnAt = performance.now();
  const raw = state.losses.map((p) => ({ step: p.step, value: p.loss }));
  // A centred moving average shows the trend under the step-to-step noise without lagging
  // behind it; its window grows with the run (3 steps at 40, 25 at 500), shrinking at the ends.
  const n = state.losses.length;
  const half = Math.max(1, Math.min(12, Math.round(n / 40)));
  const sums = [0];
  for (const p of state.losses) sums.push(sums.at(-1)! + p.loss);
  const smooth = state.losses.map((p, i) => {
    const lo = Math.max(0, i - half);
    const hi = Math.min(n, i + half + 1);
    return { step: p.step, value: (sums[hi]! - sums[lo]!) / (hi - lo) };
  });
  showSvg(ui.chart, lossCurveSvg([
    { name: 'loss', points: raw, color: '#9db8e6' },
    { name: 'moving average', points: smooth, color: '#1f5fbf' },
  ], { width: 560, height: 400, yLabel: 'cross-entropy (nats / character)' }));
}

function drawAttention(maps: AttentionMaps, step: number): void {
  showSvg(ui.attention, attentionSvg(maps, { cell: 10 }));
  ui.attentionInfo.textContent = `after ${step} steps: row = a character (query), column = an earlier character it attends to (key); brighter = more attention`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function showError(message: string): void {
  ui.error.textContent = message;
  ui.error.hidden = false;
  console.error(`wasmformer demo: ${message}`);
}

function clearError(): void {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

ui.output.textContent = '';
updateButtons();
redrawChart();
