// Builds the four wasm variants (simd, relaxed, and both on a shared memory: threads, relaxed-threads) from the one AssemblyScript
// source in assembly/, with the options in asconfig.json. asconfig's per-target
// `entries` is ignored by asc, so the entry file is passed here.
import asc from 'assemblyscript/asc';

const variants = process.argv.slice(2).length ? process.argv.slice(2) : ['simd', 'relaxed', 'threads', 'relaxed-threads'];
for (const target of variants) {
  const { error, stderr } = await asc.main(
    ['assembly/index.ts', '--config', 'asconfig.json', '--target', target],
    { stdout: process.stdout, stderr: process.stderr },
  );
  if (error) {
    console.error(`asc failed for target ${target}: ${error.message}`);
    console.error(stderr.toString());
    process.exitCode = 1;
    break;
  }
}
