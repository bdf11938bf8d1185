// Bundles the runtime suite (and a runner entry) into one ES module with esbuild, for
// runtimes that load plain JavaScript: Deno, Bun, Chromium, workerd. Each call writes into
// its own fresh directory, so test files running in parallel never share output.
import { mkdtempSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const here = new URL('.', import.meta.url).pathname;

/** Bundles `entry` (a path relative to test/runtimes/) into `<fresh dir>/<name>.mjs`; returns the file. */
export async function bundleEntry(entry: string, name: string): Promise<string> {
  const root = join(here, '../../test-output/runtimes');
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, `${name}-`));
  const outfile = join(dir, `${name}.mjs`);
  await build({
    entryPoints: [join(here, entry)],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    outfile,
    external: ['*.wasm'],
    logLevel: 'error',
  });
  return outfile;
}
