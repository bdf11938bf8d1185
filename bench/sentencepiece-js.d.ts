// Types of @agnai/sentencepiece-js (the package ships none): what bench/tokenizer.bench.ts uses.
declare module '@agnai/sentencepiece-js' {
  export class SentencePieceProcessor {
    load(path: string): Promise<void>;
    encodeIds(text: string): number[];
  }
  const api: { SentencePieceProcessor: typeof SentencePieceProcessor };
  export default api;
}
