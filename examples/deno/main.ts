// Train a small character-level GPT in Deno and stream a sample, the Deno way: Deno.args,
// Deno.readTextFile, and the checkpoint written through `train`'s byte callback.
//
//   deno run --allow-read --allow-write --config examples/deno/deno.json examples/deno/main.ts [text file] [steps] [out.safetensors]
//
// In your own project, map "wasmformer" to "npm:wasmformer" in deno.json's "imports" (here it
// maps to this repository's build, dist/). --allow-read lets the library read its .wasm files.
// (`deno check` against the installed package's types is tested in test/package/deno.test.ts.)
import { AdamW, CharTokenizer, createRuntime, generateTokens, GPT, linearWarmup, train } from 'wasmformer';

// Public domain: the opening of "Ozymandias" (Percy Bysshe Shelley, 1818).
const VERSE = `I met a traveller from an antique land,
Who said: Two vast and trunkless legs of stone
Stand in the desert. Near them, on the sand,
Half sunk, a shattered visage lies, whose frown,
`;

const [file, stepsArg, out] = Deno.args;
const text = file ? await Deno.readTextFile(file) : VERSE.repeat(20);
const steps = Number(stepsArg ?? 200);

const rt = await createRuntime();
const tok = CharTokenizer.fromText(text);
const model = new GPT(rt, { vocabSize: tok.vocabSize, blockSize: 64, nLayer: 2, nHead: 4, dModel: 64, dropout: 0 }, { seed: 1 });
console.log(`Deno ${Deno.version.deno}: backend ${rt.backend}, ${rt.threads} thread${rt.threads > 1 ? 's' : ''}, ${model.numParams().toLocaleString()} parameters`);

const result = await train({
  model,
  optimizer: new AdamW(model.params, { betas: [0.9, 0.99], weightDecay: 0.1 }),
  data: { train: tok.encode(text), batchSize: 16 },
  steps,
  lr: linearWarmup({ lr: 3e-3, warmupSteps: Math.min(30, steps >> 2) }),
  clip: 1,
  checkpoint: out ? { every: steps, tokenizer: tok, write: (bytes) => Deno.writeFile(out, bytes) } : undefined,
});
console.log(`loss ${result.losses[0]!.loss.toFixed(3)} → ${result.losses.at(-1)!.loss.toFixed(3)} in ${(result.wallMs / 1000).toFixed(1)} s`);

const prompt = 'I met';
const encoder = new TextEncoder();
await Deno.stdout.write(encoder.encode(`--- sample ---\n${prompt}`));
for (const id of generateTokens(model, tok.encode(prompt), { maxNewTokens: 120, temperature: 0.5, topK: 10, seed: 3 })) {
  await Deno.stdout.write(encoder.encode(tok.decode([id])));
}
console.log();
