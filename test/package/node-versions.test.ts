// The packed tarball's Node consumer on Node 22, 24 and 26 (node.test.ts covers Node 20, the
// Node that runs vitest): one consumer project, each Node first on the child's PATH, so
// `node`, `npx` and the command's `#!/usr/bin/env node` all run that version. Without any
// flag each must load every variant from node_modules/wasmformer/build, pick the relaxed
// threaded build by itself and compute the reference results; require(esm) and the
// wasmformer command must work there too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_MAJORS, nodeBinDir } from '../../tools/node-versions.js';
import { REPO, autoBuild, childEnv, createConsumer, describeRun, fixtureFiles, isInside, lastJson, pack, referenceSmoke, smokeProblems, type Consumer, type Packed, type SmokeResult } from './pack.js';

let packed: Packed;
let consumer: Consumer;
let want: SmokeResult;

beforeAll(async () => {
  packed = await pack();
  consumer = await createConsumer(packed, 'node-versions', fixtureFiles('node'));
  want = await referenceSmoke();
}, 180_000);

afterAll(() => {
  consumer?.cleanup();
  packed?.cleanup();
});

describe.each(NODE_MAJORS)('Node %i consumer of the packed tarball', (major) => {
  const env = () => childEnv({ PATH: `${nodeBinDir(major)}:${process.env.PATH}` });

  it('runs that Node, and createRuntime() loads each variant from node_modules/wasmformer/build, no flag needed for relaxed', async () => {
    const version = await consumer.run('node', ['--version'], { env: env() });
    expect(version.stdout.trim()).toMatch(new RegExp(`^v${major}\\.`));
    const r = await consumer.run('node', ['smoke-node.mjs', 'auto', 'simd', 'relaxed', 'threads'], { env: env(), timeoutMs: 90_000 });
    expect(r.code, describeRun(`node ${major} smoke-node.mjs`, r)).toBe(0);
    const out = lastJson<{ resolved: Record<string, { path?: string; exists?: boolean }>; runs: Record<string, SmokeResult & { error?: string }> }>(r);
    for (const [specifier, where] of Object.entries(out.resolved)) expect(isInside(where.path!, consumer.pkgDir) && where.exists, specifier).toBe(true);
    expect(smokeProblems(out.runs.auto, want, autoBuild('relaxed')), out.runs.auto?.error).toEqual([]);
    expect(out.runs.auto!.notes.filter((n) => n.startsWith('relaxed'))).toEqual([]); // no "not validated" note
    for (const v of ['simd', 'relaxed', 'threads']) expect(smokeProblems(out.runs[v], want, v), out.runs[v]?.error).toEqual([]);
  }, 120_000);

  it("require('wasmformer') from CommonJS and the wasmformer command through npx", async () => {
    const req = await consumer.run('node', ['require.cjs'], { env: env(), timeoutMs: 30_000 });
    expect(lastJson(req), describeRun('node require.cjs', req)).toEqual({ loaded: 'function' });
    const tiny = `${REPO}/test/fixtures/pretrained/tiny-gpt2`;
    const gen = await consumer.run('npx', ['--no-install', 'wasmformer', 'generate', tiny, 'the fox', '--max-new-tokens', '8', '--temperature=0'], { env: env(), timeoutMs: 60_000 });
    expect(gen.code, describeRun(`node ${major}: npx wasmformer generate`, gen)).toBe(0);
    expect(gen.stdout.length).toBeGreaterThan(1); // the continuation (the tiny model's tokens are arbitrary)
  }, 90_000);
});
