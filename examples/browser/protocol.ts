// The messages between the page (main.ts) and the training worker (worker.ts). Both sides
// import only types and constants from here, so the page bundle carries no training code and
// the worker no DOM code. Every message is a plain object that survives structured cloning.
import type { AttentionMaps } from '../../src/index.js';

/** The model's shape and how it is trained. Changing any of these starts a new model. */
export interface TrainSettings {
  /** Transformer blocks. */
  nLayer: number;
  /** Attention heads per block (dModel must be divisible by it). */
  nHead: number;
  /** Width of the residual stream. */
  dModel: number;
  /** Context length T: characters per training window. */
  blockSize: number;
  /** Windows per step (B); a step sees B·T characters. */
  batchSize: number;
  /** Peak learning rate of AdamW (cosine decay to lr/10 over `steps`). */
  lr: number;
  /** Steps per press of "Train"; pressing it again after they are done trains as many more. */
  steps: number;
  /** Seeds the weights, the batch order and so every loss of a run. */
  seed: number;
}

/** A small model (about 230k parameters) that learns the default few KB of text well in 500 steps: under a minute on one core. */
export const DEFAULT_SETTINGS: TrainSettings = {
  nLayer: 2, nHead: 4, dModel: 96, blockSize: 64, batchSize: 16, lr: 3e-3, steps: 500, seed: 1,
};

/** One "Generate" press. Characters of the prompt that are not in the text's alphabet are dropped. */
export interface GenerateRequest {
  prompt: string;
  maxNewTokens: number;
  /** 0 = greedy (always the most likely character). */
  temperature: number;
  seed: number;
}

/** The loss of one training step (0-based). */
export interface LossPoint {
  step: number;
  loss: number;
}

/** Page → worker. */
export type PageMessage =
  /** Train `settings.steps` steps: continues the current model if text and settings are unchanged, else starts a new one. */
  | { type: 'train'; text: string; settings: TrainSettings }
  /** Stop training after the current step. */
  | { type: 'stop' }
  /** Drop the model (the next "Train" starts from random weights). */
  | { type: 'reset' }
  /** Sample from the current model, streaming one `token` message per character. */
  | { type: 'generate'; request: GenerateRequest };

/** Worker → page. */
export type WorkerMessage =
  /** The runtime loaded: which wasm build runs the kernels, and why better ones were passed over. */
  | { type: 'ready'; backend: string; notes: string[]; crossOriginIsolated: boolean; sharedArrayBuffer: boolean }
  /** A model is ready to train; `fresh` when it was just initialised (the loss history restarts). */
  | { type: 'model'; fresh: boolean; params: number; vocabSize: number; tokens: number; settings: TrainSettings }
  /**
   * Steps done since the last progress message. `elapsedMs` is the model's total training time
   * (pauses excluded), `stepsPerSecond` and `tokensPerSecond` the speed of this batch of steps.
   */
  | { type: 'progress'; points: LossPoint[]; step: number; target: number; lr: number; elapsedMs: number; stepsPerSecond: number; tokensPerSecond: number }
  /** Attention of every layer and head on the first characters of the text, after `step` steps. */
  | { type: 'attention'; step: number; maps: AttentionMaps }
  /** Training paused: the `steps` budget is done, or the page asked to stop. */
  | { type: 'trained'; step: number; stopped: boolean }
  /** Generation began from `prompt` (the request's prompt without unknown characters). */
  | { type: 'generating'; prompt: string; dropped: string }
  /** One generated character. */
  | { type: 'token'; text: string }
  /** Generation ended. */
  | { type: 'generated'; tokens: number; tokensPerSecond: number }
  | { type: 'error'; during: 'startup' | 'training' | 'generation'; message: string };

/** The number of leading characters of the text whose attention the page shows. */
export const PROBE_CHARS = 24;
