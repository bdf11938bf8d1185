// Types of the package's `wasmformer/wasm/*.wasm` exports when they are imported as modules
// (Cloudflare Workers / workerd, Deno's `import source`, bundlers with a wasm-module rule):
// the import is a compiled WebAssembly.Module, ready for createRuntime({ wasm: { simd: module } }).
declare const module: WebAssembly.Module;
export default module;
