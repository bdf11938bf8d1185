// README's example must run as written: it is extracted, pointed at src/ instead of the
// package name, and executed.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

describe('README', () => {
  it('the example runs', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = readme.split('## Example')[1]?.match(/```ts\n([\s\S]*?)```/)?.[1];
    expect(example, 'README has a ```ts block under ## Example').toBeTruthy();
    const dir = new URL('./generated/', import.meta.url);
    mkdirSync(dir, { recursive: true });
    writeFileSync(new URL('readme-example.ts', dir), example!.replace(/from 'wasmformer'/g, "from '../../src/index.js'"));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const generated = new URL('readme-example.ts', dir).href; // not a literal: it does not exist before this test
    await import(/* @vite-ignore */ generated);
    const printed = log.mock.calls.map((c) => c.join(' ')).join('\n');
    log.mockRestore();
    expect(printed).toMatch(/loss \d\.\d+ → 0\.\d+/);
    expect(printed).toMatch(/To be, or not to be, that is the question\. To be/);
  });
});
