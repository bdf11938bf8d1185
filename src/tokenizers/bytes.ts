// Bytes for byte-level tokenizers: GPT-2's reversible map from the 256 byte values to printable
// characters (a published table: printable Latin-1 bytes map to themselves, the other 68 to
// U+0100…U+0143 in byte order), UTF-8 encoding of code points into byte symbols, and a UTF-8
// stream decoder that holds back an incomplete character until its last byte arrives.

/**
 * GPT-2's byte → character table: `BYTE_TO_CHAR[b]` is the one-character string standing for byte
 * `b` in vocab.json and merges.txt (space 0x20 is 'Ġ', newline 0x0A is 'Ċ', 'a' is 'a').
 * @example
 * BYTE_TO_CHAR[0x20]; // 'Ġ'
 * BYTE_TO_CHAR[0x61]; // 'a'
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const out = new Array<string>(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    out[b] = String.fromCharCode(printable ? b : next++);
  }
  return Object.freeze(out);
})();

/** Code point → byte for the 256 characters of {@link BYTE_TO_CHAR}; −1 for any other character below U+0144. */
const CHAR_TO_BYTE = (() => {
  const t = new Int16Array(0x144).fill(-1);
  for (let b = 0; b < 256; b++) t[BYTE_TO_CHAR[b]!.charCodeAt(0)] = b;
  return t;
})();

/**
 * The byte a byte-level character stands for, or −1 when the character is not one of GPT-2's 256.
 * @example
 * charToByte('Ġ'.charCodeAt(0)); // 32
 */
export function charToByte(codeUnit: number): number {
  return codeUnit < 0x144 ? CHAR_TO_BYTE[codeUnit]! : -1;
}

/**
 * The bytes a byte-level token string stands for ('Ġthe' → ' the'), or null when one of its
 * characters is not a byte character (then Hugging Face's ByteLevel decoder uses the token's own
 * UTF-8 bytes, as {@link tokenBytes} does).
 * @example
 * byteLevelBytes('Ġhi'); // Uint8Array [32, 104, 105]
 */
export function byteLevelBytes(token: string): Uint8Array | null {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const b = charToByte(token.charCodeAt(i));
    if (b < 0) return null;
    out[i] = b;
  }
  return out;
}

const utf8 = new TextEncoder();

/**
 * The bytes of every token (as {@link tokenBytes}) in one buffer: token i's are
 * `bytes.subarray(offsets[i], offsets[i + 1])`. Decoding copies from it.
 * @example
 * const { bytes, offsets } = tokenByteTable(['Ġa', 'b']); // bytes [32, 97, 98], offsets [0, 2, 3]
 */
export function tokenByteTable(tokens: readonly string[]): { bytes: Uint8Array; offsets: Int32Array } {
  let total = 0;
  for (const t of tokens) total += t.length;
  let bytes = new Uint8Array(total + 64);
  const offsets = new Int32Array(tokens.length + 1);
  const room = (n: number) => {
    if (n > bytes.length) { const bigger = new Uint8Array(n * 2); bigger.set(bytes); bytes = bigger; }
  };
  let o = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    room(o + t.length);
    let k = 0;
    for (; k < t.length; k++) {
      const b = charToByte(t.charCodeAt(k));
      if (b < 0) break;
      bytes[o + k] = b;
    }
    if (k < t.length) { // not all byte characters: the token's own UTF-8
      const own = utf8.encode(t);
      room(o + own.length);
      bytes.set(own, o);
      k = own.length;
    }
    o += k;
    offsets[i + 1] = o;
  }
  return { bytes: bytes.slice(0, o), offsets };
}

/**
 * The bytes a byte-level tokenizer emits for `token` when decoding: its byte characters mapped back
 * to bytes, or — for a token with other characters, such as an added token '<unk>' — its UTF-8.
 * @example
 * tokenBytes('Ġhi'); // Uint8Array [32, 104, 105]
 * tokenBytes('▁hi'); // the UTF-8 of '▁hi' ('▁' is not a byte character): [226, 150, 129, 104, 105]
 */
export function tokenBytes(token: string): Uint8Array {
  return byteLevelBytes(token) ?? utf8.encode(token);
}

/**
 * The text of `bytes` as byte-level characters ([0x20, 0x68] → 'Ġh').
 * @example
 * bytesToByteLevel(new TextEncoder().encode(' é')); // 'ĠÃ©'
 */
export function bytesToByteLevel(bytes: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]!]!;
  return s;
}

/**
 * Writes the UTF-8 bytes of `text[start, end)` (UTF-16 code units) into `out` mapped through
 * `symbolOfByte` (a byte → symbol id table), returning the count. A lone surrogate becomes U+FFFD's
 * three bytes, as TextEncoder does. `out` must hold 3·(end − start) entries.
 * @example
 * const out = new Int32Array(6);
 * utf8Symbols('hé', 0, 2, IDENTITY_BYTES, out); // 3: [0x68, 0xC3, 0xA9]
 */
export function utf8Symbols(text: string, start: number, end: number, symbolOfByte: Int32Array, out: Int32Array): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = symbolOfByte[c]!;
    } else if (c < 0x800) {
      out[n++] = symbolOfByte[0xc0 | (c >> 6)]!;
      out[n++] = symbolOfByte[0x80 | (c & 0x3f)]!;
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const lo = i + 1 < end ? text.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
          out[n++] = symbolOfByte[0xf0 | (cp >> 18)]!;
          out[n++] = symbolOfByte[0x80 | ((cp >> 12) & 0x3f)]!;
          out[n++] = symbolOfByte[0x80 | ((cp >> 6) & 0x3f)]!;
          out[n++] = symbolOfByte[0x80 | (cp & 0x3f)]!;
          i++;
          continue;
        }
        c = 0xfffd; // a lone surrogate
      }
      out[n++] = symbolOfByte[0xe0 | (c >> 12)]!;
      out[n++] = symbolOfByte[0x80 | ((c >> 6) & 0x3f)]!;
      out[n++] = symbolOfByte[0x80 | (c & 0x3f)]!;
    }
  }
  return n;
}

/**
 * The byte → symbol table that maps each byte to itself (for {@link utf8Symbols}).
 * @example
 * utf8Symbols('é', 0, 1, IDENTITY_BYTES, new Int32Array(3)); // 2: [0xC3, 0xA9]
 */
export const IDENTITY_BYTES: Int32Array = Int32Array.from({ length: 256 }, (_, b) => b);

/**
 * Turns a stream of byte chunks into text, emitting only complete UTF-8 characters: a character
 * split across chunks comes out whole once its last byte arrives, and invalid bytes become U+FFFD
 * exactly as decoding all the bytes at once would (WHATWG TextDecoder in streaming mode).
 * @example
 * const d = new Utf8Stream();
 * d.push(new Uint8Array([0xE2, 0x82])); // ''
 * d.push(new Uint8Array([0xAC]));       // '€'
 * d.flush();                            // ''
 */
export class Utf8Stream {
  #decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  /** The complete characters that `bytes` finishes; an incomplete tail is held back. */
  push(bytes: Uint8Array): string {
    return this.#decoder.decode(bytes, { stream: true });
  }

  /** Whatever is held back, as U+FFFD for an unfinished character; the stream starts over after. */
  flush(): string {
    return this.#decoder.decode();
  }
}

/**
 * UTF-8 decoding as byte-level decoders do it (Rust's from_utf8_lossy, TextDecoder without
 * `fatal`): invalid bytes become U+FFFD, a leading BOM is kept.
 * @example
 * decodeUtf8(new Uint8Array([0x68, 0x69])); // 'hi'
 */
export function decodeUtf8(bytes: Uint8Array): string {
  return lossy.decode(bytes);
}
const lossy = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
