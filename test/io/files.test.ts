// File helpers under Node: atomic replace, cleanup after a failed write (no temp files left,
// other files untouched), existence checks, the error a runtime without fs gives, and the file
// stream's reading ahead (every chunk the file's bytes, intact until the next read).
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmformerError } from '../../src/index.js';
import { fileExists, openFileStream, readFileBytes, writeFileAtomic } from '../../src/io/files.js';

let dir = '';
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'wasmformer-files-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('file helpers', () => {
  it('writeFileAtomic creates and then replaces a file, leaving no temporary files', async () => {
    const path = join(dir, 'model.safetensors');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect(new Uint8Array(await readFile(path))).toEqual(new Uint8Array([1, 2, 3]));
    await writeFileAtomic(path, new Uint8Array([9, 8]));
    const back = await readFileBytes(path);
    expect(back).toEqual(new Uint8Array([9, 8]));
    expect(back.constructor).toBe(Uint8Array);
    await writeFileAtomic(path, new Uint8Array(0));
    expect((await readFileBytes(path)).length).toBe(0);
    expect(await readdir(dir)).toEqual(['model.safetensors']);
  });

  it('a failing write rethrows and leaves existing files untouched and no temporary file', async () => {
    const sub = join(dir, 'failing');
    await mkdir(sub);
    const keep = join(sub, 'keep.bin');
    await writeFile(keep, new Uint8Array([4, 5, 6]));
    // The directory does not exist: opening the temporary file fails.
    await expect(writeFileAtomic(join(sub, 'missing', 'x.bin'), new Uint8Array([1]))).rejects.toThrow(/ENOENT/);
    // The target is a directory: the rename fails after the temporary file was written.
    const target = join(sub, 'is-a-dir');
    await mkdir(target);
    await expect(writeFileAtomic(target, new Uint8Array([1, 2]))).rejects.toThrow();
    expect((await readdir(sub)).sort()).toEqual(['is-a-dir', 'keep.bin']);
    expect(new Uint8Array(await readFile(keep))).toEqual(new Uint8Array([4, 5, 6]));
  });

  it('fileExists is true for files only, and readFileBytes fails on a missing path', async () => {
    const path = join(dir, 'exists.txt');
    await writeFile(path, 'x');
    expect(await fileExists(path)).toBe(true);
    expect(await fileExists(join(dir, 'nope.txt'))).toBe(false);
    expect(await fileExists(join(path, 'below-a-file'))).toBe(false);
    expect(await fileExists(dir)).toBe(false);
    await expect(readFileBytes(join(dir, 'nope.txt'))).rejects.toThrow(/ENOENT/);
  });

  it('openFileStream reads ahead into its other buffer: every chunk holds the file\'s bytes until the next read, whatever the sizes asked', async () => {
    const path = join(dir, 'stream.bin');
    const bytes = new Uint8Array(9 * (1 << 20) + 12345);
    let x = 12345;
    for (let i = 0; i < bytes.length; i++) { x = (x * 1103515245 + 12345) >>> 0; bytes[i] = x >>> 24; }
    await writeFile(path, bytes);
    const s = await openFileStream(path);
    expect(s.size).toBe(bytes.length);
    // the same size read after read (the read ahead is taken), then other sizes (it is not), then the end
    const sizes = [1 << 20, 1 << 20, 1 << 20, 8, 8, 4 << 20, 3, 4 << 20, 4 << 20, 4 << 20];
    let at = 0;
    for (const max of sizes) {
      const chunk = await s.read(max);
      await new Promise((r) => setTimeout(r, 5));     // the read ahead has landed by now, in the other buffer
      expect(chunk.length).toBe(Math.min(max, bytes.length - at));
      expect(chunk).toEqual(bytes.subarray(at, at + chunk.length));
      at += chunk.length;
    }
    expect(at).toBe(bytes.length);
    expect((await s.read(1 << 20)).length).toBe(0);
    const early = await openFileStream(path);
    await early.read(1 << 20);                       // a read ahead is in flight: closing waits for it
    await early.close();
    await early.close();
    await s.close();
  });

  it('a runtime without a file system gets a WasmformerError pointing at the bytes API', async () => {
    const g = globalThis as { process?: unknown };
    const saved = g.process;
    let pending: Promise<unknown>;
    // Hide Node for the synchronous part of the call only: the check happens before any await.
    Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true, writable: true });
    try {
      pending = writeFileAtomic(join(dir, 'never.bin'), new Uint8Array(1));
    } finally {
      Object.defineProperty(globalThis, 'process', { value: saved, configurable: true, writable: true });
    }
    await expect(pending).rejects.toThrow(WasmformerError);
    await expect(pending).rejects.toThrow(/writeFileAtomic\('.*never\.bin'\): this runtime has no file system .* encodeSafetensors\(\)/);
    expect(await fileExists(join(dir, 'never.bin'))).toBe(false);
  });
});
