// README's Example as a user runs it: the ```js block under "## Example" saved as example.mjs in a
// fresh project that installed the packed tarball, then `node example.mjs` — the command the
// README prints beside it. It must train, print the loss falling and the memorised line, and exit.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsumer, describeRun, pack, REPO, type Consumer, type Packed } from './pack.js';

let packed: Packed;
let consumer: Consumer;
const readme = readFileSync(`${REPO}/README.md`, 'utf8');
const section = readme.split('\n## Example\n')[1]?.split('\n## ')[0] ?? '';
const example = section.match(/```js\n([\s\S]*?)```/)?.[1];

beforeAll(async () => {
  packed = await pack();
  consumer = await createConsumer(packed, 'readme', { 'example.mjs': example ?? '' });
}, 180_000);

afterAll(() => {
  consumer?.cleanup();
  packed?.cleanup();
});

describe("README's Example", () => {
  it('is plain JavaScript that `node example.mjs` runs as printed, from the installed package', async () => {
    expect(example, 'README has a ```js block under ## Example').toBeTruthy();
    expect(section).toContain('`node example.mjs`');
    const r = await consumer.run('node', ['example.mjs'], { timeoutMs: 120_000 });
    expect(r.code, describeRun('node example.mjs', r)).toBe(0);
    expect(r.stdout).toMatch(/loss \d\.\d+ → 0\.\d+ in \d+\.\d s/);
    expect(r.stdout).toMatch(/To be, or not to be, that is the question\. To be/);
  }, 150_000);
});
