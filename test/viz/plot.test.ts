// lossCurveSvg and toCsv: the SVG is well-formed XML, draws one polyline vertex per finite
// point, has 1-2-5 tick labels spanning the data and escapes text; CSV follows RFC 4180.
import { describe, expect, it } from 'vitest';
import { escapeXml, lossCurveSvg, niceTicks, toCsv } from '../../src/viz/plot.js';
import type { Series } from '../../src/viz/plot.js';
import { ValueError } from '../../src/errors.js';
import { expectWellFormed } from '../helpers/xml.js';

/** The contents of the groups with class `cls`, one string per group. */
function groups(svg: string, cls: string): string[] {
  return [...svg.matchAll(new RegExp(`<g class="${cls}"[^>]*>([\\s\\S]*?)</g>`, 'g'))].map((m) => m[1]!);
}

function polylines(group: string): [number, number][][] {
  return [...group.matchAll(/<polyline points="([^"]*)"/g)].map((m) =>
    m[1]!.split(' ').map((p) => p.split(',').map(Number) as [number, number]));
}

function tickLabels(svg: string, axis: 'x' | 'y'): number[] {
  return [...groups(svg, `${axis}-ticks`)[0]!.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => Number(m[1]));
}

/** Throws unless the labels are evenly spaced by 1, 2 or 5 × 10^k. */
function expectNiceSteps(labels: number[]): void {
  expect(labels.length).toBeGreaterThanOrEqual(2);
  const step = labels[1]! - labels[0]!;
  const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
  expect([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6), `step ${step} in ${labels}`).toBe(true);
  for (let i = 1; i < labels.length; i++) expect(labels[i]! - labels[i - 1]!).toBeCloseTo(step, 9);
}

const curve = (n: number, f: (i: number) => number, every = 1) =>
  Array.from({ length: n }, (_, i) => ({ step: i * every, value: f(i) }));

describe('lossCurveSvg', () => {
  it('draws each series as polylines with one vertex per finite point, inside the plot', () => {
    const series: Series[] = [
      { name: 'train', points: curve(200, (i) => 4 * Math.exp(-i / 50) + 1.1, 10) },
      { name: 'val', points: curve(20, (i) => 4 * Math.exp(-i / 5) + 1.3, 100), color: '#000' },
    ];
    series[0]!.points[57]!.value = NaN;
    series[0]!.points[58]!.value = Infinity;
    series[0]!.points[120]!.step = NaN;
    const svg = lossCurveSvg(series, { title: 'GPT loss', yLabel: 'loss' });
    expectWellFormed(svg);
    const [train, val] = groups(svg, 'series');
    const trainLines = polylines(train!);
    expect(trainLines.map((l) => l.length)).toEqual([57, 61, 79]); // two gaps
    expect(polylines(val!).map((l) => l.length)).toEqual([20]);
    expect(val).not.toContain('<circle');
    const frame = svg.match(/<rect x="(\d+)" y="(\d+)" width="([\d.]+)" height="([\d.]+)" fill="none"/)!.slice(1).map(Number);
    for (const [x, y] of trainLines.flat()) {
      expect(x).toBeGreaterThanOrEqual(frame[0]!);
      expect(x).toBeLessThanOrEqual(frame[0]! + frame[2]!);
      expect(y).toBeGreaterThanOrEqual(frame[1]!);
      expect(y).toBeLessThanOrEqual(frame[1]! + frame[3]!);
    }
    // x grows with the step, y falls with the loss.
    expect(trainLines[0]![1]![0]).toBeGreaterThan(trainLines[0]![0]![0]);
    expect(trainLines[0]![1]![1]).toBeGreaterThan(trainLines[0]![0]![1]);
    expect(svg).toContain('stroke="#000"');
    expect(groups(svg, 'legend')[0]).toMatch(/>train<[\s\S]*>val</);
  });

  it('labels the axes with 1-2-5 ticks that span the data', () => {
    const cases: [number, number][] = [[1.13, 4.87], [0, 1], [-3.2, 7.9], [1e-7, 3.3e-7], [1234, 98765], [2.5, 2.5], [0, 0]];
    for (const [lo, hi] of cases) {
      const svg = lossCurveSvg([{ name: 's', points: [{ step: 3, value: lo }, { step: 5000, value: hi }] }]);
      expectWellFormed(svg);
      expect(svg).not.toMatch(/NaN|Infinity/);
      for (const [labels, min, max] of [[tickLabels(svg, 'y'), lo, hi], [tickLabels(svg, 'x'), 3, 5000]] as const) {
        expectNiceSteps(labels);
        expect(labels[0]!).toBeLessThanOrEqual(min);
        expect(labels[labels.length - 1]!).toBeGreaterThanOrEqual(max);
        expect(labels.length).toBeLessThanOrEqual(12);
      }
    }
    expect(niceTicks(0.13, 0.87, 4).labels).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    expect(niceTicks(0.3, 0.7, 4).ticks).toEqual([0.3, 0.4, 0.5, 0.6, 0.7]);
    expect(niceTicks(1e-9, 3e-9, 4).labels).toEqual(['1e-9', '1.5e-9', '2e-9', '2.5e-9', '3e-9']);
  });

  it('puts a log y axis on 1-2-5 × 10^k or decades, skipping values ≤ 0', () => {
    const svg = lossCurveSvg([{ name: 'loss', points: [{ step: 0, value: 8.1 }, { step: 1, value: 0 }, { step: 2, value: 0.31 }] }], { logY: true });
    expectWellFormed(svg);
    expect(tickLabels(svg, 'y')).toEqual([0.2, 0.5, 1, 2, 5, 10]);
    expect(polylines(groups(svg, 'series')[0]!).map((l) => l.length)).toEqual([1, 1]);
    const near = lossCurveSvg([{ name: 'loss', points: [{ step: 0, value: 1 }, { step: 1, value: 1 + 1e-13 }] }], { logY: true });
    expect(tickLabels(near, 'y')).toEqual([0.5, 1, 2]);
    expect(near).not.toMatch(/NaN|Infinity/);
    const wide = lossCurveSvg([{ name: 'loss', points: [{ step: 0, value: 3e4 }, { step: 1, value: 2e-5 }] }], { logY: true });
    expect(tickLabels(wide, 'y')).toEqual([1e-5, 1e-3, 0.1, 10, 1e3, 1e5]); // 10 decades: every second one
  });

  it('handles a single point, constant values and no data', () => {
    const one = lossCurveSvg([{ name: 'a', points: [{ step: 7, value: 2.5 }] }]);
    expectWellFormed(one);
    expect(polylines(groups(one, 'series')[0]!)).toHaveLength(1);
    expect(one).toContain('<circle');
    expect(one).not.toMatch(/NaN|Infinity/);
    const flat = lossCurveSvg([{ name: 'a', points: curve(10, () => 3) }]);
    expectWellFormed(flat);
    expect(new Set(polylines(groups(flat, 'series')[0]!)[0]!.map(([, y]) => y)).size).toBe(1);
    for (const series of [[], [{ name: 'a', points: [] }], [{ name: 'a', points: [{ step: 0, value: NaN }] }]]) {
      const empty = lossCurveSvg(series, { title: 'nothing yet' });
      expectWellFormed(empty);
      expect(empty).toContain('>no data<');
      expect(empty).not.toContain('<polyline');
    }
  });

  it('escapes every piece of caller text', () => {
    const svg = lossCurveSvg([{ name: '<script>"a" & \'b\'', points: curve(3, (i) => i), color: '"red"/><x' }],
      { title: 'a < b && c > d', xLabel: 'tokens "seen"', yLabel: 'loss \u0001' });
    expectWellFormed(svg);
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;&quot;a&quot; &amp; &apos;b&apos;');
    expect(svg).toContain('>a &lt; b &amp;&amp; c &gt; d<');
    expect(svg).toContain('>tokens &quot;seen&quot;<');
    expect(svg).toContain('loss \uFFFD');
    expect(escapeXml('loss < 3 & "val"')).toBe('loss &lt; 3 &amp; &quot;val&quot;');
  });

  it('rejects a size that cannot hold a plot', () => {
    expect(() => lossCurveSvg([], { width: 0 })).toThrow(/width is 0/);
    expect(() => lossCurveSvg([], { height: NaN })).toThrow(ValueError);
  });
});

describe('toCsv', () => {
  it('writes RFC 4180 records with quoting only where needed', () => {
    const csv = toCsv([
      { step: 0, loss: 4.25, note: 'warmup, lr 1e-4' },
      { step: 10, loss: 3.5, note: 'said "hi"' },
      { step: 20, note: 'two\nlines' },
      { step: 30, loss: NaN, extra: 'cr\r' },
    ]);
    expect(csv).toBe(
      'step,loss,note,extra\r\n' +
        '0,4.25,"warmup, lr 1e-4",\r\n' +
        '10,3.5,"said ""hi""",\r\n' +
        '20,,"two\nlines",\r\n' +
        '30,NaN,,"cr\r"\r\n',
    );
  });

  it('takes the columns in the order given, quoting names too', () => {
    expect(toCsv([{ a: 1, b: 2, c: 3 }], ['c', 'a', 'x,y'])).toBe('c,a,"x,y"\r\n3,1,\r\n');
    expect(toCsv([], ['step', 'loss'])).toBe('step,loss\r\n');
    expect(toCsv([])).toBe('');
  });
});
