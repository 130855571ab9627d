// Package ortweb runs veil's models in the browser on onnxruntime-web
// (npm onnxruntime-web: ONNX Runtime compiled to WebAssembly with SIMD
// and threads), called from Go through syscall/js.
//
// It is only compiled for GOOS=js GOARCH=wasm; the page must have loaded
// onnxruntime-web first (web/worker.js imports web/ort/ort.wasm.min.js,
// which sets globalThis.ort). A *Backend implements onnx.Backend: hand
// it to veil.WithBackend, as cmd/veil-wasm does, and keep the pure-Go
// runtime as the fallback when New or a model's Load fails.
//
// Every promise of onnxruntime-web is awaited from the calling goroutine;
// Load and Run must therefore not be called from inside a js.FuncOf
// callback (the callback would wait for the event loop it blocks). Runs
// are serialized: onnxruntime-web's WebAssembly runs one session at a
// time, each on its own thread pool.
package ortweb
