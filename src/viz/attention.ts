// Attention maps as pictures: a grid of heatmaps (one row per layer, one column per head) as a
// self-contained SVG string, and one layer/head as coloured or shaded text for a terminal.
// Plain string building with no DOM, like plot.ts. Colours come from a small table of control
// points interpolated linearly in sRGB; all text from the caller is escaped for XML.
import { ShapeError, ValueError } from '../errors.js';
import { escapeXml, niceTicks, svgOpen } from './plot.js';
import type { KeptAttention } from '../nn/attention.js';

/** Attention probabilities of one input: data is (layers, heads, Tq, Tk) row-major; each row sums to 1 (or is all 0 for a fully masked row). */
export interface AttentionMaps {
  layers: number;
  heads: number;
  tq: number;
  tk: number;
  data: Float32Array; /* (layers, heads, Tq, Tk) */
  /** Optional labels: one per query row / key column (e.g. the tokens). */
  queryLabels?: string[];
  keyLabels?: string[];
  /** Optional names of the layers, e.g. "encoder.0 self", "decoder.1 cross". Default "layer i". */
  layerNames?: string[];
}

/** What {@link attentionMaps} reads: a model (after `keepAttention()` and a forward) or its `keptAttention()` list. */
export type AttentionSource = KeptAttention[] | { keptAttention(): KeptAttention[] };

export interface AttentionMapsOptions {
  /** Which of the B sequences to keep. Default 0. */
  batchIndex?: number;
  /** Which attentions, by name ('h.0', 'encoder.1 self', 'decoder.0 cross', …): a substring, a RegExp or a test. Default all. */
  select?: string | RegExp | ((name: string) => boolean);
  /** Labels of the positions, queries and keys alike (self-attention). */
  labels?: string[];
  /** Labels of the query rows (default `labels`, else what the model kept). */
  queryLabels?: string[];
  /** Labels of the key columns (default `labels`, else what the model kept). */
  keyLabels?: string[];
}

/** A perceptual sequential colormap: viridis (dark purple → yellow) or greys (white → black). */
export type Colormap = 'viridis' | 'greys';

/** How values map to colours: 0..max of each panel, or 0..max over all panels drawn. */
export type AttentionScale = 'panel' | 'global';

export interface AttentionSvgOptions {
  /** Indices of the layers to draw, in this order. Default all. */
  layers?: number[];
  /** Indices of the heads to draw, in this order. Default all. */
  heads?: number[];
  /** Pixel size of one cell. Default 160 / max(Tq, Tk), rounded down and kept within 2..24. */
  cell?: number;
  title?: string;
  /** Token labels beside the first panel of each row and above the first row. Default: when cell ≥ 8. */
  showLabels?: boolean;
  /** Default 'viridis'. */
  colormap?: Colormap;
  /** Default 'global'. */
  scale?: AttentionScale;
}

export interface AttentionTerminalOptions {
  /** Default the last layer. */
  layer?: number;
  /** Default 0. Not allowed together with `average`. */
  head?: number;
  /** Show the mean over all heads. Default false. */
  average?: boolean;
  /** ANSI 24-bit background colours; else the shades " ░▒▓█". Default true. */
  color?: boolean;
  /** Default 'viridis'. */
  colormap?: Colormap;
  /** 'panel': 0..max of the matrix shown; 'global': 0..max of all of `maps`. Default 'panel'. */
  scale?: AttentionScale;
  /** Query labels longer than this are cut and end in '…'. Default 8. */
  labelWidth?: number;
  /** Most key columns; more keys are averaged in bins of ⌈Tk / maxWidth⌉. Default 120. */
  maxWidth?: number;
  /** A header line with the first character of each key label. Default: when `maps.keyLabels` is set. */
  showKeyLabels?: boolean;
}

type Rgb = [number, number, number];

const COLORMAPS: Record<Colormap, Rgb[]> = {
  // viridis at t = 0, 1/8, …, 1; its luminance rises at every step.
  viridis: [
    [0x44, 0x01, 0x54], [0x47, 0x2d, 0x7b], [0x3b, 0x52, 0x8b], [0x2c, 0x72, 0x8e], [0x21, 0x91, 0x8c],
    [0x28, 0xae, 0x80], [0x5e, 0xc9, 0x62], [0xad, 0xdc, 0x30], [0xfd, 0xe7, 0x25],
  ],
  // More attention is darker, as on paper.
  greys: [[255, 255, 255], [0, 0, 0]],
};
const NON_FINITE = '#ff00ff'; // a NaN or infinite value, in the SVG
const SHADES = [' ', '░', '▒', '▓', '█'];
const PAD = 10;
const GAP = 12; // between panels
const TITLE_H = 14; // panel title band
const CHAR_W = 0.6; // glyph width / font size, to estimate label widths
const MAX_TOOLTIP_CELLS = 4096;

/**
 * The maps of one sequence from a model's kept attention probabilities: one layer per selected
 * attention (they must agree in heads, Tq, Tk and B), named as the model names them. The data
 * is copied.
 * @throws ValueError when nothing was kept, nothing is selected, or batchIndex is outside 0..B-1.
 * @throws ShapeError when the selected attentions differ in size or a label list has the wrong length.
 * @example
 * ```ts
 * model.keepAttention();
 * rt.tape.noGrad(() => model.forward(idx));                    // idx (1, T)
 * const maps = attentionMaps(model, { labels: [...text] });
 * writeFileSync('attention.svg', attentionSvg(maps));
 * attentionMaps(seq2seq, { select: 'cross', queryLabels: tgt, keyLabels: src });
 * ```
 */
export function attentionMaps(source: AttentionSource, opts: AttentionMapsOptions = {}): AttentionMaps {
  const fn = 'attentionMaps';
  const all = Array.isArray(source) ? source : source.keptAttention();
  const test = opts.select;
  const kept = test === undefined ? all
    : all.filter((a) => (typeof test === 'string' ? a.name.includes(test) : test instanceof RegExp ? test.test(a.name) : test(a.name)));
  if (kept.length === 0) {
    throw new ValueError(`${fn}: ${all.length === 0 ? 'no attention kept' : `no attention matches ${String(test)} (kept: ${all.map((a) => a.name).join(', ')})`}`);
  }
  const first = kept[0]!;
  const { batch, heads, tq, tk } = first;
  checkDims(fn, { batch, heads, tq, tk });
  const b = opts.batchIndex ?? 0;
  if (!Number.isInteger(b) || b < 0 || b >= batch) {
    throw new ValueError(`${fn}: batchIndex is ${b}, expected an integer in 0..${batch - 1} (B = ${batch})`);
  }
  const per = heads * tq * tk;
  const data = new Float32Array(kept.length * per);
  kept.forEach((a, l) => {
    if (a.batch !== batch || a.heads !== heads || a.tq !== tq || a.tk !== tk) {
      throw new ShapeError(`${fn}: ${a.name} is (B ${a.batch}, heads ${a.heads}, Tq ${a.tq}, Tk ${a.tk}) but ${first.name} is (B ${batch}, heads ${heads}, Tq ${tq}, Tk ${tk}); select attentions of one size`);
    }
    if (a.data.length !== batch * per) {
      throw new ShapeError(`${fn}: ${a.name} has ${a.data.length} values, expected B·NH·Tq·Tk = ${batch}·${heads}·${tq}·${tk} = ${batch * per}`);
    }
    data.set(a.data.subarray(b * per, (b + 1) * per), l * per);
  });
  const maps: AttentionMaps = { layers: kept.length, heads, tq, tk, data, layerNames: kept.map((a) => a.name) };
  const queryLabels = opts.queryLabels ?? opts.labels ?? first.queryLabels;
  const keyLabels = opts.keyLabels ?? opts.labels ?? first.keyLabels;
  if (queryLabels !== undefined) maps.queryLabels = [...queryLabels];
  if (keyLabels !== undefined) maps.keyLabels = [...keyLabels];
  checkLabels(fn, maps);
  return maps;
}

/**
 * A [CLS]-token view of ViT maps: how much the first query ([CLS]) attends to each patch, laid
 * out as the G×G patch grid (Tq = Tk = G). Rows of a grid do not sum to 1; the grid plus
 * [CLS]'s attention to itself does.
 * @throws ShapeError unless the maps are square with 1 + G² positions.
 * @example
 * ```ts
 * console.log(attentionTerminal(clsAttentionGrid(attentionMaps(vit, { batchIndex: 3 })), { average: true }));
 * ```
 */
export function clsAttentionGrid(maps: AttentionMaps): AttentionMaps {
  const fn = 'clsAttentionGrid';
  checkMaps(fn, maps);
  const T = maps.tq, N = T - 1, G = Math.round(Math.sqrt(N));
  if (maps.tk !== T || N < 1 || G * G !== N) {
    throw new ShapeError(`${fn}: maps are ${maps.tq}×${maps.tk}, expected square with 1 + G² positions ([CLS] then a G×G patch grid)`);
  }
  const panels = maps.layers * maps.heads;
  const data = new Float32Array(panels * N);
  // panel i's (G, G) grid = row 0 ([CLS]) of its (T, T) map, keys 1 … N
  for (let i = 0; i < panels; i++) data.set(maps.data.subarray(i * T * T + 1, i * T * T + T), i * N);
  const grid: AttentionMaps = { layers: maps.layers, heads: maps.heads, tq: G, tk: G, data };
  if (maps.layerNames) grid.layerNames = [...maps.layerNames];
  return grid;
}

/**
 * The colour of `t` in 0..1 (clamped; NaN counts as 0) on a colormap, as 0..255 channels.
 * @example
 * ```ts
 * colormapRgb(0);            // [68, 1, 84]   dark purple
 * colormapRgb(1);            // [253, 231, 37] yellow
 * colormapRgb(0.5, 'greys'); // [128, 128, 128]
 * ```
 */
export function colormapRgb(t: number, name: Colormap = 'viridis'): Rgb {
  const stops = COLORMAPS[name];
  if (stops === undefined) throw new ValueError(`colormapRgb: colormap is "${name}", expected "viridis" or "greys"`);
  const u = t > 0 ? Math.min(t, 1) : 0;
  const x = u * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return [0, 1, 2].map((c) => Math.round(a[c]! + (b[c]! - a[c]!) * f)) as Rgb;
}

/**
 * A grid of heatmaps as a self-contained SVG string: one row per layer, one column per head,
 * each panel titled "L{layer} H{head}" (or the layer's name) with one `<rect>` per cell (and a
 * `<title>` tooltip per cell when at most 4096 cells are drawn), token labels, and a colour bar.
 * Values are coloured on 0..max (`scale`); a NaN or infinite value is drawn magenta. Each cell is
 * one element, so keep Tq·Tk·panels to a few hundred thousand.
 * @throws ShapeError when `maps` is inconsistent; ValueError for a bad layer/head index or cell size.
 * @example
 * ```ts
 * const svg = attentionSvg(maps, { layers: [0, 3], heads: [1], title: 'char GPT, "To be"' });
 * writeFileSync('attention.svg', svg);
 * ```
 */
export function attentionSvg(maps: AttentionMaps, opts: AttentionSvgOptions = {}): string {
  const fn = 'attentionSvg';
  checkMaps(fn, maps);
  const { tq, tk } = maps;
  const layers = pick(fn, 'layers', opts.layers, maps.layers);
  const heads = pick(fn, 'heads', opts.heads, maps.heads);
  const cmap = checkColormap(fn, opts.colormap ?? 'viridis');
  const scale = checkScale(fn, opts.scale ?? 'global');
  const cell = opts.cell ?? Math.min(24, Math.max(2, Math.floor(160 / Math.max(tq, tk))));
  if (!(cell > 0) || !Number.isFinite(cell)) throw new ValueError(`${fn}: cell is ${cell}, expected a finite number of pixels > 0`);

  const showLabels = opts.showLabels ?? cell >= 8;
  const font = Math.max(6, Math.min(11, cell - 2));
  const qLabels = showLabels && maps.queryLabels ? maps.queryLabels.map((s) => cut(visible(s), 16)) : [];
  const kLabels = showLabels && maps.keyLabels ? maps.keyLabels.map((s) => cut(visible(s), 16)) : [];
  const qLabelW = qLabels.length > 0 ? longest(qLabels) * font * CHAR_W + 6 : 0;
  const kLabelH = kLabels.length > 0 ? longest(kLabels) * font * CHAR_W + 6 : 0;

  // Layout: column j at colX(j); row r's cells start at cellsY(r), its title TITLE_H above
  // them (row 0: above the key labels too).
  const panelName = (l: number, h: number) => `${maps.layerNames?.[l] ?? `L${l}`} H${h}`;
  let titleW = 0;
  for (const l of layers) for (const h of heads) titleW = Math.max(titleW, panelName(l, h).length * 11 * CHAR_W + 4);
  const colW = Math.max(tk * cell, titleW);
  const left = PAD + qLabelW;
  const top = PAD + (opts.title !== undefined ? 28 : 0);
  const colX = (j: number) => left + j * (colW + GAP);
  const cellsY = (r: number) => top + TITLE_H + kLabelH + r * (TITLE_H + tq * cell + GAP);
  const gridBottom = cellsY(layers.length - 1) + tq * cell;

  // Scales: the max of each panel, and over all drawn panels.
  const base = (l: number, h: number) => (l * maps.heads + h) * tq * tk;
  const panelMax = layers.map((l) => heads.map((h) => finiteMax(maps.data, base(l, h), tq * tk)));
  const globalMax = Math.max(0, ...panelMax.flat());
  const color = (v: number, max: number) => (Number.isFinite(v) ? hex(colormapRgb(v / (max > 0 ? max : 1), cmap)) : NON_FINITE);
  const globalTop = globalMax > 0 ? globalMax : 1; // all zero (fully masked) draws as 0 on 0..1

  // Colour bar right of the grid: 0 at the bottom, max at the top.
  const barX = colX(heads.length) - GAP + 16;
  const barY = cellsY(0);
  const barH = Math.max(80, Math.min(200, gridBottom - barY));
  const ticks: { y: number; label: string }[] = [];
  if (scale === 'panel') {
    ticks.push({ y: barY + barH, label: '0' }, { y: barY, label: 'panel max' });
  } else {
    const nice = niceTicks(0, globalTop, 4);
    nice.ticks.forEach((t, i) => {
      if (t <= globalTop * (1 + 1e-9)) ticks.push({ y: barY + barH * (1 - t / globalTop), label: nice.labels[i]! });
    });
  }
  const width = barX + 12 + 6 + longest(ticks.map((t) => t.label)) * 11 * CHAR_W + PAD;
  const height = Math.max(gridBottom, barY + barH) + PAD;

  const out = svgOpen(px(width), px(height), 11, opts.title, PAD + 16);
  const tooltips = layers.length * heads.length * tq * tk <= MAX_TOOLTIP_CELLS;
  layers.forEach((l, r) => {
    const y = cellsY(r);
    const titleY = (r === 0 ? y - kLabelH : y) - 4;
    if (qLabels.length > 0) {
      out.push(`<g class="query-labels" font-size="${font}" text-anchor="end">`);
      qLabels.forEach((s, i) => out.push(`<text x="${px(left - 4)}" y="${px(y + (i + 0.5) * cell)}" dy="0.35em">${escapeXml(s)}</text>`));
      out.push('</g>');
    }
    heads.forEach((h, j) => {
      const x = colX(j);
      out.push(`<text class="panel-title" x="${px(x)}" y="${px(titleY)}">${escapeXml(panelName(l, h))}</text>`);
      if (r === 0 && kLabels.length > 0) {
        out.push(`<g class="key-labels" font-size="${font}">`);
        kLabels.forEach((s, k) => {
          const kx = px(x + (k + 0.5) * cell);
          out.push(`<text x="${kx}" y="${px(y - 3)}" dy="0.35em" transform="rotate(-90 ${kx} ${px(y - 3)})">${escapeXml(s)}</text>`);
        });
        out.push('</g>');
      }
      const max = scale === 'panel' ? panelMax[r]![j]! : globalMax;
      out.push(`<g class="cells" data-layer="${l}" data-head="${h}" transform="translate(${px(x)} ${px(y)})" shape-rendering="crispEdges">`);
      for (let i = 0; i < tq; i++) {
        for (let k = 0; k < tk; k++) {
          const v = maps.data[base(l, h) + i * tk + k]!;
          const rect = `<rect x="${px(k * cell)}" y="${px(i * cell)}" width="${px(cell)}" height="${px(cell)}" fill="${color(v, max)}"`;
          if (!tooltips) {
            out.push(rect + '/>');
            continue;
          }
          const q = maps.queryLabels ? ` ${visible(maps.queryLabels[i]!)}` : '';
          const key = maps.keyLabels ? ` ${visible(maps.keyLabels[k]!)}` : '';
          out.push(`${rect}><title>${escapeXml(`q${i}${q} → k${k}${key}: ${fmt(v)}`)}</title></rect>`);
        }
      }
      out.push('</g>');
    });
  });

  out.push(`<g class="colorbar" font-size="11">`);
  const strips = 32;
  for (let s = 0; s < strips; s++) {
    const t = (strips - 1 - s) / (strips - 1);
    out.push(`<rect x="${px(barX)}" y="${px(barY + (s * barH) / strips)}" width="12" height="${px(barH / strips + 0.5)}" fill="${hex(colormapRgb(t, cmap))}"/>`);
  }
  out.push(`<rect x="${px(barX)}" y="${px(barY)}" width="12" height="${px(barH)}" fill="none" stroke="#888"/>`);
  for (const t of ticks) {
    out.push(`<line x1="${px(barX + 12)}" y1="${px(t.y)}" x2="${px(barX + 15)}" y2="${px(t.y)}" stroke="#888"/>`);
    out.push(`<text x="${px(barX + 18)}" y="${px(t.y)}" dy="0.35em">${escapeXml(t.label)}</text>`);
  }
  out.push('</g>');
  out.push('</svg>');
  return out.join('\n');
}

/**
 * One layer's attention (one head, or the mean over heads) as text for a terminal: a header
 * line, an optional line of key initials, then one line per query with one character cell
 * per key, coloured with ANSI 24-bit backgrounds or drawn with the shades " ░▒▓█" (0..max in
 * five levels; '?' for NaN). Lines without colour have no trailing spaces.
 * @throws ShapeError when `maps` is inconsistent; ValueError for a bad layer/head or width.
 * @example
 * ```ts
 * console.log(attentionTerminal(maps, { layer: 0, average: true }));
 * console.log(attentionTerminal(maps, { head: 2, color: false, maxWidth: 80 }));
 * ```
 */
export function attentionTerminal(maps: AttentionMaps, opts: AttentionTerminalOptions = {}): string {
  const fn = 'attentionTerminal';
  checkMaps(fn, maps);
  const { tq, tk, heads } = maps;
  const layer = opts.layer ?? maps.layers - 1;
  checkIndex(fn, 'layer', layer, maps.layers);
  const average = opts.average ?? false;
  if (average && opts.head !== undefined) throw new ValueError(`${fn}: head is ${opts.head} and average is true; give one of them`);
  const head = opts.head ?? 0;
  checkIndex(fn, 'head', head, heads);
  const color = opts.color ?? true;
  const cmap = checkColormap(fn, opts.colormap ?? 'viridis');
  const scale = checkScale(fn, opts.scale ?? 'panel');
  const labelWidth = opts.labelWidth ?? 8;
  const maxWidth = opts.maxWidth ?? 120;
  for (const [name, v] of [['labelWidth', labelWidth], ['maxWidth', maxWidth]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ValueError(`${fn}: ${name} is ${v}, expected an integer ≥ 1`);
  }

  // The (Tq, Tk) matrix shown: one head, or the mean over heads.
  const m = new Float64Array(tq * tk);
  const used = average ? Array.from({ length: heads }, (_, h) => h) : [head];
  for (const h of used) {
    const base = (layer * heads + h) * tq * tk;
    for (let i = 0; i < tq * tk; i++) m[i]! += maps.data[base + i]! / used.length;
  }
  // Keys in bins of `bin` consecutive columns, each shown as the mean of its bin: (Tq, cols).
  const bin = Math.ceil(tk / maxWidth);
  const cols = Math.ceil(tk / bin);
  const shown = new Float64Array(tq * cols);
  for (let i = 0; i < tq; i++) {
    for (let c = 0; c < cols; c++) {
      const end = Math.min(tk, (c + 1) * bin);
      let sum = 0;
      for (let k = c * bin; k < end; k++) sum += m[i * tk + k]!;
      shown[i * cols + c] = sum / (end - c * bin);
    }
  }
  const max = scale === 'panel' ? finiteMax(shown, 0, shown.length) : finiteMax(maps.data, 0, maps.data.length);
  const top = max > 0 ? max : 1;

  const name = maps.layerNames?.[layer];
  const header = [
    name !== undefined ? `layer ${layer} (${visible(name)})` : `layer ${layer}`,
    average ? `mean of ${heads} heads` : `head ${head}`,
    `Tq ${tq} × Tk ${tk}`,
    `scale 0..${fmt(max)} (${scale} max)`,
  ];
  if (bin > 1) header.push(`keys averaged in bins of ${bin} (${tk} → ${cols} columns)`);
  if (!color) header.push(`shades "${SHADES.join('')}" = 0..max`);
  const lines = [header.join(' · ')];

  const labels = Array.from({ length: tq }, (_, i) => cut(maps.queryLabels ? visible(maps.queryLabels[i]!) : String(i), labelWidth));
  const lw = longest(labels);
  if (maps.keyLabels !== undefined && (opts.showKeyLabels ?? true)) {
    let initials = '';
    for (let c = 0; c < cols; c++) initials += [...visible(maps.keyLabels[c * bin]!)][0] ?? ' ';
    lines.push((' '.repeat(lw + 1) + initials).trimEnd());
  }
  for (let i = 0; i < tq; i++) {
    let row = ' '.repeat(lw - [...labels[i]!].length) + labels[i]! + ' ';
    for (let c = 0; c < cols; c++) {
      const v = shown[i * cols + c]!;
      if (!Number.isFinite(v)) row += color ? '\x1b[49m?' : '?';
      else if (color) row += `\x1b[48;2;${colormapRgb(v / top, cmap).join(';')}m `;
      else row += SHADES[Math.round(Math.min(1, Math.max(0, v / top)) * 4)];
    }
    lines.push(color ? row + '\x1b[0m' : row.trimEnd());
  }
  return lines.join('\n');
}

function checkDims(fn: string, dims: Record<string, number>): void {
  for (const [name, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 1) throw new ShapeError(`${fn}: ${name} is ${v}, expected a positive integer`);
  }
}

function checkMaps(fn: string, maps: AttentionMaps): void {
  const { layers, heads, tq, tk } = maps;
  checkDims(fn, { layers, heads, tq, tk });
  const n = layers * heads * tq * tk;
  if (maps.data.length !== n) {
    throw new ShapeError(`${fn}: data has ${maps.data.length} values, expected layers·heads·Tq·Tk = ${layers}·${heads}·${tq}·${tk} = ${n}`);
  }
  checkLabels(fn, maps);
}

function checkLabels(fn: string, maps: AttentionMaps): void {
  const lists = [['query labels', maps.queryLabels, 'Tq', maps.tq], ['key labels', maps.keyLabels, 'Tk', maps.tk], ['layer names', maps.layerNames, 'layers', maps.layers]] as const;
  for (const [what, list, dim, n] of lists) {
    if (list !== undefined && list.length !== n) throw new ShapeError(`${fn}: ${list.length} ${what}, expected ${dim} = ${n}`);
  }
}

function checkIndex(fn: string, what: string, i: number, n: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new ValueError(`${fn}: ${what} is ${i}, expected an integer in 0..${n - 1}`);
}

/** The indices asked for, checked, or 0..n-1. */
function pick(fn: string, what: 'layers' | 'heads', asked: number[] | undefined, n: number): number[] {
  if (asked === undefined) return Array.from({ length: n }, (_, i) => i);
  if (asked.length === 0) throw new ValueError(`${fn}: ${what} is empty, expected at least one index in 0..${n - 1}`);
  asked.forEach((i, k) => checkIndex(fn, `${what}[${k}]`, i, n));
  return asked;
}

function checkColormap(fn: string, name: Colormap): Colormap {
  if (!(name in COLORMAPS)) throw new ValueError(`${fn}: colormap is "${name}", expected "viridis" or "greys"`);
  return name;
}

function checkScale(fn: string, scale: AttentionScale): AttentionScale {
  if (scale !== 'panel' && scale !== 'global') throw new ValueError(`${fn}: scale is "${scale}", expected "panel" or "global"`);
  return scale;
}

/** The largest finite value of a[start .. start+n), or 0. */
function finiteMax(a: ArrayLike<number>, start: number, n: number): number {
  let max = 0;
  for (let i = start; i < start + n; i++) if (a[i]! > max && Number.isFinite(a[i]!)) max = a[i]!;
  return max;
}

/** A token as visible text: newline ↵, tab ⇥, other controls �, and an all-space token as ␣. */
function visible(s: string): string {
  const t = s.replace(/\n/g, '↵').replace(/\t/g, '⇥').replace(/[\u0000-\u001f\u007f-\u009f]/g, '\uFFFD');
  return /^ +$/.test(t) ? '␣'.repeat(t.length) : t;
}

/** At most n characters (code points); a longer text is cut and ends in '…'. */
function cut(s: string, n: number): string {
  const chars = [...s];
  return chars.length <= n ? s : chars.slice(0, n - 1).join('') + '…';
}

function longest(texts: string[]): number {
  return texts.reduce((w, s) => Math.max(w, [...s].length), 0);
}

function hex(rgb: Rgb): string {
  return '#' + rgb.map((c) => c.toString(16).padStart(2, '0')).join('');
}

/** A probability with three significant digits: 0.123, 1e-7, 1. */
function fmt(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(3))) : String(v);
}

/** A pixel coordinate with at most two decimals. */
function px(x: number): string {
  return String(Math.round(x * 100) / 100);
}
