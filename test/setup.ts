// Lets Node 20 validate relaxed-SIMD modules: the flag must be set before the first compile,
// and Node refuses it in NODE_OPTIONS, so each test worker sets it here.
import { setFlagsFromString } from 'node:v8';
setFlagsFromString('--experimental-wasm-relaxed-simd');
