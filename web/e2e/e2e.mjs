// End-to-end test of veil's browser page in a real Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core; no browser is downloaded).
//
//   web/build.sh && cd web/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci && node e2e.mjs
//
// It builds the veil command, serves web/ with 'veil serve-web' on a free
// port and opens the page twice in a fresh browser profile: as it comes,
// where the models run on onnxruntime-web (web/ort/, which web/build.sh
// copies from npm), and with ?backend=go, where they run on veil's pure-Go
// runtime. It uploads testdata/group.jpg through the file input of both
// and checks that
//   1. the result's pixels changed inside every face box of the
//      detections (and hardly changed far from any detection),
//   2. the page found as many objects as the native 'veil detect' on the
//      same file (the page's defaults are the CLI's: faces and plates),
//      at the same places,
//   3. both backends found the same objects (boxes within 2 px, scores
//      within 0.01), and each page says which backend ran,
//   4. the pages made no request but for their own files: nothing
//      uploaded, nothing fetched from elsewhere,
//   5. a bad option (no class) is reported on the page,
//   6. the page's timers kept running while the worker worked.
// It saves a screenshot to artifacts/screenshot.png, times the browser
// against the native command on a 1224×813 (1 MP) version of the photo,
// and times both backends on group.jpg once their models are loaded; its
// last line is "backend times: ort-web N ms, go N ms".
//
// Environment: CHROMIUM (default /usr/bin/chromium), E2E_TIMEOUT_S
// (default 300, per anonymization), E2E_RUNS (default 3: the timed runs
// of group.jpg on onnxruntime-web, the median is printed; the pure-Go
// runtime's first run is timed), E2E_THREADS (onnxruntime-web's threads;
// default the page's: half the cores).

import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const web = path.join(root, "web");
const artifacts = path.join(here, "artifacts");
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const timeout = 1000 * Number(process.env.E2E_TIMEOUT_S || 300);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "veil-e2e-"));
const cleanups = [() => fs.rmSync(tmp, { recursive: true, force: true })];
let failures = 0;

// compareImages runs in the page: the mean absolute difference of the
// RGB values of #original and #result in each face box, and far from
// every detection (all).
async function compareImages({ faces, all }) {
	const pixels = (img) => {
		const c = document.createElement("canvas");
		c.width = img.naturalWidth;
		c.height = img.naturalHeight;
		const g = c.getContext("2d", { willReadFrequently: true });
		g.drawImage(img, 0, 0);
		return g.getImageData(0, 0, c.width, c.height);
	};
	const a = pixels(document.getElementById("original"));
	const b = pixels(document.getElementById("result"));
	if (a.width !== b.width || a.height !== b.height) {
		return { error: `sizes differ: ${a.width}×${a.height} and ${b.width}×${b.height}` };
	}
	const w = a.width, h = a.height;
	// The mean absolute difference of the RGB values in a box.
	const mad = ([x1, y1, x2, y2]) => {
		let s = 0, n = 0;
		for (let y = Math.max(0, y1); y < Math.min(h, y2); y++) {
			for (let x = Math.max(0, x1); x < Math.min(w, x2); x++) {
				const i = 4 * (y * w + x);
				s += Math.abs(a.data[i] - b.data[i]) + Math.abs(a.data[i + 1] - b.data[i + 1]) + Math.abs(a.data[i + 2] - b.data[i + 2]);
				n += 3;
			}
		}
		return n ? s / n : 0;
	};
	// Far from detections: outside every box grown by its size on each
	// side (a face's shape and soft edge reach 0.2 + 0.3 of it).
	const near = new Uint8Array(w * h);
	for (const [x1, y1, x2, y2] of all) {
		const gx = x2 - x1, gy = y2 - y1;
		for (let y = Math.max(0, y1 - gy); y < Math.min(h, y2 + gy); y++) {
			near.fill(1, y * w + Math.max(0, x1 - gx), y * w + Math.min(w, x2 + gx));
		}
	}
	let s = 0, n = 0;
	for (let p = 0; p < w * h; p++) {
		if (!near[p]) {
			const i = 4 * p;
			s += Math.abs(a.data[i] - b.data[i]) + Math.abs(a.data[i + 1] - b.data[i + 1]) + Math.abs(a.data[i + 2] - b.data[i + 2]);
			n += 3;
		}
	}
	return { faces: faces.map(mad), outside: n ? s / n : 0, outsidePixels: n / 3, size: [w, h] };
}

function log(...a) {
	console.log("e2e:", ...a);
}
function check(ok, what) {
	if (ok) {
		log(`ok   ${what}`);
	} else {
		log(`FAIL ${what}`);
		failures++;
	}
}

// veil runs the native command and returns its standard output.
function veil(...args) {
	return execFileSync(veilBin, args, { cwd: root, encoding: "utf8", maxBuffer: 1 << 26, stdio: ["ignore", "pipe", "pipe"] });
}

// timeNative anonymizes file with the native command as the page does
// (faces and plates, blur, JPEG quality 90) and returns the process's
// wall time, the engine's time (the metadata's duration) and the count.
// flags are more flags (-threads 1: one thread, as WebAssembly).
function timeNative(file, ...flags) {
	const out = path.join(tmp, "native-out");
	fs.rmSync(out, { recursive: true, force: true });
	const t0 = performance.now();
	veil("anonymize", "-q", "--metadata", ...flags, file, "-o", out);
	const wallMs = performance.now() - t0;
	const name = path.basename(file).replace(/\.[^.]*$/, "");
	const meta = JSON.parse(fs.readFileSync(path.join(out, name + ".json"), "utf8"));
	return { wallMs, engineMs: 1000 * meta.duration, count: meta.detections.length };
}

// serve starts 'veil serve-web' on a free port and returns its URL.
function serve() {
	return new Promise((resolve, reject) => {
		const p = spawn(veilBin, ["serve-web", "-addr", "127.0.0.1:0", "-dir", web], {
			cwd: root, stdio: ["ignore", "pipe", "inherit"],
		});
		cleanups.push(() => p.kill());
		let out = "";
		p.stdout.setEncoding("utf8");
		p.stdout.on("data", (d) => {
			out += d;
			const m = out.match(/at (http:\/\/127\.0\.0\.1:\d+\/)/);
			if (m) {
				resolve(m[1]);
			}
		});
		p.on("exit", (code) => reject(new Error(`veil serve-web exited (${code}): ${out}`)));
	});
}

// anonymize picks file in the page's file input (or, without file, clicks
// "Anonymize again") and waits for the page to finish; it returns the
// page's demo state.
async function anonymize(page, file) {
	const runs = await page.evaluate(() => window.veilDemo.runs);
	if (file) {
		await page.setInputFiles("#file", file);
	} else {
		await page.click("#run");
	}
	await page.waitForFunction((n) => window.veilDemo.runs > n, runs, { timeout, polling: 50 });
	const demo = await page.evaluate(() => window.veilDemo);
	if (demo.state !== "done") {
		throw new Error(`the page failed on ${path.basename(file)}: ${demo.error}`);
	}
	return demo;
}

// boxes returns the detections of the metadata JSON s.
function detections(s) {
	return JSON.parse(s).detections.map((d) => ({ type: d.type_label, box: d.bbox, score: d.score }));
}

// open opens the page at url and waits for it to be ready; it returns the
// page and its demo state.
async function open(url, pageErrors, ctx = context) {
	const page = await ctx.newPage();
	page.on("pageerror", (e) => pageErrors.push(String(e)));
	page.on("console", (m) => {
		if (m.type() === "error") {
			log(`browser console: ${m.text()}`);
		}
	});
	const t0 = performance.now();
	await page.goto(url);
	await page.waitForFunction(() => ["ready", "error"].includes(window.veilDemo.state), null, { timeout, polling: 50 });
	const demo = await page.evaluate(() => window.veilDemo);
	if (demo.state !== "ready") {
		throw new Error(`the page ${url} did not start: ${demo.error}`);
	}
	log(`veil ${demo.version} ready in the browser on ${demo.backend} in ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
		`(download, compile, models)${demo.backendNote ? ": " + demo.backendNote : ""}`);
	return { page, demo };
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

let veilBin;
let context;
let backendTimes = "";
try {
	if (!fs.existsSync(path.join(web, "veil.wasm")) || !fs.existsSync(path.join(web, "wasm_exec.js"))) {
		throw new Error("web/veil.wasm or web/wasm_exec.js is missing: run web/build.sh first");
	}
	if (!fs.existsSync(path.join(web, "ort", "ort-wasm-simd-threaded.wasm"))) {
		throw new Error("web/ort/ is missing (onnxruntime-web): run web/build.sh with npm installed");
	}
	if (!fs.existsSync(executablePath)) {
		throw new Error(`no browser at ${executablePath} (set CHROMIUM)`);
	}
	veilBin = path.join(tmp, "veil");
	log("building the native veil command");
	execFileSync("go", ["build", "-o", veilBin, "./cmd/veil"], { cwd: root, stdio: "inherit" });

	const group = path.join(root, "testdata", "group.jpg");
	const native = detections(veil("detect", group));
	log(`native 'veil detect testdata/group.jpg': ${native.length} detections`);

	const base = await serve();
	log(`serving web/ at ${base}`);

	// launch starts Chromium with a fresh profile in a temporary folder,
	// no background traffic, and the flag gpu; every request it makes is
	// kept in requests.
	const requests = [];
	const launch = async (gpu) => {
		const ctx = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(tmp, "profile-")), {
			executablePath,
			headless: true,
			viewport: { width: 1400, height: 1000 },
			args: ["--no-sandbox", gpu, "--disable-background-networking",
				"--disable-component-update", "--disable-sync", "--no-first-run",
				"--disable-default-apps", "--disable-extensions"],
		});
		ctx.on("request", (r) => requests.push({ url: r.url(), method: r.method() }));
		return ctx;
	};
	context = await launch("--disable-gpu");
	const pageErrors = [];

	const { page, demo: start } = await open(base + (process.env.E2E_THREADS ? `?threads=${process.env.E2E_THREADS}` : ""), pageErrors);
	check(start.backend === "ort-web", `the page runs the models on onnxruntime-web (backend ${start.backend}${start.backendNote ? ": " + start.backendNote : ""})`);
	check(start.ep === "wasm", `without a WebGPU adapter (--disable-gpu), on WebAssembly (execution provider ${start.ep})`);
	check(await page.evaluate(() => self.crossOriginIsolated), "the page is cross-origin isolated (onnxruntime-web's threads)");
	check(/warming up onnxruntime-web/.test(start.loading), `the page showed what it was loading (last: "${start.loading}")`);
	const backendLine = await page.textContent("#backend");
	log(`onnxruntime-web: ${backendLine}`);
	check(/onnxruntime-web/.test(backendLine), `the page says so: "${backendLine}"`);
	check(/Nothing is uploaded/.test(await page.textContent("#privacy")), "the page says nothing is uploaded");
	check(requests.some((r) => r.url === base + "veil.wasm"), "the worker loaded veil.wasm (requests are seen)");
	check(requests.some((r) => r.url === base + "ort/ort-wasm-simd-threaded.wasm"), "the worker loaded onnxruntime-web's WebAssembly from the page's origin");
	const loadRequests = requests.length;
	const network = () => requests.slice(loadRequests).filter((r) => !r.url.startsWith("blob:") && !r.url.startsWith("data:"));

	// 1 and 2: group.jpg, the page's defaults. A timer on the page
	// measures its longest stall meanwhile: the worker does the work.
	await page.evaluate(() => {
		let last = performance.now();
		window.stall = 0;
		window.stallTimer = setInterval(() => {
			const now = performance.now();
			window.stall = Math.max(window.stall, now - last);
			last = now;
		}, 50);
	});
	const res = await anonymize(page, group);
	const stall = await page.evaluate(() => {
		clearInterval(window.stallTimer);
		return window.stall;
	});
	check(stall < 1000, `the page stayed responsive while the worker worked (longest timer gap ${stall.toFixed(0)} ms)`);
	const browser = detections(res.last.detections);
	log(`browser (${res.last.backend}): ${res.last.count} detections in ${(res.last.ms / 1000).toFixed(2)} s (first run)`);
	check(res.last.backend === "ort-web", `the result says it ran on ${res.last.backend}`);
	check(/onnxruntime-web/.test(await page.textContent("#status")), `the page says which backend ran: "${await page.textContent("#status")}"`);
	check(res.last.count === browser.length, `the count shown (${res.last.count}) is the metadata's (${browser.length})`);
	check(browser.length === native.length, `the browser found ${browser.length} objects, the native command ${native.length}`);
	const unmatched = browser.filter((b) => !native.some((n) => n.type === b.type &&
		b.box.every((v, k) => Math.abs(v - n.box[k]) <= 2)));
	check(unmatched.length === 0, `every browser box is a native box (±2 px)${unmatched.length ? ": not " + JSON.stringify(unmatched) : ""}`);
	check(await page.textContent("#count") === String(native.length), "the page shows the count");

	const faces = browser.filter((d) => d.type === "face").map((d) => d.box);
	const diff = await page.evaluate(compareImages, { faces, all: browser.map((d) => d.box) });
	if (diff.error) {
		throw new Error(diff.error);
	}
	const minFace = Math.min(...diff.faces);
	const meanFace = diff.faces.reduce((s, v) => s + v, 0) / diff.faces.length;
	log(`mean |Δ| per RGB value: face boxes mean ${meanFace.toFixed(1)}, lowest ${minFace.toFixed(1)} (${diff.faces.length} faces); ` +
		`far from detections ${diff.outside.toFixed(2)} (${diff.outsidePixels} px)`);
	// Re-encoding alone (Go's JPEG at quality 90, chroma subsampled,
	// against the browser's decoding of the original) differs by about 3.
	check(diff.faces.length > 0 && minFace >= 10 && meanFace >= 20, "every face box changed (mean |Δ| ≥ 10, ≥ 20 over all faces)");
	check(diff.outside < 4, "the image far from detections is unchanged but for JPEG re-encoding (mean |Δ| < 4)");
	const made = network();
	check(made.length === 0, `no request while anonymizing${made.length ? ": " + made.map((r) => r.method + " " + r.url).join(", ") : ""}`);

	fs.mkdirSync(artifacts, { recursive: true });
	await page.screenshot({ path: path.join(artifacts, "screenshot.png"), fullPage: true });
	log("screenshot: web/e2e/artifacts/screenshot.png");

	// Timing: the photo at 1224×813 (1 MP), made by the browser's canvas,
	// anonymized in the page and by the native command.
	const big = path.join(tmp, "group-1224x813.jpg");
	const b64 = await page.evaluate(async () => {
		const img = document.getElementById("original");
		const c = document.createElement("canvas");
		c.width = 1224;
		c.height = 813;
		const g = c.getContext("2d");
		g.imageSmoothingQuality = "high";
		g.drawImage(img, 0, 0, c.width, c.height);
		const blob = await new Promise((r) => c.toBlob(r, "image/jpeg", 0.92));
		const bytes = new Uint8Array(await blob.arrayBuffer());
		let s = "";
		for (let i = 0; i < bytes.length; i += 0x8000) {
			s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
		}
		return btoa(s);
	});
	fs.writeFileSync(big, Buffer.from(b64, "base64"));
	const bigRes = await anonymize(page, big);
	const bigEngineMs = 1000 * JSON.parse(bigRes.last.detections).duration;
	veil("detect", group); // warm the file cache for the native runs
	const nGroup = timeNative(group);
	const nBig = timeNative(big);
	const nGroup1 = timeNative(group, "-threads", "1");
	const nBig1 = timeNative(big, "-threads", "1");
	check(bigRes.last.count === nBig.count, `1 MP: the browser found ${bigRes.last.count} objects, the native command ${nBig.count}`);
	const groupEngineMs = 1000 * JSON.parse(res.last.detections).duration;
	const f = (ms) => `${(ms / 1000).toFixed(2)} s`;
	log(`timings, faces + plates, blur (browser: from the page's request to the result, decoding and encoding included; native: the`);
	log(`  'veil anonymize' process, model loading included; engine: the metadata's duration, Anonymize alone; ${os.cpus().length} CPUs):`);
	for (const [name, b, bEngine, n, n1] of [["group.jpg 720×478 ", res, groupEngineMs, nGroup, nGroup1], ["group 1224×813 1 MP", bigRes, bigEngineMs, nBig, nBig1]]) {
		log(`  ${name}: browser ${f(b.last.ms)} (engine ${f(bEngine)}); native ${f(n.wallMs)} (engine ${f(n.engineMs)}), ` +
			`one thread ${f(n1.wallMs)} (engine ${f(n1.engineMs)}); engine browser/native ${(bEngine / n.engineMs).toFixed(0)}×, /one thread ${(bEngine / n1.engineMs).toFixed(0)}×`);
	}

	// 3: the pure-Go runtime on the same photo, in a second page; then
	// both backends timed on group.jpg, their models loaded.
	const { page: goPage, demo: goStart } = await open(base + "?backend=go", pageErrors);
	check(goStart.backend === "go", `?backend=go runs the models on the pure-Go runtime (backend ${goStart.backend})`);
	check(/pure-Go/.test(await goPage.textContent("#backend")), `the page says so: "${await goPage.textContent("#backend")}"`);
	const goRes = await anonymize(goPage, group);
	const goDets = detections(goRes.last.detections);
	check(goRes.last.backend === "go", `the result says it ran on ${goRes.last.backend}`);
	const pairs = goDets.map((g) => browser.find((o) => o.type === g.type && o.box.every((v, k) => Math.abs(v - g.box[k]) <= 2)));
	const badScores = goDets.filter((g, k) => pairs[k] && Math.abs(g.score - pairs[k].score) > 0.01);
	const worstScore = Math.max(0, ...goDets.map((g, k) => pairs[k] ? Math.abs(g.score - pairs[k].score) : 0));
	check(goDets.length === browser.length && pairs.every(Boolean),
		`both backends found the same ${browser.length} objects (pure Go: ${goDets.length}; boxes within 2 px)`);
	check(badScores.length === 0, `their scores are within 0.01 (largest difference ${worstScore.toFixed(4)})`);
	const goFaces = goDets.filter((d) => d.type === "face").map((d) => d.box);
	const goDiff = (await goPage.evaluate(compareImages, { faces: goFaces, all: goDets.map((d) => d.box) })).faces;
	check(goDiff.length > 0 && Math.min(...goDiff) >= 10, `pure Go: every face box changed (lowest mean |Δ| ${Math.min(...goDiff).toFixed(1)})`);

	const nRuns = Math.max(1, Number(process.env.E2E_RUNS || 3));
	await anonymize(page, group); // the same file as the pure-Go page's, back from the 1 MP one
	const ortMs = [];
	for (let k = 0; k < nRuns; k++) {
		ortMs.push((await anonymize(page, null)).last.ms);
	}
	const ortTime = median(ortMs);
	const goTime = goRes.last.ms;
	log(`group.jpg, models loaded, from the page's request to the result: onnxruntime-web ${ortMs.map((ms) => ms.toFixed(0)).join(", ")} ms ` +
		`(median ${ortTime.toFixed(0)}), pure Go ${goTime.toFixed(0)} ms: ${(goTime / ortTime).toFixed(1)}× faster; ` +
		`target ≤ 1500 ms and ≥ 5×: ${ortTime <= 1500 && goTime >= 5 * ortTime ? "met" : "NOT met"}`);
	backendTimes = `backend times: ort-web ${ortTime.toFixed(0)} ms, go ${goTime.toFixed(0)} ms`;
	await goPage.close();

	// 4: WebGPU (?ep=webgpu; by default the page takes it where the
	// browser has a hardware adapter): Chromium's --enable-unsafe-webgpu
	// gives headless Chromium SwiftShader's adapter, on the CPU (its time
	// says nothing of a GPU's). The page finds what the WebAssembly run
	// found.
	// SwiftShader makes it slow (minutes): only with E2E_WEBGPU=1.
	if (process.env.E2E_WEBGPU !== "1") {
		log("WebGPU: skipped (E2E_WEBGPU=1 runs the page on SwiftShader's WebGPU adapter, about 4 minutes)");
	} else {
		const gpuContext = await launch("--enable-unsafe-webgpu");
		cleanups.push(() => gpuContext.close().catch(() => {}));
		const { page: gpuPage, demo: gpuStart } = await open(base + "?ep=webgpu", pageErrors, gpuContext);
		const gpuLine = await gpuPage.textContent("#backend");
		log(`with a WebGPU adapter: ${gpuLine}`);
		check(gpuStart.backend === "ort-web" && gpuStart.ep === "webgpu",
			`with a WebGPU adapter, the page runs the models on onnxruntime-web's WebGPU (${gpuStart.backend}, ${gpuStart.ep}${gpuStart.epNote ? ": " + gpuStart.epNote : ""})`);
		check(/WebGPU/.test(gpuLine), `the page says so: "${gpuLine}"`);
		check(requests.some((r) => r.url === base + "ort/ort-wasm-simd-threaded.asyncify.wasm"), "the worker loaded onnxruntime-web's WebGPU build from the page's origin");
		const gpuRes = await anonymize(gpuPage, group);
		const gpuDets = detections(gpuRes.last.detections);
		const gpuPairs = gpuDets.map((g) => browser.find((o) => o.type === g.type && o.box.every((v, k) => Math.abs(v - g.box[k]) <= 2)));
		const gpuWorst = Math.max(0, ...gpuDets.map((g, k) => gpuPairs[k] ? Math.abs(g.score - gpuPairs[k].score) : 0));
		check(gpuDets.length === browser.length && gpuPairs.every(Boolean) && gpuWorst <= 0.01,
			`WebGPU found the same ${browser.length} objects as WebAssembly (${gpuDets.length}; boxes within 2 px, scores within 0.01: largest difference ${gpuWorst.toFixed(4)})`);
		const gpuFaces = gpuDets.filter((d) => d.type === "face").map((d) => d.box);
		const gpuDiff = (await gpuPage.evaluate(compareImages, { faces: gpuFaces, all: gpuDets.map((d) => d.box) })).faces;
		check(gpuDiff.length > 0 && Math.min(...gpuDiff) >= 10, `WebGPU: every face box changed (lowest mean |Δ| ${Math.min(...gpuDiff).toFixed(1)})`);
		log(`group.jpg on WebGPU (SwiftShader, on the CPU): ${gpuRes.last.ms.toFixed(0)} ms`);
		await gpuContext.close();
	}

	// 5: a bad option is reported on the page.
	for (const c of await page.$$('input[name="class"]:checked')) {
		await c.uncheck();
	}
	const runs = await page.evaluate(() => window.veilDemo.runs);
	await page.click("#run");
	await page.waitForFunction((n) => window.veilDemo.runs > n, runs, { timeout });
	const bad = await page.evaluate(() => window.veilDemo);
	check(bad.state === "error" && /no class given/.test(bad.error) && /no class given/.test(await page.textContent("#status")),
		`no class: the page says "${await page.textContent("#status")}"`);

	check(pageErrors.length === 0, `no uncaught page errors${pageErrors.length ? ": " + pageErrors.join("; ") : ""}`);
	const foreign = requests.filter((r) => !r.url.startsWith(base) && !r.url.startsWith("blob:") && !r.url.startsWith("data:"));
	const nonGet = requests.filter((r) => r.method !== "GET");
	check(foreign.length === 0 && nonGet.length === 0,
		`only GETs of the page's own files (${requests.length} requests${foreign.length ? "; foreign: " + foreign.map((r) => r.url).join(", ") : ""}${nonGet.length ? "; not GET: " + nonGet.map((r) => r.method + " " + r.url).join(", ") : ""})`);
} catch (e) {
	log(`FAIL ${e.stack || e}`);
	failures++;
} finally {
	if (context) {
		await context.close().catch(() => {});
	}
	for (const c of cleanups.reverse()) {
		try {
			c();
		} catch {
			// already gone
		}
	}
}
if (failures) {
	log(`${failures} failure(s)`);
} else {
	log("PASS");
}
if (backendTimes) {
	console.log(backendTimes);
}
process.exit(failures ? 1 : 0);
