// Deno: `deno run --allow-read bench/startup/entry-deno.mjs kernel|token` (dist/ by path:
// Deno does not resolve a package's own name). Same output as entry-node.mjs.
import { measure } from './workload.mjs';

const t0 = performance.now();
const out = await measure(t0, () => import('../../dist/index.js'), Deno.args[0] ?? 'kernel');
console.log(JSON.stringify({ ...out, boot: t0 }));
