#!/usr/bin/env bash
# The project's test command (the README's second set-up command).
# Tests that need ../shared (conformance data, evaluation data) say so and
# skip when it is absent.
#
# Each phase prints a line when it starts and one with its duration when it
# ends, so a run is never silent for minutes. A full run takes 8-10 minutes
# on 2 cores of an AMD EPYC (476-587 s; CI before the PostgreSQL and S3 tests: 529 s).
set -euo pipefail
cd "$(dirname "$0")"

start=$SECONDS
# phase NAME COMMAND [ARG...]: run one phase of the tests, timed.
phase() {
	local name=$1 t=$SECONDS
	shift
	echo "test.sh: $name …"
	"$@"
	echo "test.sh: $name done in $((SECONDS - t))s"
}
fuzz() { # fuzz TARGET EXECUTIONS PACKAGE
	go test -run '^$' -fuzz "^$1\$" -fuzztime "$2" -fuzzminimizetime 50x "$3"
}

phase "go vet" go vet ./...
phase "go vet -tags purego" go vet -tags purego ./...
# Pure Go builds everywhere: a 32-bit platform (where int is 32 bits),
# macOS on Apple silicon, Windows. One phase each, so their cost shows.
phase "go vet linux/386" env GOARCH=386 go vet ./...
phase "go vet darwin/arm64" env GOOS=darwin GOARCH=arm64 go vet ./...
phase "go vet windows/amd64" env GOOS=windows go vet ./...
# staticcheck (from the module proxy, pinned): unused code, deprecated
# calls, simplifications.
phase "staticcheck" go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
phase "go test ./..." go test -count=1 ./...
# The portable kernels (the WASM build uses them), against onnxruntime's
# outputs on synthetic and real inputs and the conformance suite.
purego_tests() {
	go test -count=1 -tags purego ./onnx/internal/...
	go test -count=1 -tags purego -run 'TestGolden|TestConformance|TestRunErrors|TestDynamicShapes' ./onnx/
}
phase "go test -tags purego (portable kernels)" purego_tests
# Concurrency of a loaded model and of the kernels.
race_tests() {
	go test -count=1 -race -run 'TestConcurrentRuns|TestRunErrors' ./onnx/
	go test -count=1 -race ./onnx/internal/...
}
phase "go test -race (runtime)" race_tests
# Fuzz budgets are counts of executions, not durations: a duration-bounded
# -fuzztime can fail with "context deadline exceeded" when it expires while a
# worker is mid-call (a race in Go's fuzz coordinator, go.dev/issue/75804,
# fixed in Go 1.27). The counts take 10-20 s each on this project's CI machine.
fuzz_all() {
	# A short fuzz of the protobuf decoder and the loader.
	fuzz FuzzDecodeModel 200000x ./onnx/internal/pb/
	fuzz FuzzLoad 600000x ./onnx/
	# The option parser the CLI, the server and the browser share: what it
	# accepts the engine must accept.
	fuzz FuzzParamsSet 300000x .
	# Ignore regions never ignore a pixel outside the regions as written (overflow).
	fuzz FuzzIgnores 200000x .
	# The EXIF sanitizer decides what of a photo's metadata may leave with it.
	fuzz FuzzSanitizeEXIF 600000x ./internal/imageio/
}
phase "fuzz (5 targets)" fuzz_all
# The browser build (cmd/veil-wasm, onnx/ortweb, web/): its JS API and the
# onnxruntime-web backend under node with Go's js/wasm test runner, then
# the page end to end in a real Chromium on both backends (web/e2e/e2e.mjs:
# Debian's /usr/bin/chromium driven by playwright-core; no browser is
# downloaded; web/build.sh installs onnxruntime-web with npm ci). .ci/run
# installs chromium, node and npm.
wasm_tests() {
	GOOS=js GOARCH=wasm go vet ./cmd/veil-wasm ./onnx/ortweb
	local wasm_exec
	wasm_exec="$(go env GOROOT)/lib/wasm/go_js_wasm_exec" # Go 1.24+
	[ -x "$wasm_exec" ] || wasm_exec="$(go env GOROOT)/misc/wasm/go_js_wasm_exec"
	if command -v node >/dev/null; then
		# onnxruntime-web (web/package.json) for the tests of onnx/ortweb
		# and of the JS API on it; without npm they run on pure Go only.
		if command -v npm >/dev/null; then
			(cd web && npm ci --no-audit --no-fund --ignore-scripts) ||
				echo "test.sh: npm ci in web/ failed: the js/wasm tests skip onnxruntime-web"
		fi
		GOOS=js GOARCH=wasm go test -count=1 -exec="$wasm_exec" ./cmd/veil-wasm ./onnx/ortweb
	else
		echo "test.sh: skipping the js/wasm tests of cmd/veil-wasm: node is not installed"
	fi
}
phase "js/wasm (cmd/veil-wasm)" wasm_tests
browser_e2e() {
	local missing=""
	[ -x /usr/bin/chromium ] || missing="$missing /usr/bin/chromium (apt-get install chromium; .ci/run does)"
	command -v node >/dev/null || missing="$missing node"
	command -v npm >/dev/null || missing="$missing npm"
	if [ -z "$missing" ]; then
		web/build.sh && (cd web/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund && node e2e.mjs)
	else
		echo "test.sh: skipping the browser end-to-end test (web/e2e): missing$missing"
	fi
}
phase "browser end to end (web/e2e)" browser_e2e
# The optional onnxruntime backend (-tags ort, cgo): go vet with the tag,
# the default build without cgo, then the parity tests (pure Go vs
# onnxruntime: detections, masks, raw outputs of every model) on the CPU
# library of onnxruntime-node, installed here by npm when missing.
phase "go build without cgo" env CGO_ENABLED=0 go build ./...
ort_tests() {
	local ort_lib="$PWD/bench/ort/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"
	local missing=""
	command -v gcc >/dev/null || missing="$missing gcc"
	if [ ! -e "$ort_lib" ] && [ -z "${VEIL_ORT_LIB:-}" ]; then
		command -v npm >/dev/null || missing="$missing npm"
	fi
	if [ -z "$missing" ]; then
		if [ -z "${VEIL_ORT_LIB:-}" ]; then
			[ -e "$ort_lib" ] || (cd bench/ort && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund)
			export VEIL_ORT_LIB="$ort_lib"
		fi
		go vet -tags ort ./...
		go test -tags ort -count=1 -run 'ORT|Ort|Backend' . ./onnx/... ./cmd/...
	else
		echo "test.sh: skipping the onnxruntime backend tests (-tags ort): missing$missing"
	fi
}
phase "onnxruntime backend (-tags ort)" ort_tests
echo "test.sh: all phases passed in $((SECONDS - start))s"
