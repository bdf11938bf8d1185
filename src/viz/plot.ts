// Loss curves as a self-contained SVG string, and rows as CSV text: plain string building,
// no DOM, so both work in Node, Deno, browsers and workers. The SVG has axes with 1-2-5
// ticks (or decades on a log scale), one colour per series, a legend and a title; all text
// from the caller is escaped for XML.
import { ValueError } from '../errors.js';

/**
 * The opening of a figure: the <svg> element (width × height px, sans-serif at fontSize), a
 * white background and an optional bold centred title at baseline titleY. Close with '</svg>'.
 */
export function svgOpen(width: string | number, height: string | number, fontSize: number, title: string | undefined, titleY: number): string[] {
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="sans-serif" font-size="${fontSize}">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
  ];
  if (title !== undefined) {
    out.push(`<text x="${num(Number(width) / 2)}" y="${titleY}" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  }
  return out;
}

/** One curve: its points are drawn in the order given; a NaN or infinite point leaves a gap. */
export interface Series {
  name: string;
  points: { step: number; value: number }[];
  /** Any SVG colour; default from a built-in palette by series index. */
  color?: string;
}

export interface PlotOptions {
  /** In pixels. Default 640. */
  width?: number;
  /** In pixels. Default 400. */
  height?: number;
  title?: string;
  /** Default "step". */
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic y axis; values ≤ 0 then leave a gap like NaN. Default false. */
  logY?: boolean;
}

const PALETTE = ['#1f5fbf', '#d1495b', '#2a9d3f', '#8a4fbf', '#e07a1f', '#1b998b', '#b58a00', '#c2408f', '#555555', '#6b8e23'];
const MARGIN = { left: 72, right: 20, top: 36, bottom: 52 };

/** Tick values and the domain they span: ticks[0] = lo ≤ data ≤ hi = ticks[last]. */
interface Axis {
  lo: number;
  hi: number;
  ticks: number[];
  labels: string[];
  log: boolean;
}

/**
 * An SVG line chart of one or more series (loss against step, say). Points with a NaN or
 * infinite step or value are skipped and break the line; an isolated point is drawn as a dot.
 * With no drawable point at all, the chart is an empty frame saying "no data".
 * @throws ValueError for a width or height that is not a finite number ≥ 120.
 * @example
 * ```ts
 * const svg = lossCurveSvg([
 *   { name: 'train', points: [{ step: 0, value: 4.2 }, { step: 100, value: 2.9 }] },
 *   { name: 'val', points: [{ step: 0, value: 4.3 }, { step: 100, value: 3.1 }] },
 * ], { title: 'GPT-2 124M', yLabel: 'loss' });
 * writeFileSync('loss.svg', svg);
 * ```
 */
export function lossCurveSvg(series: Series[], opts: PlotOptions = {}): string {
  const width = opts.width ?? 640;
  const height = opts.height ?? 400;
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!(v >= 120) || !Number.isFinite(v)) throw new ValueError(`lossCurveSvg: ${name} is ${v}, expected a finite number ≥ 120`);
  }
  const logY = opts.logY ?? false;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const x0 = MARGIN.left;
  const y0 = MARGIN.top;

  // Runs of drawable points per series, and the data's extent.
  const runs: { x: number; y: number }[][][] = [];
  let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
  for (const s of series) {
    const own: { x: number; y: number }[][] = [];
    let run: { x: number; y: number }[] = [];
    for (const p of s.points) {
      const ok = Number.isFinite(p.step) && Number.isFinite(p.value) && (!logY || p.value > 0);
      if (!ok) {
        if (run.length > 0) own.push(run);
        run = [];
        continue;
      }
      run.push({ x: p.step, y: p.value });
      xMin = Math.min(xMin, p.step);
      xMax = Math.max(xMax, p.step);
      yMin = Math.min(yMin, p.value);
      yMax = Math.max(yMax, p.value);
    }
    if (run.length > 0) own.push(run);
    runs.push(own);
  }

  const out = svgOpen(width, height, 12, opts.title, 22);
  out.push(`<rect x="${x0}" y="${y0}" width="${num(plotW)}" height="${num(plotH)}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${num(x0 + plotW / 2)}" y="${num(height - 12)}" text-anchor="middle">${escapeXml(opts.xLabel ?? 'step')}</text>`);
  if (opts.yLabel !== undefined) {
    const cy = num(y0 + plotH / 2);
    out.push(`<text x="16" y="${cy}" text-anchor="middle" transform="rotate(-90 16 ${cy})">${escapeXml(opts.yLabel)}</text>`);
  }

  if (xMin > xMax) {
    out.push(`<text x="${num(x0 + plotW / 2)}" y="${num(y0 + plotH / 2)}" text-anchor="middle" fill="#888">no data</text>`);
    out.push('</svg>');
    return out.join('\n');
  }

  const xAxis = linearAxis(xMin, xMax, Math.max(2, Math.floor(plotW / 90)));
  const yAxis = logY ? logAxis(yMin, yMax) : linearAxis(yMin, yMax, Math.max(2, Math.floor(plotH / 60)));
  const px = (x: number) => x0 + ((x - xAxis.lo) / (xAxis.hi - xAxis.lo)) * plotW;
  const py = (y: number) => y0 + plotH - (position(yAxis, y) * plotH);

  // Grid lines and tick labels.
  out.push('<g class="x-ticks" text-anchor="middle">');
  xAxis.ticks.forEach((t, i) => {
    const x = num(px(t));
    out.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${num(y0 + plotH)}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${x}" y="${num(y0 + plotH + 16)}">${xAxis.labels[i]}</text>`);
  });
  out.push('</g>');
  out.push('<g class="y-ticks" text-anchor="end">');
  yAxis.ticks.forEach((t, i) => {
    const y = num(py(t));
    out.push(`<line x1="${x0}" y1="${y}" x2="${num(x0 + plotW)}" y2="${y}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${x0 - 6}" y="${y}" dy="4">${yAxis.labels[i]}</text>`);
  });
  out.push('</g>');

  // One group per series: a polyline per run of points, a dot for a run of one.
  series.forEach((s, k) => {
    const color = escapeXml(s.color ?? PALETTE[k % PALETTE.length]!);
    out.push(`<g class="series" data-name="${escapeXml(s.name)}" stroke="${color}" fill="none" stroke-width="1.5">`);
    for (const run of runs[k]!) {
      const pts = run.map((p) => `${num(px(p.x))},${num(py(p.y))}`);
      out.push(`<polyline points="${pts.join(' ')}"/>`);
      if (run.length === 1) {
        const [cx, cy] = pts[0]!.split(',');
        out.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${color}"/>`);
      }
    }
    out.push('</g>');
  });

  // Legend, top right inside the plot.
  if (series.length > 0) {
    const longest = Math.max(...series.map((s) => s.name.length));
    const boxW = 34 + 7 * longest;
    const boxH = 8 + 18 * series.length;
    const lx = x0 + plotW - boxW - 8;
    const ly = y0 + 8;
    out.push('<g class="legend">');
    out.push(`<rect x="${num(lx)}" y="${ly}" width="${boxW}" height="${boxH}" fill="white" fill-opacity="0.85" stroke="#ccc"/>`);
    series.forEach((s, k) => {
      const color = escapeXml(s.color ?? PALETTE[k % PALETTE.length]!);
      const y = ly + 13 + 18 * k;
      out.push(`<line x1="${num(lx + 6)}" y1="${y}" x2="${num(lx + 24)}" y2="${y}" stroke="${color}" stroke-width="2"/>`);
      out.push(`<text x="${num(lx + 30)}" y="${y}" dy="4">${escapeXml(s.name)}</text>`);
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return out.join('\n');
}

/**
 * Rows as RFC 4180 CSV: a header line, then one line per row, each ending in CRLF. A field
 * holding a comma, a double quote, CR or LF is quoted, with its quotes doubled; undefined is
 * an empty field. Columns default to every key in the rows, in first-seen order.
 * @example
 * ```ts
 * toCsv([{ step: 0, loss: 4.2 }, { step: 10, loss: 3.9, note: 'lr, warm' }]);
 * // 'step,loss,note\r\n0,4.2,\r\n10,3.9,"lr, warm"\r\n'
 * ```
 */
export function toCsv(rows: Record<string, number | string | undefined>[], columns?: string[]): string {
  let cols = columns;
  if (cols === undefined) {
    const seen = new Set<string>();
    for (const row of rows) for (const key of Object.keys(row)) seen.add(key);
    cols = [...seen];
  }
  if (cols.length === 0) return '';
  const lines = [cols.map(csvField).join(',')];
  for (const row of rows) lines.push(cols.map((c) => csvField(row[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}

function csvField(v: number | string | undefined): string {
  if (v == null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Text safe inside an XML element or a double-quoted attribute; XML-illegal controls become U+FFFD.
 * @example
 * ```ts
 * escapeXml('loss < 3 & "val"'); // 'loss &lt; 3 &amp; &quot;val&quot;'
 * ```
 */
export function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * Ticks at multiples of a 1-2-5 step, about `target` of them, on a domain widened to the
 * nearest ticks around [min, max]. A zero-width range is widened first (±10%, or ±1 around 0).
 * @example
 * ```ts
 * niceTicks(0.13, 0.87, 4).labels; // ['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']
 * ```
 */
export function niceTicks(min: number, max: number, target: number): { lo: number; hi: number; ticks: number[]; labels: string[] } {
  if (max - min <= 1e-12 * Math.max(Math.abs(min), Math.abs(max))) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / target;
  let e = Math.floor(Math.log10(raw));
  const f = raw / Math.pow(10, e);
  let m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  if (m === 10) {
    m = 1;
    e += 1;
  }
  const step = m * Math.pow(10, e);
  // The 1e-9 keeps a bound that is a tick up to rounding (0.3 / 0.1 = 2.9999…) from adding one more.
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  const labels: string[] = [];
  for (let i = first; i <= last; i++) {
    // i·m / 10^−e rounds once, so ticks are the doubles nearest 0.6, 0.7, … (not 0.6000000000000001).
    const t = e < 0 ? (i * m) / Math.pow(10, -e) : i * m * Math.pow(10, e);
    ticks.push(t);
    labels.push(formatTick(t, e));
  }
  return { lo: ticks[0]!, hi: ticks[ticks.length - 1]!, ticks, labels };
}

function linearAxis(min: number, max: number, target: number): Axis {
  return { ...niceTicks(min, max, target), log: false };
}

/**
 * Log-scale ticks for min > 0: 1, 2, 5 × 10^k when the data spans at most two decades,
 * else powers of ten (every few decades for a wide span). The domain ends on ticks.
 */
function logAxis(min: number, max: number): Axis {
  if (max <= min * (1 + 1e-9)) {
    min /= 2;
    max *= 2;
  }
  const loDec = Math.floor(Math.log10(min) + 1e-9);
  const hiDec = Math.ceil(Math.log10(max) - 1e-9);
  const candidates: { v: number; e: number }[] = [];
  if (hiDec - loDec <= 2) {
    for (let k = loDec; k <= hiDec; k++) for (const m of [1, 2, 5]) candidates.push({ v: m * Math.pow(10, k), e: k });
  } else {
    const stride = Math.ceil((hiDec - loDec) / 8);
    for (let k = loDec; k < hiDec + stride; k += stride) candidates.push({ v: Math.pow(10, k), e: k });
  }
  // Keep the last candidate ≤ min, the first ≥ max, and everything between.
  let i0 = 0;
  while (i0 + 1 < candidates.length && candidates[i0 + 1]!.v <= min * (1 + 1e-12)) i0++;
  let i1 = candidates.length - 1;
  while (i1 - 1 >= 0 && candidates[i1 - 1]!.v >= max * (1 - 1e-12)) i1--;
  const kept = candidates.slice(i0, i1 + 1);
  return {
    lo: kept[0]!.v,
    hi: kept[kept.length - 1]!.v,
    ticks: kept.map((c) => c.v),
    labels: kept.map((c) => formatTick(c.v, c.e)),
    log: true,
  };
}

/** Where y falls on the axis, 0 at lo and 1 at hi. */
function position(axis: Axis, y: number): number {
  if (axis.log) return Math.log(y / axis.lo) / Math.log(axis.hi / axis.lo);
  return (y - axis.lo) / (axis.hi - axis.lo);
}

/** A tick that is an integer multiple of 10^e, printed without rounding noise. */
function formatTick(v: number, e: number): string {
  if (e >= -6 && Math.abs(v) < 1e9) return v.toFixed(Math.max(0, -e));
  if (v === 0) return '0';
  const mag = Math.floor(Math.log10(Math.abs(v)));
  const [mantissa, exponent] = v.toExponential(Math.min(20, Math.max(0, mag - e))).split('e');
  return `${mantissa!.replace(/\.?0+$/, '')}e${exponent}`; // 1.0e+11 → 1e+11
}

/** A pixel coordinate with at most two decimals. */
function num(x: number): string {
  return String(Math.round(x * 100) / 100);
}
