// A model folder, local or remote: a directory path (Node, Bun, Deno) or a base URL (browsers,
// workerd, anything with fetch). Files are read as text or streamed; a missing file is null
// where the caller can do without it, a typed error where it cannot.
import { FileError } from '../errors.js';
import { fetchText, openUrlStream, type ByteStream, type Fetch } from './byte-stream.js';
import { fileExists, openFileStream, readFileText } from './files.js';

/** Files of one model folder. */
export interface Folder {
  /** The folder as given (path or URL), for messages. */
  readonly name: string;
  /** Where `file` is: a path or a URL. */
  at(file: string): string;
  /** A file's text, or null when the folder has no such file. */
  text(file: string): Promise<string | null>;
  /** A file as a stream, or null when the folder has no such file. */
  stream(file: string): Promise<ByteStream | null>;
}

/**
 * The folder `source` names: an http(s) URL (a base ending in '/' or not) or a directory path.
 * @example
 * ```ts
 * const folder = openFolder('models/gpt2');                                   // files models/gpt2/config.json, …
 * const remote = openFolder('https://example.com/models/gpt2/', { fetch });   // …/gpt2/config.json
 * ```
 */
export function openFolder(source: string | URL, opts: { fetch?: Fetch } = {}): Folder {
  const s = String(source);
  if (/^https?:\/\//i.test(s) || source instanceof URL) {
    const base = s.endsWith('/') ? s : `${s}/`;
    const fetchFn = opts.fetch ?? globalThis.fetch;
    const absent = (err: unknown) => err instanceof FileError && err.code === '404';
    return {
      name: base,
      at: (file) => new URL(file, base).href,
      text: (file) => fetchText(new URL(file, base).href, fetchFn).catch((err) => { if (absent(err)) return null; throw err; }),
      stream: (file) => openUrlStream(new URL(file, base).href, fetchFn).catch((err) => { if (absent(err)) return null; throw err; }),
    };
  }
  const dir = s.replace(/[/\\]+$/, '') || '/';
  const at = (file: string) => `${dir}/${file}`;
  return {
    name: dir,
    at,
    async text(file) {
      return (await fileExists(at(file))) ? readFileText(at(file)) : null;
    },
    async stream(file) {
      return (await fileExists(at(file))) ? openFileStream(at(file)) : null;
    },
  };
}
