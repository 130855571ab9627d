// The page: picks an image and the options, hands them to the worker
// (worker.js, which runs veil.wasm) and shows the result. Nothing is sent
// over the network: the image goes from the file input to the worker and
// back, within this browser.
"use strict";

const $ = (id) => document.getElementById(id);
const ui = {
	file: $("file"), drop: $("drop"), run: $("run"), method: $("method"),
	bbox: $("bbox"), debug: $("debug"), status: $("status"), summary: $("summary"),
	count: $("count"), breakdown: $("breakdown"), took: $("took"),
	original: $("original"), result: $("result"), download: $("download"),
	json: $("json"), version: $("version"), backend: $("backend"),
};

// The runtime of the models: ?backend=ort-web or ?backend=go in the
// page's address asks for one; auto (the default) takes onnxruntime-web
// when it loads and the pure-Go runtime otherwise.
// ?ep=wasm or ?ep=webgpu chooses onnxruntime-web's execution provider
// (default: WebGPU where the browser has an adapter, else WebAssembly).
// ?threads=N sets onnxruntime-web's threads (default: half the cores, at
// most 4).
const pageParams = new URLSearchParams(location.search);
const wantedBackend = ["auto", "ort-web", "go"].includes(pageParams.get("backend")) ? pageParams.get("backend") : "auto";
const workerParams = new URLSearchParams({ backend: wantedBackend });
if (/^[1-9][0-9]?$/.test(pageParams.get("threads") || "")) {
	workerParams.set("threads", pageParams.get("threads"));
}
if (["wasm", "webgpu"].includes(pageParams.get("ep"))) {
	workerParams.set("ep", pageParams.get("ep"));
}
const backendNames = { "ort-web": "onnxruntime-web", go: "pure Go" };

// State the end-to-end test reads too (web/e2e/e2e.mjs).
const demo = {
	state: "loading", // loading, ready, working, done, error
	version: "",
	loading: "", // what the worker is loading
	backend: "", // the runtime of the models: "ort-web" or "go"
	backendNote: "", // why not onnxruntime-web, when the pure-Go runtime runs
	ep: "", // onnxruntime-web's execution provider: "wasm" or "webgpu"
	epNote: "", // why not WebGPU, when it failed
	last: null, // {name, count, ms, workerMs, format, width, height, detections, backend}
	error: "",
	runs: 0, // finished runs, results and errors
};
window.veilDemo = demo;

function setState(s) {
	demo.state = s;
	document.body.dataset.state = s;
}

let worker;
let file = null; // the image being shown
let running = null; // {id, t0, stage, timer}
let queued = false; // run again when the current run ends
let nextID = 1;
let originalURL = "", resultURL = "";

function status(text) {
	ui.status.textContent = text;
}

function options() {
	const classes = [...document.querySelectorAll('input[name="class"]:checked')].map((c) => c.value);
	return {
		classes,
		method: ui.method.value,
		bbox: ui.bbox.checked,
		debug: ui.debug.checked,
		filename: file ? file.name : "image",
	};
}

async function start(f) {
	if (f) {
		if (!/^image\/(jpeg|png)$/.test(f.type) && !/\.(jpe?g|png)$/i.test(f.name)) {
			showError(`${f.name} is not a JPEG or PNG image`);
			return;
		}
		file = f;
		URL.revokeObjectURL(originalURL);
		originalURL = URL.createObjectURL(f);
		ui.original.src = originalURL;
		ui.result.removeAttribute("src");
		ui.download.hidden = true;
		ui.summary.hidden = true;
		ui.json.textContent = "";
	}
	if (!file) {
		return;
	}
	if (running) {
		queued = true; // the newest image and options win
		return;
	}
	const bytes = await file.arrayBuffer();
	const id = nextID++;
	running = { id, t0: performance.now(), stage: "starting", timer: 0 };
	running.timer = setInterval(tick, 100);
	setState("working");
	ui.run.disabled = true;
	tick();
	worker.postMessage({ type: "anonymize", id, bytes, options: options() }, [bytes]);
}

// tick shows the stage and the time so far: the page keeps running while
// the worker works.
function tick() {
	if (!running) {
		return;
	}
	const s = ((performance.now() - running.t0) / 1000).toFixed(1);
	const what = demo.version ? running.stage : (demo.loading || "loading veil");
	status(`Working… ${what} (${s} s)`);
}

function finish() {
	clearInterval(running.timer);
	running = null;
	ui.run.disabled = !file || demo.state === "error" && !demo.version;
	if (queued) {
		queued = false;
		start(null);
	}
}

function showError(msg) {
	demo.error = msg;
	demo.runs++;
	setState("error");
	status(`Error: ${msg}`);
}

const labels = { face: "face", "license-plate": "plate", person: "person", vehicle: "vehicle" };

function onResult(m) {
	const ms = performance.now() - running.t0;
	const type = `image/${m.format}`;
	URL.revokeObjectURL(resultURL);
	resultURL = URL.createObjectURL(new Blob([m.image], { type }));
	ui.result.src = resultURL;
	const base = file.name.replace(/\.[^.]*$/, "");
	ui.download.href = resultURL;
	ui.download.download = `${base}-anonymized.${m.format === "png" ? "png" : "jpg"}`;
	ui.download.hidden = false;

	let meta;
	try {
		meta = JSON.parse(m.detections);
	} catch {
		meta = { detections: [] };
	}
	const by = {};
	for (const d of meta.detections) {
		by[d.type_label] = (by[d.type_label] || 0) + 1;
	}
	const parts = Object.entries(by).map(([k, n]) => `${n} ${labels[k] || k}${n === 1 ? "" : "s"}`);
	ui.count.textContent = String(m.count);
	ui.breakdown.textContent = parts.length ? ` (${parts.join(", ")})` : "";
	ui.took.textContent = (ms / 1000).toFixed(2);
	ui.summary.hidden = false;
	ui.json.textContent = JSON.stringify(meta, null, 2);
	demo.last = {
		name: file.name, count: m.count, ms, workerMs: m.ms, format: m.format,
		width: m.width, height: m.height, detections: m.detections, backend: m.backend,
	};
	demo.error = "";
	status(`Done: ${file.name}, ${m.width}×${m.height}, with ${backendNames[m.backend] || m.backend}.`);
	const loaded = () => {
		if (!running) {
			setState("done");
		}
		demo.runs++;
	};
	ui.result.decode().then(loaded, loaded);
}

function startWorker() {
	worker = new Worker(`worker.js?${workerParams}`);
	worker.onmessage = (ev) => {
		const m = ev.data;
		switch (m.type) {
		case "loading":
			demo.loading = m.message;
			if (running) {
				tick();
			} else {
				status(`Loading veil… ${m.message}`);
			}
			break;
		case "ready":
			demo.version = m.version;
			demo.backend = m.backend;
			demo.backendNote = m.backendNote || "";
			demo.ep = m.ep || "";
			demo.epNote = m.epNote || "";
			ui.backend.textContent = m.backend !== "ort-web"
				? `Models run on veil's pure-Go runtime (WebAssembly, one thread)${demo.backendNote ? `: ${demo.backendNote}` : ""}.`
				: m.ep === "webgpu"
					? "Models run on onnxruntime-web (WebGPU)."
					: `Models run on onnxruntime-web (WebAssembly SIMD, ${m.threads} thread${m.threads === 1 ? "" : "s"})${demo.epNote ? `: ${demo.epNote}` : ""}.`;
			ui.version.textContent = `veil ${m.version}`;
			if (!running) {
				setState("ready");
				status("Ready: drop or choose an image.");
			}
			ui.run.disabled = !file;
			break;
		case "fatal":
			showError(`veil could not start: ${m.message}`);
			if (running) {
				clearInterval(running.timer);
				running = null;
			}
			break;
		case "progress":
			if (running && m.id === running.id) {
				running.stage = m.stage;
				tick();
			}
			break;
		case "result":
			if (running && m.id === running.id) {
				onResult(m);
				finish();
			}
			break;
		case "error":
			if (running && m.id === running.id) {
				showError(m.message);
				finish();
			}
			break;
		}
	};
	worker.onerror = (e) => showError(`the worker failed: ${e.message || e}`);
}

ui.file.addEventListener("change", () => {
	if (ui.file.files.length) {
		start(ui.file.files[0]);
	}
});
ui.run.addEventListener("click", () => start(null));
for (const ev of ["dragenter", "dragover"]) {
	ui.drop.addEventListener(ev, (e) => {
		e.preventDefault();
		ui.drop.classList.add("over");
	});
}
for (const ev of ["dragleave", "drop"]) {
	ui.drop.addEventListener(ev, () => ui.drop.classList.remove("over"));
}
ui.drop.addEventListener("drop", (e) => {
	e.preventDefault();
	if (e.dataTransfer.files.length) {
		start(e.dataTransfer.files[0]);
	}
});
// A file dropped beside the drop zone is not opened by the browser.
window.addEventListener("dragover", (e) => e.preventDefault());
window.addEventListener("drop", (e) => e.preventDefault());

startWorker();
