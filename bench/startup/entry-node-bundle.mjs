// Node, for comparison only: the same measure against a one-file esbuild bundle of dist/
// (what an app that bundles its server code ships), whose path bench/startup.ts passes:
// `node bench/startup/entry-node-bundle.mjs kernel|token /tmp/…/lib/wasmformer.js`.
import { pathToFileURL } from 'node:url';
import { measure } from './workload.mjs';

const t0 = performance.now();
const lib = pathToFileURL(process.argv[3]).href;
const out = await measure(t0, () => import(lib), process.argv[2] ?? 'kernel');
console.log(JSON.stringify({ ...out, boot: t0 }));
