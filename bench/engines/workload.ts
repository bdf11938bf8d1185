// What bench/engines.ts measures inside every engine (Node, Deno, Bun, a page's Worker): the
// GEMM of a square f32 matmul on the best one-thread build, and the baby GPT's training step on
// one thread and, where the engine runs threads, on two. The harness sends the shapes (so the
// model is bench/gpt.bench.ts's BABY_GPT, defined once) and asks for rounds; each round returns
// raw milliseconds, so medians are taken over all rounds by the harness. No platform imports:
// the same file is bundled for a process and for a page.
import { AdamW, GPT, createRuntime, matmul, train, type GPTConfig, type Runtime, type WasmSource, type WasmVariant } from '../../src/index.js';

/** The shapes and budgets, chosen by the harness. */
export interface EngineSpec {
  /** GEMM: an n×n · n×n f32 matmul. */
  gemmN: number;
  /** Wall time of GEMM calls per round (ms). */
  gemmMs: number;
  model: Partial<GPTConfig>;
  /** Batch B and sequence length T of a training step. */
  batch: number;
  block: number;
  /** Timed training steps per round, per thread count. */
  steps: number;
  /** Untimed steps (and GEMM calls ×4) before the first round: wasm tier-up, arenas grown. */
  warmupSteps: number;
}

/** Which builds ran, as the runtimes report them. */
export interface EngineInfo {
  /** The one-thread runtime's backend: 'relaxed' or 'simd'. */
  build1: string;
  /** The two-thread runtime's backend, or null with `why2`. */
  build2: string | null;
  why2: string | null;
  notes: string[];
}

/** One round's raw times, ms: per GEMM call (a batch's time / its calls), per training step on 1 and 2 threads. */
export interface RoundTimes {
  gemm: number[];
  step1: number[];
  step2: number[];
}

/** A synthetic token stream (an LCG): a step's speed does not depend on the text. */
function tokenStream(n: number, vocab: number): Int32Array {
  const out = new Int32Array(n);
  let s = 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s >>> 8) % vocab;
  }
  return out;
}

/** One model and optimizer on one runtime; `steps(k)` returns each step's wall time as train() measures it. */
class Trainer {
  readonly model: GPT;
  readonly opt: AdamW;

  constructor(readonly rt: Runtime, readonly spec: EngineSpec, readonly tokens: Int32Array) {
    this.model = new GPT(rt, spec.model, { seed: 1337 });
    this.opt = new AdamW(this.model.params, { betas: [0.9, 0.99], weightDecay: 0.1 });
  }

  async steps(k: number): Promise<number[]> {
    const ms: number[] = [];
    await train({
      model: this.model, optimizer: this.opt, data: { train: this.tokens, batchSize: this.spec.batch, blockSize: this.spec.block },
      steps: k, lr: 1e-3, clip: 1, onStep: (info) => { ms.push(info.elapsedMs); },
    });
    this.rt.tape.clear();
    return ms;
  }
}

/** A pause, so background compilation and idle pool workers settle between phases. */
const pause = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/**
 * GEMM calls are timed in batches of about this many ms: a 256³ call takes under 1 ms, and
 * Firefox and WebKit round performance.now() (to 1 ms on a page that is not cross-origin isolated).
 */
const GEMM_BATCH_MS = 20;

export class EngineWorkload {
  /** GEMM calls per timed batch, set by warmUp. */
  private gemmBatch = 1;

  private constructor(
    readonly info: EngineInfo,
    private readonly spec: EngineSpec,
    private readonly one: Trainer,
    private readonly two: Trainer | null,
  ) {}

  /**
   * Creates the runtimes: auto on one thread (relaxed where the engine validates it, else simd),
   * and two threads where a shared memory and blocking workers exist (else `why2` says why).
   */
  static async create(spec: EngineSpec, wasm: Record<WasmVariant, WasmSource>): Promise<EngineWorkload> {
    const tokens = tokenStream(100_000, spec.model.vocabSize ?? 65);
    const rt1 = await createRuntime({ wasm: { simd: wasm.simd, relaxed: wasm.relaxed }, threads: 1 });
    let rt2: Runtime | null = null;
    let why2: string | null = null;
    try {
      rt2 = await createRuntime({ wasm, threads: 2, onThreadsUnavailable: 'error' });
      if (rt2.threads !== 2) throw new Error(`asked for 2 threads, got ${rt2.threads}`);
    } catch (err) {
      rt2?.dispose();
      rt2 = null;
      why2 = (err as Error).message.split('\n')[0]!;
    }
    const info: EngineInfo = { build1: rt1.backend, build2: rt2 ? rt2.backend : null, why2, notes: [...rt1.notes] };
    return new EngineWorkload(info, spec, new Trainer(rt1, spec, tokens), rt2 ? new Trainer(rt2, spec, tokens) : null);
  }

  /** n×n operands on the one-thread runtime, and a call of the matmul. */
  private gemmCall(): () => void {
    const { rt } = this.one;
    const n = this.spec.gemmN;
    rt.step.reset();
    const a = rt.randn([n, n], { arena: 'step', seed: 1 });
    const b = rt.randn([n, n], { arena: 'step', seed: 2 });
    const out = rt.empty([n, n], { arena: 'step' });
    return () => { matmul(rt, a, b, { out }); };
  }

  /** Untimed: GEMM calls and steps on every runtime, so the first round times optimised code. */
  async warmUp(): Promise<void> {
    const call = this.gemmCall();
    const start = performance.now();
    let calls = 0;
    for (; performance.now() - start < 4 * this.spec.gemmMs; calls++) call();
    this.gemmBatch = Math.max(1, Math.round(GEMM_BATCH_MS / ((performance.now() - start) / calls)));
    this.one.rt.step.reset();
    await this.one.steps(this.spec.warmupSteps);
    if (this.two) await this.two.steps(this.spec.warmupSteps);
    await pause(200);
  }

  async round(): Promise<RoundTimes> {
    const gemm: number[] = [];
    const call = this.gemmCall();
    const end = performance.now() + this.spec.gemmMs;
    while (gemm.length < 5 || performance.now() < end) {
      const t0 = performance.now();
      for (let i = 0; i < this.gemmBatch; i++) call();
      gemm.push((performance.now() - t0) / this.gemmBatch);
    }
    this.one.rt.step.reset();
    await pause(50);
    const step1 = await this.one.steps(this.spec.steps);
    await pause(50); // the pool's idle workers spin briefly before they sleep
    const step2 = this.two ? await this.two.steps(this.spec.steps) : [];
    return { gemm, step1, step2 };
  }

  dispose(): void {
    this.one.rt.dispose();
    this.two?.rt.dispose();
  }
}
