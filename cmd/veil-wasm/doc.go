// Command veil-wasm is veil for the browser: built with GOOS=js
// GOARCH=wasm (web/build.sh) and started by Go's wasm_exec.js, it sets
// globalThis.veil:
//
//	veil.version   string: the build's version
//	veil.ready     Promise<true>: resolves when the engine (the embedded
//	               models) is loaded, rejects if it cannot be
//	veil.backend   "ort-web" | "go", once ready: the runtime of the models
//	veil.backendNote  string, for "go" in auto: why not onnxruntime-web
//	veil.anonymize(bytes: Uint8Array | ArrayBuffer, options?: object)
//	    → Promise<{image: Uint8Array, format: "jpeg" | "png",
//	               detections: string, count: number,
//	               width: number, height: number, backend: string}>
//
// The models run on onnxruntime-web (package onnx/ortweb) when the page
// has loaded it as globalThis.ort, and on veil's pure-Go runtime
// otherwise. globalThis.veilOptions, when set before the program starts,
// may choose: {backend: "auto" | "ort-web" | "go", onLoad: function},
// onLoad being called with what is being loaded.
//
// bytes is a JPEG or PNG file; detections is the Celantur metadata JSON.
// The options carry the Celantur parameter names: classes (an array of
// face, license-plate, person, vehicle; default face and license-plate),
// method (blur, pixelate, blacken, detect), bbox, debug, score, format,
// ignores, face-threshold, license-plate-threshold, person-threshold,
// vehicle-threshold, kernel-size-face, kernel-size-license-plate,
// kernel-size-person, kernel-size-vehicle, face- and
// license-plate-anonymization-gradient-start and -stop, quality,
// compress-level, output-format (jpeg or png; default the input's),
// filename (the name in the metadata) and onProgress, a function called
// with "decoding", "detecting" and "encoding". A null option is its
// default. An unknown option, a bad value or an undecodable image rejects
// the promise with an Error that says what is wrong; no image is returned
// then.
//
// Go's WebAssembly is single-threaded and the work blocks the thread it
// runs on: call it from a Web Worker (web/worker.js). Built for any other
// platform, the command only says how to build it.
package main
