// File helpers for checkpoints that work in Node, Bun and Deno without a top-level import:
// Node's fs is reached through process.getBuiltinModule at call time, Deno's through its
// global. Runtimes without a file system (browsers, Cloudflare workerd) get a clear error
// pointing at the bytes API (encodeSafetensors / decodeSafetensors).
import { FileError, WasmformerError } from '../errors.js';
import type { ByteStream } from './byte-stream.js';

interface NodeFileHandle {
  writeFile(data: Uint8Array): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  stat(): Promise<{ size: number; isFile(): boolean }>;
}

interface NodeFsPromises {
  open(path: string, flags: string): Promise<NodeFileHandle>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: boolean }): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  readdir(path: string): Promise<string[]>;
  stat(path: string): Promise<{ isFile(): boolean }>;
}

interface DenoFile {
  write(data: Uint8Array): Promise<number>;
  read(buffer: Uint8Array): Promise<number | null>;
  stat(): Promise<{ size: number; isFile: boolean }>;
  sync?(): Promise<void>;
  close(): void;
}

interface DenoApi {
  open(path: string, options: { write?: boolean; createNew?: boolean; read?: boolean }): Promise<DenoFile>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  readDir(path: string): AsyncIterable<{ name: string }>;
  stat(path: string): Promise<{ isFile: boolean }>;
  errors: { NotFound: new (...args: never[]) => Error };
}

type Fs = { kind: 'node'; fs: NodeFsPromises } | { kind: 'deno'; deno: DenoApi };

function fileSystem(what: string): Fs {
  const g = globalThis as {
    Deno?: DenoApi;
    process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown };
  };
  if (g.Deno) return { kind: 'deno', deno: g.Deno };
  const fs = g.process?.getBuiltinModule?.('node:fs/promises') as NodeFsPromises | undefined;
  if (fs) return { kind: 'node', fs };
  if (g.process?.versions?.node) {
    throw new WasmformerError(`${what}: Node ${g.process.versions.node} lacks process.getBuiltinModule (Node ≥ 20.16 has it); upgrade Node, or use the bytes API (encodeSafetensors/decodeSafetensors) with your own file I/O`);
  }
  throw new WasmformerError(`${what}: this runtime has no file system (no Node, Bun or Deno fs); use the bytes API instead: encodeSafetensors() to get bytes to store, decodeSafetensors() on bytes you load`);
}

function randomSuffix(): string {
  const words = new Uint32Array(2);
  const crypto = (globalThis as { crypto?: { getRandomValues(a: Uint32Array): Uint32Array } }).crypto;
  if (crypto) crypto.getRandomValues(words);
  else for (let i = 0; i < 2; i++) words[i] = Math.floor(Math.random() * 4294967296);
  return [...words].map((w) => w.toString(16).padStart(8, '0')).join('');
}

/**
 * Writes `bytes` to `path` so that readers see either the old file or the whole new one:
 * the bytes go to `${path}.tmp-<random>` in the same directory, are flushed to disk where
 * the runtime allows, then renamed over `path`. On failure the temporary file is removed,
 * the old file is left intact, and the error is rethrown.
 * @example
 * await writeFileAtomic('ckpt/model.safetensors', encodeSafetensors(tensors));
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const fsys = fileSystem(`writeFileAtomic('${path}')`);
  await removeStaleTemps(fsys, path);
  const tmp = `${path}.tmp-${randomSuffix()}`;
  try {
    if (fsys.kind === 'node') {
      const handle = await fsys.fs.open(tmp, 'wx');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsys.fs.rename(tmp, path);
    } else {
      const file = await fsys.deno.open(tmp, { write: true, createNew: true });
      try {
        for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
        await file.sync?.();
      } finally {
        file.close();
      }
      await fsys.deno.rename(tmp, path);
    }
  } catch (err) {
    try {
      if (fsys.kind === 'node') await fsys.fs.rm(tmp, { force: true });
      else await fsys.deno.remove(tmp);
    } catch {
      // The temporary file was never created (or is already gone): the original error matters.
    }
    throw err;
  }
}

/** Splits a path into its directory ('.' when none) and file name, for '/' and '\\' separators. */
function splitPath(path: string): [dir: string, name: string] {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return cut < 0 ? ['.', path] : [path.slice(0, cut) || '/', path.slice(cut + 1)];
}

/**
 * Removes `<name>.tmp-<16 hex digits>` files beside `path`: what a save killed before its rename
 * left (they are never read, and a run saving every few minutes would pile them up). Only this
 * exact pattern; a directory that cannot be listed is left alone (the write reports its own error).
 */
async function removeStaleTemps(fsys: Fs, path: string): Promise<void> {
  const [dir, name] = splitPath(path);
  const stale = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.tmp-[0-9a-f]{16}$`);
  try {
    const names: string[] = [];
    if (fsys.kind === 'node') names.push(...await fsys.fs.readdir(dir));
    else for await (const e of fsys.deno.readDir(dir)) names.push(e.name);
    for (const n of names.filter((n) => stale.test(n))) {
      const p = dir === '.' ? n : `${dir}/${n}`;
      if (fsys.kind === 'node') await fsys.fs.rm(p, { force: true });
      else await fsys.deno.remove(p);
    }
  } catch {
    // listing or removing failed: the write itself goes on and reports any real problem
  }
}

/**
 * Reads a whole file as bytes (a plain Uint8Array, also under Node).
 * @example
 * const { tensors } = decodeSafetensors(await readFileBytes('ckpt/model.safetensors'));
 */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  const fsys = fileSystem(`readFileBytes('${path}')`);
  let data: Uint8Array;
  try {
    data = fsys.kind === 'node' ? await fsys.fs.readFile(path) : await fsys.deno.readFile(path);
  } catch (err) {
    throw readError(fsys, path, err);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A FileError for a failed read of `path`, in words (no such file, a directory, permission denied). */
function readError(fsys: Fs, path: string, err: unknown): FileError {
  const code = fsys.kind === 'deno' && err instanceof fsys.deno.errors.NotFound ? 'ENOENT' : (err as { code?: string }).code;
  const why = code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
  return new FileError(path, code, `cannot read '${path}': ${why}${code && !why.includes(code) ? ` (${code})` : ''}`, { cause: err });
}

/**
 * A file opened for reading in order, piece by piece (Node, Bun, Deno): what `loadPretrained`
 * streams weights from, so a 500 MB file never sits whole in JS memory.
 * @throws FileError when the file is missing, a directory or unreadable.
 * @example
 * ```ts
 * const s = await openFileStream('gpt2/model.safetensors');
 * const first = await s.read(8);      // up to 8 bytes
 * await s.close();
 * ```
 */
export async function openFileStream(path: string): Promise<ByteStream> {
  const fsys = fileSystem(`openFileStream('${path}')`);
  try {
    if (fsys.kind === 'node') {
      const handle = await fsys.fs.open(path, 'r');
      const stat = await handle.stat().catch(async (err: unknown) => { await handle.close(); throw err; });
      if (!stat.isFile()) {
        await handle.close();
        throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
      }
      // Two buffers, reused (a fresh buffer per read costs more than the read: 500 MB in 4 MB
      // reads, 516 vs 44 ms): while the caller uses one read's bytes, the next read (of the same
      // size, from where it ended) fills the other, so the file's reading overlaps the caller's
      // copying — where a loader's first touches of fresh memory make the copying the slow part.
      let position = 0;
      const bufs = [new Uint8Array(0), new Uint8Array(0)];
      let turn = 0;
      let ahead: { at: number; max: number; done: Promise<Uint8Array> } | null = null;
      const readInto = async (at: number, n: number, max: number): Promise<Uint8Array> => {
        const i = turn;
        turn ^= 1;
        if (bufs[i]!.length < n) bufs[i] = new Uint8Array(Math.max(n, Math.min(max, 1 << 22, stat.size)));
        const { bytesRead } = await handle.read(bufs[i]!, 0, n, at);
        return bufs[i]!.subarray(0, bytesRead);
      };
      return {
        name: path, size: stat.size,
        async read(max) {
          const n = Math.min(max, Math.max(0, stat.size - position));
          const pending = ahead;
          ahead = null;
          let chunk: Uint8Array;
          if (pending && pending.at === position && pending.max === max) chunk = await pending.done;
          else {
            if (pending) await pending.done.catch(() => {});   // its buffer is about to be read into
            if (n === 0) return new Uint8Array(0);
            chunk = await readInto(position, n, max);
          }
          position += chunk.length;
          const next = Math.min(max, Math.max(0, stat.size - position));
          if (chunk.length > 0 && next > 0) {
            ahead = { at: position, max, done: readInto(position, next, max) };
            ahead.done.catch(() => {});   // a failure is reported by the read that takes it
          }
          return chunk;
        },
        async close() {
          await ahead?.done.catch(() => {});
          ahead = null;
          await handle.close();
        },
      };
    }
    const file = await fsys.deno.open(path, { read: true });
    const stat = await file.stat();
    if (!stat.isFile) {
      file.close();
      throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    }
    let buf = new Uint8Array(0);
    return {
      name: path, size: stat.size,
      async read(max) {
        if (buf.length < max) buf = new Uint8Array(max);
        const n = await file.read(buf.subarray(0, max));
        return buf.subarray(0, n ?? 0);
      },
      async close() { file.close(); },
    };
  } catch (err) {
    throw readError(fsys, path, err);
  }
}

/**
 * Reads a whole file as UTF-8 text (config.json, tokenizer files).
 * @throws FileError when the file is missing, a directory or unreadable, or not UTF-8.
 * @example
 * ```ts
 * const config = JSON.parse(await readFileText('gpt2/config.json'));
 * ```
 */
export async function readFileText(path: string): Promise<string> {
  const bytes = await readFileBytes(path);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new FileError(path, undefined, `cannot read '${path}': it is not UTF-8 text`, { cause: err });
  }
}

/**
 * Whether `path` names an existing regular file (false for a directory or a missing path;
 * other failures, such as a permission error, are rethrown).
 * @example
 * if (await fileExists('ckpt/model.safetensors')) resume();
 */
export async function fileExists(path: string): Promise<boolean> {
  const fsys = fileSystem(`fileExists('${path}')`);
  try {
    if (fsys.kind === 'node') return (await fsys.fs.stat(path)).isFile();
    return (await fsys.deno.stat(path)).isFile;
  } catch (err) {
    if (fsys.kind === 'deno' && err instanceof fsys.deno.errors.NotFound) return false;
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw err;
  }
}
