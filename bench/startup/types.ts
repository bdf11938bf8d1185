// The start-up bench's shared shapes: bench/startup.ts and its browser targets (bench/startup/browsers.ts).

/** What the entry scripts run to their first result: one kernel call, or one generated token. */
export const MODES = ['kernel', 'token'] as const;
export type Mode = (typeof MODES)[number];

export interface Bundles {
  dir: string;
  /** dist/ as one minified ESM file (all exports), at <dir>/www/lib/wasmformer.js, the .wasm files at <dir>/build/. */
  lib: string;
  /** The workerd directory: worker.js (startWorkerd writes the config; the .wasm come from build/). */
  workerd: string;
}

/** What an entry script reports: cumulative ms since the top of the entry script. */
export interface EntryResult {
  mode: Mode;
  backend: string;
  result: number;
  ms: { import: number; createRuntime: number; model?: number; firstResult: number };
  /** performance.now() at the top of the entry script: runtime (or navigation) start → entry. */
  boot: number;
  /** Chromium: resource timing of the fetched files, ms since the top of the entry script. */
  fetches?: Record<string, { start: number; end: number }>;
  error?: string;
}

export interface Sample {
  target: string;
  mode: Mode;
  rep: number;
  backend: string;
  /** In-process import → first result (ms), the headline; for workerd: request → response. */
  headline: number;
  phases: Record<string, number>;
  /** Runtime start (process or navigation) → top of the entry script. */
  boot?: number;
  /** Measured from outside: process spawn → exit; Chromium page.goto → result seen; workerd spawn → response. */
  outside: number;
  /** workerd only: spawn → listening. */
  ready?: number;
  /** Chromium only: resource timing, ms since the top of the entry script (bundle fetched; .wasm fetch start and end). */
  extra?: Record<string, number>;
  load1: number;
}

export interface Target {
  name: string;
  /** Shown in the table under the name. */
  note: string;
  headlineNote?: string;
  run(mode: Mode): Promise<Omit<Sample, 'target' | 'mode' | 'rep' | 'load1'>>;
  close?(): Promise<void>;
}
