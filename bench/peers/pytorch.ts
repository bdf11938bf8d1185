// PyTorch as a peer of the training step: bench/peers/pytorch-step.py run in a child Python
// process (its thread count is fixed per process). Optional: the benches time it when a Python
// with torch is found ($PYTHON, else python3 on PATH, else /usr/bin/python3 — Debian's
// python3-torch installs there) and fall back to the figures quoted in issue 11 when not.
// BLAS: Debian's torch calls whatever libblas.so.3 update-alternatives selects — netlib's
// reference BLAS unless an OpenBLAS is installed (10× slower). With OpenBLAS, the OpenMP build
// (`libopenblas0-openmp`) shares torch's OpenMP threads; the pthread build adds its own spinning
// threads, and at 2 torch threads both kinds spin on 2 cores (measured here, tokens/s, 4 runs
// each: 2 threads openmp 9.1–15.3k, pthread 8.6–11.8k with OMP_WAIT_POLICY=PASSIVE, 5.1–6.2k
// without; 1 thread alike, 8.2–11k). So the child runs with the OpenMP build's folder first on
// LD_LIBRARY_PATH when it exists ($TORCH_BLAS_DIR overrides), and reports the library it mapped.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The baby-GPT sizes and the steps to time, as pytorch-step.py reads them. */
export interface TorchStepRequest {
  threads: number; warmup: number; steps: number;
  batch: number; block: number; vocab: number; layers: number; heads: number; d: number; ff: number;
}
export interface TorchStepResult { torch: string; threads: number; msPerStep: number[]; blas: string }

const SCRIPT = fileURLToPath(new URL('./pytorch-step.py', import.meta.url));

let found: string | null | undefined;
/** A Python that imports torch, or null (looked up once). */
export function torchPython(): string | null {
  if (found !== undefined) return found;
  found = null;
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3']) {
    if (!py) continue;
    try {
      execFileSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
      found = py;
      break;
    } catch { /* next */ }
  }
  return found;
}

const OPENMP_BLAS = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

/** The child's environment: OpenMP threads as asked, the OpenMP OpenBLAS first where it exists. */
function torchEnv(threads: number): NodeJS.ProcessEnv {
  const blas = process.env.TORCH_BLAS_DIR ?? (existsSync(OPENMP_BLAS) ? OPENMP_BLAS : undefined);
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: String(threads) };
  if (blas) env.LD_LIBRARY_PATH = [blas, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return env;
}

/** Times the step in a fresh Python process; throws with its stderr when it fails. */
export function torchStep(python: string, req: TorchStepRequest): Promise<TorchStepResult> {
  return new Promise((resolve, reject) => {
    execFile(python, [SCRIPT, JSON.stringify(req)], { timeout: 600_000, maxBuffer: 16 << 20, env: torchEnv(req.threads) }, (error, stdout, stderr) => {
      const line = stdout.trim().split('\n').at(-1);
      if (error || !line?.startsWith('{')) {
        reject(new Error(`${SCRIPT} failed (${error?.message ?? 'no result line'}):\n${stderr.slice(-4000)}`));
        return;
      }
      resolve(JSON.parse(line) as TorchStepResult);
    });
  });
}
