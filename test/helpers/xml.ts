// A strict little well-formedness check for the SVG strings the renderers build.
import { expect } from 'vitest';

/** Throws unless `xml` is one well-formed element: balanced tags, quoted attributes, valid entities. */
export function expectWellFormed(xml: string): void {
  expect(xml.startsWith('<svg ')).toBe(true);
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let at = 0;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    const text = xml.slice(at, m.index);
    expect(text, `text before offset ${m.index}`).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot|apos);)/);
    expect(m[3]!, `attributes of <${m[2]}>`).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
    const [, close, name, , selfClose] = m;
    if (close) expect(stack.pop(), `closing </${name}> at offset ${m.index}`).toBe(name);
    else if (!selfClose) stack.push(name!);
    if (stack.length === 0) expect(xml.slice(m.index + m[0].length).trim(), 'content after the root').toBe('');
    at = m.index + m[0].length;
  }
  expect(stack, 'unclosed tags').toEqual([]);
  expect(at, 'everything was parsed as tags and text').toBe(xml.length);
}
