// attentionMaps, attentionSvg and attentionTerminal: stacking checks the shapes, the SVG is
// well-formed with one rect per cell and escaped text, colours rise in luminance with the
// value, and the terminal view shades, colours, averages heads and bins wide key ranges.
import { describe, expect, it } from 'vitest';
import { attentionMaps, clsAttentionGrid, attentionSvg, attentionTerminal, colormapRgb } from '../../src/viz/attention.js';
import type { AttentionMaps } from '../../src/viz/attention.js';
import { ShapeError, ValueError } from '../../src/errors.js';
import { expectWellFormed } from '../helpers/xml.js';

/** The panels (cell groups) in drawing order: their layer, head and cell fills. */
function panels(svg: string): { layer: number; head: number; fills: string[] }[] {
  return [...svg.matchAll(/<g class="cells" data-layer="(\d+)" data-head="(\d+)"[^>]*>([\s\S]*?)<\/g>/g)].map((m) => ({
    layer: Number(m[1]),
    head: Number(m[2]),
    fills: [...m[3]!.matchAll(/<rect [^>]*fill="(#[0-9a-f]{6})"/g)].map((f) => f[1]!),
  }));
}

/** WCAG relative luminance of '#rrggbb' or [r, g, b]. */
function luminance(c: string | number[]): number {
  const rgb = typeof c === 'string' ? [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)) : c;
  const lin = rgb.map((v) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * lin[0]! + 0.7152 * lin[1]! + 0.0722 * lin[2]!;
}

/** Maps whose value at (l, h, i, k) is f(l, h, i, k). */
function mapsOf(layers: number, heads: number, tq: number, tk: number, f: (l: number, h: number, i: number, k: number) => number): AttentionMaps {
  const data = new Float32Array(layers * heads * tq * tk);
  for (let l = 0; l < layers; l++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < tq; i++)
        for (let k = 0; k < tk; k++) data[((l * heads + h) * tq + i) * tk + k] = f(l, h, i, k);
  return { layers, heads, tq, tk, data };
}

/** Causal softmax-like rows: query i attends to keys 0..i, more to recent ones. */
const causal = (l: number, h: number, i: number, k: number) => (k > i ? 0 : (k + 1 + l + h) / ((i + 1) * (i + 2 + 2 * (l + h)) / 2));

const ESC = '\x1b';

describe('attentionMaps', () => {
  const kept = (name: string, data: Float32Array, batch: number, heads: number, tq: number, tk: number) => ({ name, data, batch, heads, tq, tk });

  it('stacks one sequence of each selected (B, NH, Tq, Tk) attention, named as kept', () => {
    const [B, NH, T] = [2, 3, 4];
    const layers = [0, 1].map((l) => Float32Array.from({ length: B * NH * T * T }, (_, i) => l * 1000 + i));
    const list = [kept('a', layers[0]!, B, NH, T, T), kept('b', layers[1]!, B, NH, T, T)];
    const maps = attentionMaps(list, { batchIndex: 1 });
    expect([maps.layers, maps.heads, maps.tq, maps.tk]).toEqual([2, 3, 4, 4]);
    const per = NH * T * T;
    expect(Array.from(maps.data.subarray(0, per))).toEqual(Array.from(layers[0]!.subarray(per, 2 * per)));
    expect(Array.from(maps.data.subarray(per))).toEqual(Array.from(layers[1]!.subarray(per, 2 * per)));
    expect(maps.layerNames).toEqual(['a', 'b']);
    // a model is a source too, and select picks by name
    const model = { keptAttention: () => [...list, kept('x cross', new Float32Array(B * NH * T * 2), B, NH, T, 2)] };
    expect(attentionMaps(model, { select: 'cross' })).toMatchObject({ layers: 1, tq: 4, tk: 2, layerNames: ['x cross'] });
    expect(attentionMaps(model, { select: /^b$/ }).layerNames).toEqual(['b']);
    expect(attentionMaps(model, { select: (n) => n < 'b', labels: ['p', 'q', 'r', 's'] })).toMatchObject({ layerNames: ['a'], queryLabels: ['p', 'q', 'r', 's'] });
    expect(() => attentionMaps(model)).toThrow('x cross is (B 2, heads 3, Tq 4, Tk 2) but a is (B 2, heads 3, Tq 4, Tk 4); select attentions of one size');
    expect(() => attentionMaps(model, { select: 'nothing' })).toThrow('no attention matches nothing (kept: a, b, x cross)');
  });

  it('throws ShapeError naming the numbers for a wrong length or label count', () => {
    const ok = kept('h.0', new Float32Array(96), 1, 2, 4, 12);
    const bad = () => attentionMaps([ok, ok, kept('h.2', new Float32Array(95), 1, 2, 4, 12)]);
    expect(bad).toThrow(ShapeError);
    expect(bad).toThrow('h.2 has 95 values, expected B·NH·Tq·Tk = 1·2·4·12 = 96');
    expect(() => attentionMaps([ok], { queryLabels: ['a', 'b', 'c'] })).toThrow('3 query labels, expected Tq = 4');
    expect(() => attentionMaps([ok], { keyLabels: ['a'] })).toThrow(ShapeError);
    expect(() => attentionMaps([{ ...ok, heads: 0 }])).toThrow('heads is 0, expected a positive integer');
    expect(() => attentionMaps([])).toThrow('no attention kept');
    expect(() => attentionMaps([ok], { batchIndex: 1 })).toThrow(ValueError);
    expect(() => attentionMaps([ok], { batchIndex: 1 })).toThrow('batchIndex is 1, expected an integer in 0..0');
  });

  it('clsAttentionGrid lays row 0 ([CLS]) out as the patch grid', () => {
    const T = 5;   // CLS + 2×2 patches
    const data = Float32Array.from({ length: 2 * T * T }, (_, i) => i);
    const grid = clsAttentionGrid({ layers: 1, heads: 2, tq: T, tk: T, data, layerNames: ['L'] });
    expect([grid.tq, grid.tk, grid.layers, grid.heads]).toEqual([2, 2, 1, 2]);
    expect(Array.from(grid.data)).toEqual([1, 2, 3, 4, 26, 27, 28, 29]);
    expect(() => clsAttentionGrid({ layers: 1, heads: 1, tq: 4, tk: 4, data: new Float32Array(16) })).toThrow(/expected square with 1 \+ G² positions/);
  });
});


describe('colormapRgb', () => {
  it('is monotone in luminance from 0 to 1: rising for viridis, falling for greys', () => {
    for (const [name, sign] of [['viridis', 1], ['greys', -1]] as const) {
      const lum = Array.from({ length: 101 }, (_, i) => luminance(colormapRgb(i / 100, name)));
      for (let i = 1; i < lum.length; i++) expect(sign * (lum[i]! - lum[i - 1]!), `${name} at t = ${i / 100}`).toBeGreaterThan(0);
    }
    expect(colormapRgb(-1)).toEqual(colormapRgb(0));
    expect(colormapRgb(2)).toEqual(colormapRgb(1));
    expect(colormapRgb(0.5, 'greys')).toEqual([128, 128, 128]);
  });
});

describe('attentionSvg', () => {
  it('is well-formed with one rect per cell in each panel, and tooltips on small figures', () => {
    const maps = mapsOf(2, 3, 4, 5, causal);
    const svg = attentionSvg(maps, { title: 'tiny' });
    expectWellFormed(svg);
    expect(svg).toMatch(/^<svg [^>]*width="[\d.]+" height="[\d.]+" viewBox="0 0 [\d.]+ [\d.]+"/);
    const ps = panels(svg);
    expect(ps.map((p) => [p.layer, p.head])).toEqual([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]);
    expect(ps.reduce((n, p) => n + p.fills.length, 0)).toBe(2 * 3 * 4 * 5);
    expect(svg.match(/<title>/g)!.length).toBe(2 * 3 * 4 * 5);
    expect(svg).toContain('>L1 H2</text>');
  });

  it('leaves out tooltips above 4096 cells and stays well-formed', () => {
    const svg = attentionSvg(mapsOf(1, 2, 48, 48, causal));
    expectWellFormed(svg);
    expect(panels(svg).reduce((n, p) => n + p.fills.length, 0)).toBe(2 * 48 * 48);
    expect(svg).not.toContain('<title>');
  });

  it('colours cells by value: 1 differs from 0, and luminance rises along a ramp', () => {
    const ramp = mapsOf(1, 1, 1, 11, (_l, _h, _i, k) => k / 10);
    for (const [colormap, sign] of [['viridis', 1], ['greys', -1]] as const) {
      const fills = panels(attentionSvg(ramp, { colormap }))[0]!.fills;
      expect(fills).toHaveLength(11);
      expect(fills[0]).not.toBe(fills[10]);
      for (let k = 1; k < 11; k++) expect(sign * (luminance(fills[k]!) - luminance(fills[k - 1]!)), `${colormap} cell ${k}`).toBeGreaterThan(0);
    }
    expect(panels(attentionSvg(ramp))[0]!.fills[10]).toBe('#fde725');
  });

  it('normalises globally by default, per panel on request', () => {
    // Head 0 peaks at 1, head 1 at 0.5.
    const maps = mapsOf(1, 2, 1, 2, (_l, h, _i, k) => (k === 0 ? 1 / (h + 1) : 0));
    const global = panels(attentionSvg(maps));
    expect(global[0]!.fills[0]).toBe('#fde725');
    expect(global[1]!.fills[0]).toBe('#21918c'); // 0.5 of the global max: viridis at t = 0.5
    const panel = panels(attentionSvg(maps, { scale: 'panel' }));
    expect(panel[1]!.fills[0]).toBe('#fde725');
    expect(attentionSvg(maps)).toMatch(/>1\.0<\/text>/);
    expect(attentionSvg(maps, { scale: 'panel' })).toContain('>panel max</text>');
  });

  it('escapes labels, layer names and the title', () => {
    const maps: AttentionMaps = {
      ...mapsOf(1, 1, 2, 2, (_l, _h, i, k) => (k <= i ? 1 / (i + 1) : 0)),
      queryLabels: ['<&">', 'b'],
      keyLabels: ["it's", '<&">'],
      layerNames: ['dec <0> & "x"'],
    };
    const svg = attentionSvg(maps, { title: 'a < b & "c"', cell: 16 });
    expectWellFormed(svg);
    expect(svg).not.toContain('<&">');
    expect(svg.match(/&lt;&amp;&quot;&gt;/g)!.length).toBeGreaterThanOrEqual(2 + 3); // two labels, three tooltips
    expect(svg).toContain('it&apos;s');
    expect(svg).toContain('>dec &lt;0&gt; &amp; &quot;x&quot; H0</text>');
    expect(svg).toContain('>a &lt; b &amp; &quot;c&quot;</text>');
  });

  it('draws labels only when asked or when cells are large enough', () => {
    const maps: AttentionMaps = { ...mapsOf(1, 1, 3, 3, causal), queryLabels: ['x', 'y', 'z'], keyLabels: ['x', 'y', 'z'] };
    expect(attentionSvg(maps, { cell: 12 })).toContain('class="query-labels"');
    expect(attentionSvg(maps, { cell: 12 })).toContain('class="key-labels"');
    expect(attentionSvg(maps, { cell: 4 })).not.toContain('class="query-labels"');
    expect(attentionSvg(maps, { cell: 12, showLabels: false })).not.toContain('class="key-labels"');
  });

  it('draws only the selected layers and heads, in the order given', () => {
    const maps = mapsOf(3, 4, 2, 2, causal);
    expect(panels(attentionSvg(maps))).toHaveLength(12);
    const ps = panels(attentionSvg(maps, { layers: [2, 0], heads: [1] }));
    expect(ps.map((p) => [p.layer, p.head])).toEqual([[2, 1], [0, 1]]);
    expect(ps.reduce((n, p) => n + p.fills.length, 0)).toBe(2 * 1 * 2 * 2);
    expect(() => attentionSvg(maps, { layers: [3] })).toThrow('layers[0] is 3, expected an integer in 0..2');
    expect(() => attentionSvg(maps, { heads: [] })).toThrow(ValueError);
    expect(() => attentionSvg(maps, { cell: 0 })).toThrow(ValueError);
  });

  it('throws ShapeError for inconsistent maps', () => {
    const maps = mapsOf(2, 2, 3, 3, causal);
    expect(() => attentionSvg({ ...maps, tk: 4 })).toThrow('data has 36 values, expected layers·heads·Tq·Tk = 2·2·3·4 = 48');
    expect(() => attentionSvg({ ...maps, tk: 4 })).toThrow(ShapeError);
    expect(() => attentionSvg({ ...maps, layerNames: ['only one'] })).toThrow('1 layer names, expected layers = 2');
  });
});

describe('attentionTerminal', () => {
  const cellsOf = (line: string, labelWidth: number) => line.slice(labelWidth + 1);

  it('shades 0..max in five levels without colour, with no trailing spaces', () => {
    const maps = mapsOf(1, 1, 2, 5, (_l, _h, i, k) => (i === 0 ? k / 4 : k === 0 ? 1 : 0));
    const lines = attentionTerminal(maps, { color: false }).split('\n');
    expect(lines).toHaveLength(1 + 2);
    expect(lines[0]).toMatch(/^layer 0 · head 0 · Tq 2 × Tk 5 · scale 0\.\.1 \(panel max\)/);
    expect(lines[1]).toBe('0  ░▒▓█');
    expect(lines[2]).toBe('1 █');
    for (const line of lines) expect(line).not.toMatch(/ $/);
  });

  it('pads and cuts query labels, and shows key initials', () => {
    const maps: AttentionMaps = {
      ...mapsOf(2, 1, 3, 3, (_l, _h, i, k) => (k === i ? 1 : 0)),
      queryLabels: ['a', 'averylongtoken', '\n'],
      keyLabels: ['a', 'bee', ' '],
    };
    const lines = attentionTerminal(maps, { color: false, labelWidth: 5 }).split('\n');
    expect(lines).toHaveLength(2 + 3);
    expect(lines[1]).toBe('      ab␣');
    expect(lines.slice(2)).toEqual(['    a █', 'aver…  █', '    ↵   █']);
    expect(attentionTerminal(maps, { color: false, showKeyLabels: false }).split('\n')).toHaveLength(1 + 3);
  });

  it('colours cells with ANSI 24-bit backgrounds from the colormap', () => {
    const maps = mapsOf(1, 1, 2, 2, (_l, _h, i, k) => (k === i ? 1 : 0));
    const out = attentionTerminal(maps);
    const lines = out.split('\n');
    expect(lines).toHaveLength(1 + 2);
    expect(lines[1]).toBe(`0 ${ESC}[48;2;253;231;37m ${ESC}[48;2;68;1;84m ${ESC}[0m`);
    expect(lines[2]).toBe(`1 ${ESC}[48;2;68;1;84m ${ESC}[48;2;253;231;37m ${ESC}[0m`);
    expect(attentionTerminal(maps, { colormap: 'greys' })).toContain(`${ESC}[48;2;0;0;0m`);
    expect(attentionTerminal(maps, { color: false })).not.toContain(ESC);
  });

  it('averages keys in bins when Tk exceeds maxWidth', () => {
    const maps = mapsOf(1, 1, 2, 10, (_l, _h, i, k) => (k === 9 * i ? 1 : 0));
    const lines = attentionTerminal(maps, { color: false, maxWidth: 4, scale: 'global' }).split('\n');
    expect(lines[0]).toContain('keys averaged in bins of 3 (10 → 4 columns)');
    expect(lines).toHaveLength(1 + 2);
    expect(cellsOf(lines[1]!, 1)).toBe('░'); // one 1 among three keys: 1/3 of the max
    expect(cellsOf(lines[2]!, 1)).toBe('   █'); // the last bin holds key 9 alone
    const colored = attentionTerminal(maps, { maxWidth: 4 }).split('\n');
    expect(colored[1]!.match(/48;2;/g)).toHaveLength(4);
    expect(attentionTerminal(maps, { color: false }).split('\n')[0]).not.toContain('bins');
  });

  it('shows the mean over heads with average: true', () => {
    // Head 0 row (1, 0, 0, 0), head 1 row (0.5, 0.5, 0, 0): mean (0.75, 0.25, 0, 0).
    const maps = mapsOf(2, 2, 1, 4, (_l, h, _i, k) => (h === 0 ? (k === 0 ? 1 : 0) : k < 2 ? 0.5 : 0));
    const lines = attentionTerminal(maps, { average: true, color: false, scale: 'global' }).split('\n');
    expect(lines[0]).toMatch(/^layer 1 · mean of 2 heads · /);
    expect(cellsOf(lines[1]!, 1)).toBe('▓░');
    expect(cellsOf(attentionTerminal(maps, { head: 1, color: false, scale: 'global' }).split('\n')[1]!, 1)).toBe('▒▒');
  });

  it('checks its options', () => {
    const maps = mapsOf(2, 2, 2, 2, causal);
    expect(() => attentionTerminal(maps, { layer: 2 })).toThrow('layer is 2, expected an integer in 0..1');
    expect(() => attentionTerminal(maps, { head: -1 })).toThrow(ValueError);
    expect(() => attentionTerminal(maps, { head: 1, average: true })).toThrow(ValueError);
    expect(() => attentionTerminal(maps, { maxWidth: 0 })).toThrow('maxWidth is 0, expected an integer ≥ 1');
    expect(() => attentionTerminal({ ...maps, tq: 3 })).toThrow(ShapeError);
  });
});
