// The Web Worker that runs veil: Go's WebAssembly is single-threaded and
// anonymizing blocks the thread it runs on, so it runs here and the page
// stays responsive. The models run on onnxruntime-web (ort/, copied from
// npm's onnxruntime-web by web/build.sh: WebAssembly with SIMD and
// threads, or WebGPU where the browser has it) when it loads, else on
// veil's pure-Go runtime. The worker's URL may ask for one
// (worker.js?backend=ort-web or ?backend=go; auto otherwise), for
// onnxruntime-web's execution provider (&ep=wasm or &ep=webgpu; by
// default WebGPU where the browser has a hardware adapter) and set its threads
// (&threads=N; default half the cores, at most 4).
//
// Messages in:  {type: "anonymize", id, bytes: ArrayBuffer, options}
// Messages out: {type: "loading", message}        (what is being loaded)
//               {type: "ready", version, backend, backendNote, threads, ep, epNote}
//               {type: "fatal", message}          (veil could not start)
//               {type: "progress", id, stage}     ("decoding", "detecting", "encoding")
//               {type: "result", id, image: ArrayBuffer, format, detections, count, width, height, backend, ms}
//               {type: "error", id, message}
"use strict";

importScripts("wasm_exec.js");

const params = new URLSearchParams(self.location.search);
const wanted = params.get("backend") || "auto";

// webgpuAdapter reports whether the browser offers a WebGPU adapter that
// is not a fallback one (a software renderer, slower than WebAssembly).
async function webgpuAdapter() {
	try {
		const a = self.navigator.gpu && await self.navigator.gpu.requestAdapter();
		return Boolean(a) && !(a.isFallbackAdapter || (a.info && a.info.isFallbackAdapter));
	} catch (e) {
		return false;
	}
}

// loadORT loads onnxruntime-web (globalThis.ort) unless the pure-Go
// runtime is asked for. It returns why it is not there (note, "" if it
// is) and its execution provider (ep): "webgpu" where the browser has a
// WebGPU adapter (the worker's &ep=wasm or &ep=webgpu may choose), else
// "wasm".
async function loadORT() {
	if (wanted === "go") {
		return { note: "the pure-Go runtime was asked for", ep: "" };
	}
	let ep = params.get("ep") || "auto";
	if (ep !== "wasm" && ep !== "webgpu") {
		ep = (await webgpuAdapter()) ? "webgpu" : "wasm";
	}
	postMessage({ type: "loading", message: `loading onnxruntime-web (${ep === "webgpu" ? "WebGPU" : "WebAssembly"})` });
	try {
		importScripts(ep === "webgpu" ? "ort/ort.webgpu.min.js" : "ort/ort.wasm.min.js");
	} catch (e) {
		if (ep !== "webgpu") {
			return { note: "onnxruntime-web is not served (web/ort/: run web/build.sh with npm installed)", ep: "" };
		}
		return loadORTWasm();
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
	return { note: "", ep };
}

// loadORTWasm is loadORT with the WebAssembly execution provider, for a
// server without the WebGPU files.
function loadORTWasm() {
	params.set("ep", "wasm");
	return loadORT();
}

async function start() {
	const { note: ortNote, ep } = await loadORT();
	self.veilOptions = {
		backend: wanted,
		ep,
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
		ep: veil.executionProvider || "",
		epNote: veil.executionProviderNote || "",
	};
}

const ready = start();
ready.then(
	(r) => postMessage({
		type: "ready", version: r.veil.version, backend: r.veil.backend,
		backendNote: r.backendNote, threads: r.threads, ep: r.ep, epNote: r.epNote,
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
