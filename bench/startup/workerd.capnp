# workerd config of the start-up benchmark. bench/startup.ts copies it next to the worker
# bundle (worker.js) and the two .wasm builds, then runs
#   workerd serve workerd.capnp --socket-addr http=127.0.0.1:0 --control-fd 3
# and reads the port from the control descriptor.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "wasmformer-simd.wasm", wasm = embed "wasmformer-simd.wasm"),
    (name = "wasmformer-relaxed.wasm", wasm = embed "wasmformer-relaxed.wasm"),
  ],
  compatibilityDate = "2025-01-01",
);
