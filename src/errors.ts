// Typed errors of wasmformer. Each message carries the numbers at fault, so a user can
// tell from the message alone which shape, size or byte count was wrong.

/** Base class of every error wasmformer throws on purpose. */
export class WasmformerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A tensor shape, size or stride does not fit the operation. */
export class ShapeError extends WasmformerError {}

/** A tensor has the wrong element type for the operation. */
export class DTypeError extends WasmformerError {}

/** A value is outside what the operation accepts (NaN scale, negative eps, ...). */
export class ValueError extends WasmformerError {}

/** The wasm memory cannot hold what was asked. Sizes are in bytes. */
export class OutOfMemoryError extends WasmformerError {
  constructor(
    readonly requestedBytes: number,
    readonly usedBytes: number,
    readonly limitBytes: number,
    what: string,
  ) {
    super(
      `out of memory allocating ${requestedBytes} bytes for ${what}: ` +
        `${usedBytes} bytes of wasm memory in use, limit ${limitBytes} bytes`,
    );
  }
}

/** A tensor was used after the arena scope that held it was released or reset. */
export class StaleTensorError extends WasmformerError {}

/** A wasm variant could not be loaded, compiled or instantiated. */
export class WasmLoadError extends WasmformerError {}

/** The runtime lacks a WebAssembly feature that was explicitly asked for. */
export class FeatureError extends WasmformerError {}

/** A checkpoint or safetensors file is truncated, corrupted, or does not match the model. */
export class CheckpointError extends WasmformerError {}

/** A model folder's config.json describes a model this library cannot build (unsupported architecture or field); the message names the file and field. */
export class ConfigError extends CheckpointError {}

/** A file could not be read or written: `path` names it, `code` is the system's reason (ENOENT, EACCES, …) when there is one. */
export class FileError extends WasmformerError {
  constructor(readonly path: string, readonly code: string | undefined, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Text or token ids that a tokenizer or a model cannot take (unknown character, id out of range, sequence too long). */
export class TokenError extends WasmformerError {}

/**
 * A tokenizer's files or saved JSON are malformed (not JSON, a merge of unknown tokens, duplicate or
 * missing ids, an unsupported model, normalizer or pre-tokenizer). `file` names the file
 * ('vocab.json', 'merges.txt', 'tokenizer.json', 'vocab.txt', 'saved tokenizer'), `where` the
 * field, line or token at fault; the message says both.
 * @example
 * try { BPETokenizer.fromVocabAndMerges(vocab, merges); } catch (e) {
 *   if (e instanceof TokenizerFormatError) console.log(e.file, e.where); // 'merges.txt' 'line 7'
 * }
 */
export class TokenizerFormatError extends TokenError {
  constructor(readonly file: string, readonly where: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${where}: ${message}`, options);
  }
}

/** Training stopped: a loss or gradient went NaN/Inf. `step` is the step at which it happened. */
export class TrainingError extends WasmformerError {
  constructor(readonly step: number, message: string) {
    super(message);
  }
}

/** A gradient that has no implementation was asked for. */
export class NotImplementedError extends WasmformerError {}

/** A worker thread failed to start, threw in a kernel, or stopped responding. The message names the thread and the call. */
export class WorkerError extends WasmformerError {}

/**
 * A short, safe rendering of any JSON value for an error message: at most 3 levels deep and 80
 * characters (a hostile header can nest arrays 100,000 deep, which JSON.stringify cannot print).
 */
export function preview(v: unknown, depth = 0): string {
  let out: string;
  if (Array.isArray(v)) {
    out = depth >= 3 ? '[…]' : `[${v.slice(0, 8).map((x) => preview(x, depth + 1)).join(',')}${v.length > 8 ? ',…' : ''}]`;
  } else if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    out = depth >= 3 ? '{…}' : `{${keys.slice(0, 4).map((k) => `${JSON.stringify(k.slice(0, 20))}:${preview((v as Record<string, unknown>)[k], depth + 1)}`).join(',')}${keys.length > 4 ? ',…' : ''}}`;
  } else {
    out = typeof v === 'string' ? JSON.stringify(v.slice(0, 60)) : String(v);
  }
  return out.length > 80 ? `${out.slice(0, 77)}…` : out;
}
