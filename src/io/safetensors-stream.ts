// Safetensors read as a stream: the header first (so everything can be checked before anything
// is allocated), then the data section front to back, each tensor's bytes handed to a sink as
// they arrive — for weights, straight into wasm memory. Nothing holds the whole file.
import { CheckpointError } from '../errors.js';
import { readExact, type ByteStream } from './byte-stream.js';
import { parseSafetensorsHeader, safetensorsHeaderLength, type SafetensorsHeader } from './safetensors.js';

/** Receives one tensor's raw little-endian bytes in order: `chunk` starts at byte `at` of the tensor. */
export type TensorSink = (chunk: Uint8Array, at: number) => void;

/** Chunk size of the data reads: large enough that per-read costs vanish, small enough to stay in cache-friendly pieces. */
const CHUNK_BYTES = 4 << 20;

/**
 * Reads and checks the header of the safetensors file `stream` is at the start of.
 * @throws CheckpointError for a malformed header; FileError when the stream ends inside it.
 * @example
 * ```ts
 * const stream = await openFileStream('gpt2/model.safetensors');
 * const header = await readSafetensorsHeader(stream);   // the stream is now at the data section
 * ```
 */
export async function readSafetensorsHeader(stream: ByteStream): Promise<SafetensorsHeader> {
  const first = await readExact(stream, 8, 'the safetensors header length');
  const n = safetensorsHeaderLength(first, stream.size);
  const json = await readExact(stream, n, 'the safetensors header');
  try {
    return parseSafetensorsHeader(json, stream.size === null ? null : stream.size - 8 - n);
  } catch (err) {
    if (err instanceof CheckpointError) throw new CheckpointError(`${stream.name}: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * Streams the data section (after `readSafetensorsHeader`) into `sinks` by tensor name; tensors
 * without a sink are read and dropped. Ends with the stream: a stream that ends early, or goes on
 * past the last tensor, is a CheckpointError naming the tensor and bytes.
 * @example
 * ```ts
 * await streamSafetensorsData(stream, header, new Map([['wte.weight', (chunk, at) => heap.set(chunk, ptr + at)]]));
 * ```
 */
export async function streamSafetensorsData(stream: ByteStream, header: SafetensorsHeader, sinks: ReadonlyMap<string, TensorSink>): Promise<void> {
  const entries = [...header.entries].filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  const total = entries.length ? entries[entries.length - 1]!.end : 0;
  let pos = 0, next = 0;
  while (pos < total) {
    const chunk = await stream.read(Math.min(CHUNK_BYTES, total - pos));
    if (chunk.length === 0) {
      const inside = entries[next]!;
      throw new CheckpointError(`${stream.name}: the file ends at data byte ${pos} (file byte ${header.dataStart + pos}), inside tensor '${inside.name}' (data bytes [${inside.begin}, ${inside.end})); it is truncated`);
    }
    const end = pos + chunk.length;
    // every tensor overlapping [pos, end) gets its part; entries tile the data section in order
    for (let i = next; i < entries.length && entries[i]!.begin < end; i++) {
      const e = entries[i]!;
      const a = Math.max(e.begin, pos), b = Math.min(e.end, end);
      sinks.get(e.name)?.(chunk.subarray(a - pos, b - pos), a - e.begin);
      if (e.end <= end) next = i + 1;
    }
    pos = end;
  }
  if (stream.size === null && (await stream.read(1)).length > 0) {
    throw new CheckpointError(`${stream.name}: bytes follow the last tensor (data byte ${total}); the format allows no trailing bytes`);
  }
}
