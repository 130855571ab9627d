// The Web Worker that runs veil: Go's WebAssembly is single-threaded and
// anonymizing blocks the thread it runs on, so it runs here and the page
// stays responsive.
//
// Messages in:  {type: "anonymize", id, bytes: ArrayBuffer, options}
// Messages out: {type: "ready", version}
//               {type: "fatal", message}          (veil could not start)
//               {type: "progress", id, stage}     ("decoding", "detecting", "encoding")
//               {type: "result", id, image: ArrayBuffer, format, detections, count, width, height, ms}
//               {type: "error", id, message}
"use strict";

importScripts("wasm_exec.js");

async function start() {
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
	await globalThis.veil.ready;
	return globalThis.veil;
}

const ready = start();
ready.then(
	(veil) => postMessage({ type: "ready", version: veil.version }),
	(e) => postMessage({ type: "fatal", message: String((e && e.message) || e) }),
);

onmessage = async (ev) => {
	const m = ev.data;
	if (!m || m.type !== "anonymize") {
		return;
	}
	try {
		const veil = await ready;
		const t0 = performance.now();
		const r = await veil.anonymize(new Uint8Array(m.bytes), {
			...m.options,
			onProgress: (stage) => postMessage({ type: "progress", id: m.id, stage }),
		});
		const ms = performance.now() - t0;
		const image = r.image.buffer;
		postMessage({
			type: "result", id: m.id, image, format: r.format, detections: r.detections,
			count: r.count, width: r.width, height: r.height, ms,
		}, [image]);
	} catch (e) {
		postMessage({ type: "error", id: m.id, message: String((e && e.message) || e) });
	}
};
