// What every start-up entry runs, in every runtime: from just before the library is imported
// to (a) the first kernel result read back, or (b) the first token of a tiny GPT.
// Plain JS with no imports, so Node, Deno, Bun, a page and a workerd worker run the same code;
// the entry passes the import as a closure, so each keeps a literal specifier (bundlers need one).

/** The small GPT of measure (b): random weights from seed 1. */
export const TINY_GPT = { vocabSize: 65, blockSize: 64, nLayer: 2, nHead: 4, dModel: 64 };
/** The matmul of measure (a): 32×32 · 32×32. */
export const KERNEL_N = 32;

const now = () => performance.now();

/**
 * Runs one measure. `t0` is performance.now() at the top of the entry script, `load` imports
 * the library, `mode` is 'kernel' or 'token', `options` goes to createRuntime. Returns the
 * milliseconds since t0 at which each phase ended (cumulative), and what was computed.
 */
export async function measure(t0, load, mode, options = {}) {
  const ms = {};
  const mark = (name) => { ms[name] = now() - t0; };
  const wf = await load();
  mark('import');
  const rt = await wf.createRuntime(options);
  mark('createRuntime');
  let result;
  if (mode === 'kernel') {
    const n = KERNEL_N;
    const av = new Float32Array(n * n);
    const bv = new Float32Array(n * n);
    for (let i = 0; i < n * n; i++) { av[i] = (i % 7) - 3; bv[i] = (i % 5) - 2; }
    const a = rt.tensor(av, [n, n]);
    const b = rt.tensor(bv, [n, n]);
    const c = wf.matmul(rt, a, b);
    result = c.toArray()[0];
    mark('firstResult');
  } else if (mode === 'token') {
    const model = new wf.GPT(rt, TINY_GPT, { seed: 1 });
    mark('model');
    const ids = wf.generate(model, [1], { maxNewTokens: 1, temperature: 0 });
    result = ids[1];
    mark('firstResult');
  } else {
    throw new Error(`unknown mode '${mode}': expected kernel or token`);
  }
  return { mode, backend: rt.backend, result, ms };
}
