// The Web Worker that runs veil: Go's WebAssembly is single-threaded and
// anonymizing blocks the thread it runs on, so it runs here and the page
// stays responsive. The models run on onnxruntime-web (ort/, copied from
// npm's onnxruntime-web by web/build.sh: WebAssembly with SIMD and
// threads) when it loads, else on veil's pure-Go runtime. The worker's
// URL may ask for one (worker.js?backend=ort-web or ?backend=go; auto
// otherwise) and set onnxruntime-web's threads (&threads=N; default half
// the cores, at most 4).
//
// Messages in:  {type: "anonymize", id, bytes: ArrayBuffer, options}
// Messages out: {type: "loading", message}        (what is being loaded)
//               {type: "ready", version, backend, backendNote, threads}
//               {type: "fatal", message}          (veil could not start)
//               {type: "progress", id, stage}     ("decoding", "detecting", "encoding")
//               {type: "result", id, image: ArrayBuffer, format, detections, count, width, height, backend, ms}
//               {type: "error", id, message}
"use strict";

importScripts("wasm_exec.js");

const params = new URLSearchParams(self.location.search);
const wanted = params.get("backend") || "auto";

// loadORT loads onnxruntime-web (globalThis.ort) unless the pure-Go
// runtime is asked for, and returns why it is not there ("" if it is).
function loadORT() {
	if (wanted === "go") {
		return "the pure-Go runtime was asked for";
	}
	postMessage({ type: "loading", message: "loading onnxruntime-web" });
	try {
		importScripts("ort/ort.wasm.min.js");
	} catch (e) {
		return "onnxruntime-web is not served (web/ort/: run web/build.sh with npm installed)";
	}
	const env = globalThis.ort.env;
	env.logLevel = "error";
	env.wasm.wasmPaths = new URL("ort/", self.location.href).href;
	// Threads need SharedArrayBuffer, which needs cross-origin isolation
	// (veil serve-web sends the headers); otherwise one thread.
	// Half the cores, at most 4 (onnxruntime-web's own default): the
	// page, the image's decoding and encoding in Go and the rest of the
	// machine keep the other half. On a busy 2-core machine a second
	// thread made the runs slower and irregular (docs/browser.md).
	const threads = Number(params.get("threads")) || Math.min(4, Math.ceil((navigator.hardwareConcurrency || 1) / 2));
	env.wasm.numThreads = self.crossOriginIsolated ? threads : 1;
	env.wasm.proxy = false;
	return "";
}

async function start() {
	const ortNote = loadORT();
	self.veilOptions = {
		backend: wanted,
		onLoad: (message) => postMessage({ type: "loading", message }),
	};
	postMessage({ type: "loading", message: "loading veil.wasm" });
	const go = new Go();
	let inst;
	try {
		inst = await WebAssembly.instantiateStreaming(fetch("veil.wasm"), go.importObject);
	} catch (e) {
		// A server without the application/wasm type: compile from bytes.
		const resp = await fetch("veil.wasm");
		if (!resp.ok) {
			throw new Error(`veil.wasm: HTTP ${resp.status} (build it with web/build.sh)`);
		}
		inst = await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject);
	}
	go.run(inst.instance).then(() => {
		postMessage({ type: "fatal", message: "the veil program stopped" });
	});
	// go.run has set globalThis.veil before it returns.
	if (!globalThis.veil) {
		throw new Error("veil.wasm did not set globalThis.veil");
	}
	const veil = globalThis.veil;
	await veil.ready;
	return {
		veil,
		backendNote: veil.backend === "go" ? (ortNote || veil.backendNote || "") : "",
		threads: veil.backend === "ort-web" ? globalThis.ort.env.wasm.numThreads : 1,
	};
}

const ready = start();
ready.then(
	(r) => postMessage({
		type: "ready", version: r.veil.version, backend: r.veil.backend,
		backendNote: r.backendNote, threads: r.threads,
	}),
	(e) => postMessage({ type: "fatal", message: String((e && e.message) || e) }),
);

onmessage = async (ev) => {
	const m = ev.data;
	if (!m || m.type !== "anonymize") {
		return;
	}
	try {
		const { veil } = await ready;
		const t0 = performance.now();
		const r = await veil.anonymize(new Uint8Array(m.bytes), {
			...m.options,
			onProgress: (stage) => postMessage({ type: "progress", id: m.id, stage }),
		});
		const ms = performance.now() - t0;
		const image = r.image.buffer;
		postMessage({
			type: "result", id: m.id, image, format: r.format, detections: r.detections,
			count: r.count, width: r.width, height: r.height, backend: r.backend, ms,
		}, [image]);
	} catch (e) {
		postMessage({ type: "error", id: m.id, message: String((e && e.message) || e) });
	}
};
