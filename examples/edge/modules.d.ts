// What the worker's non-JavaScript imports are in Cloudflare Workers / workerd: a wasm module
// is a compiled WebAssembly.Module (workerd cannot compile bytes), a data module (here the
// `.safetensors` checkpoint) is an ArrayBuffer. The wasm builds are declared by their exact
// names, not as '*.wasm', so other code that imports .wasm files keeps its own typing.
declare module 'wasmformer/wasm/simd.wasm' {
  const module: WebAssembly.Module;
  export default module;
}

declare module 'wasmformer/wasm/relaxed.wasm' {
  const module: WebAssembly.Module;
  export default module;
}

declare module '*.safetensors' {
  const bytes: ArrayBuffer;
  export default bytes;
}
